"""Last year's figures in a document (docs/SEASON.md "Year on year"), from the
log alone, as the reads show them (projections/queries_previous.py):

- a cycle linked to a cycle run here: that cycle's latest published ranking
  version at the document's tree size; each unit's appraised total and rank
  from the version's signed lines, each criterion's appraised score from the
  unit's assessment as it stood when the version was published;
- a cycle linked to an imported past cycle: the figures the imports state.

Codes and units pass through the link's maps (identity where not mapped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from application.documents.fold import fold
from domain.assessment import Assessment, leaf_input
from domain.framework import compute, from_dict
from domain.framework_record import framework_aggregate_id
from domain.past_results import PastCycle
from domain.ranking import Ranking


@dataclass
class Previous:
    cycle: str
    year: int
    imported: bool
    code_map: dict
    unit_map: dict
    version: int | None = None  # the published ranking version (a cycle run here)
    published_leaf: int | None = None
    totals: dict[str, tuple[Decimal | None, int | None]] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)  # imported: unit -> sha256s

    def unit(self, unit: str) -> str | None:
        return self.unit_map[unit] if unit in self.unit_map else unit

    def code(self, code: str) -> str | None:
        return self.code_map[code] if code in self.code_map else code

    def total(self, unit: str) -> tuple[Decimal | None, int | None]:
        other = self.unit(unit)
        return self.totals.get(other, (None, None)) if other is not None else (None, None)

    def described(self) -> str:
        if self.imported:
            return f"Năm trước: kỳ {self.cycle} (năm {self.year}), nhập từ bảng kết quả đã công bố"
        if self.version is None:
            return f"Năm trước: kỳ {self.cycle} (năm {self.year}), chưa công bố xếp hạng"
        return (
            f"Năm trước: kỳ {self.cycle} (năm {self.year}), "
            f"phiên bản xếp hạng {self.version} đã công bố"
        )


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def find(log: Any, cycle: Any, units: tuple[str, ...] = ()) -> Previous | None:
    """The previous cycle's figures by unit, or None when `cycle` names none.
    `units`: this cycle's units whose previous sheets will be asked for, so a
    log read from records is read once more, not once per aggregate."""
    link = cycle.previous
    if link is None:
        return None
    found = Previous(
        link["cycle"], link["year"], link["imported"], link["code_map"], link["unit_map"]
    )
    if link["imported"]:
        oid = PastCycle.create_id(link["cycle"])
        log.need([oid])
        past = fold(oid, log.events(oid))
        for unit, r in (past.results if past else {}).items():
            found.totals[unit] = (_decimal(r.get("total")), r.get("rank"))
            found.sources[unit] = list(r.get("sources", ()))
        return found
    from domain.cycle import Cycle

    oid = Ranking.create_id(link["cycle"])
    others = [found.unit(u) for u in units]
    sheets = [Assessment.create_id(link["cycle"], o) for o in others if o is not None]
    log.need([oid, Cycle.create_id(link["cycle"]), *sheets])
    published: dict[int, int] = {}

    def watch(event: Any, _aggregate: Any, index: int) -> None:
        if type(event).__name__ == "Published":
            published[event.version] = index

    ranking = fold(oid, log.events(oid), watch)
    if ranking is None or not published:
        return found
    found.version = max(published)
    found.published_leaf = published[found.version]
    manifest = ranking.versions[found.version - 1]["manifest"]
    for line in manifest["ranked"]:
        found.totals[line["unit"]] = (Decimal(line["appraised_total"]), line["rank"])
    return found


def unit_scores(log: Any, found: Previous, unit: str) -> dict[str, Decimal]:
    """The unit's counterpart's appraised score on each previous criterion code."""
    other = found.unit(unit)
    if other is None:
        return {}
    if found.imported:
        past = fold(PastCycle.create_id(found.cycle), log.events(PastCycle.create_id(found.cycle)))
        scores = (past.results.get(other, {}) if past else {}).get("scores") or {}
        return {code: Decimal(v) for code, v in scores.items()}
    if found.version is None or other not in found.totals:
        return {}  # never published, or the unit was not ranked (not submitted, merged)
    oid = Assessment.create_id(found.cycle, other)
    log.need([oid])
    events = [e for e in log.events(oid) if e[0] < found.published_leaf]
    assessment = fold(oid, events)
    if assessment is None:
        return {}
    cycle = _cycle(log, found.cycle)
    record_id = framework_aggregate_id(cycle.framework)
    framework = cycle.framework_for(
        from_dict(fold(record_id, log.events(record_id)).framework), other
    )
    result = compute(
        framework,
        {k: leaf_input(v) for k, v in assessment.appraised_view().items()},
        allow_missing=True,
    )
    return {node.code: result.node(node.code).score for node in framework.nodes}


def _cycle(log: Any, cycle: str) -> Any:
    from domain.cycle import Cycle

    oid = Cycle.create_id(cycle)
    log.need([oid])
    return fold(oid, log.events(oid))
