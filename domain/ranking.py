"""A cycle's ranking (xếp hạng): the council's close of the cycle's appraisal,
then each version of the ranking as proposed, approved and published
(Decision 4203, Articles 9-10; docs/SEASON.md).

One per cycle, made by the first command on it (`close_appraisal` without a
unit). Units' commands read it: after the close nothing is appraised, and a
score is corrected only once a version is published.

The manifest a council chair signs lists every unit of the cycle: the units
that submitted, with self total, appraised total, index, band and rank, and
apart from them the units that never submitted or were merged, which are never
ranked as if they scored 0. Ranks compare appraised totals to 4 decimals,
highest first; equal totals share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import rfc8785
from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.framework import Framework
from domain.framework.decimals import round_half_up
from domain.totals import unit_totals as computed_totals

RANKING_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/rankings")
RANK_PLACES = 4


@lru_cache(maxsize=1024)
def ranking_aggregate_id(cycle: str) -> UUID:
    return uuid5(RANKING_NAMESPACE, cycle)


# -- one unit's line -----------------------------------------------------------------
def unit_totals(assessment: Any, framework: Framework) -> dict:
    """Self total, appraised total, index and band of a submitted unit: as its
    close (or last correction) recorded them, else computed and kept on the
    assessment until its next event."""
    recorded = getattr(assessment, "totals", None)
    if recorded is not None and getattr(assessment, "closed", False):
        return recorded
    memo = assessment.__dict__.get("_ranking_totals")
    if memo is not None and memo[0] == assessment.version and memo[1] is framework:
        return memo[2]
    totals = computed_totals(framework, assessment.self_inputs, assessment.appraised_view())
    assessment.__dict__["_ranking_totals"] = (assessment.version, framework, totals)
    return totals


def unit_entry(cycle: Any, unit: dict, assessment: Any, framework: Framework) -> dict:
    """The unit's line of the manifest, without its rank."""
    code = unit["code"]
    line: dict = {"unit": code, "name": unit["name"]}
    if "type" in unit:
        line["type"] = unit["type"]
    into = cycle.merged.get(code)
    if into is not None:
        return {**line, "status": "merged", "into": into}
    if assessment is None or not assessment.submitted:
        return {**line, "status": "not_submitted"}
    scored_against = framework.for_type(unit.get("type")) if framework.typed else framework
    return {**line, "status": "submitted", **unit_totals(assessment, scored_against)}


def rank_key(appraised_total: str) -> Decimal:
    return round_half_up(Decimal(appraised_total), RANK_PLACES)


def with_ranks(lines: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """(ranked, unranked): submitted units highest first with competition ranks,
    the others by code."""
    submitted = [x for x in lines if x["status"] == "submitted"]
    others = sorted((x for x in lines if x["status"] != "submitted"), key=lambda x: x["unit"])
    submitted.sort(key=lambda x: (-rank_key(x["appraised_total"]), x["unit"]))
    ranked: list[dict] = []
    previous: Decimal | None = None
    rank = 0
    for position, line in enumerate(submitted, start=1):
        key = rank_key(line["appraised_total"])
        if key != previous:
            rank, previous = position, key
        ranked.append({**line, "rank": rank})
    return ranked, others


def manifest(
    cycle: Any, version: int, framework: Framework, assessments: Mapping[str, Any]
) -> dict:
    """What the council chair signs: every unit of the cycle, by the log now."""
    lines = [unit_entry(cycle, u, assessments.get(u["code"]), framework) for u in cycle.units]
    ranked, unranked = with_ranks(lines)
    return {
        "cycle": cycle.cycle,
        "version": version,
        "framework": cycle.framework,
        "ranked": ranked,
        "unranked": unranked,
    }


def digest(content: dict) -> str:
    return "sha256:" + hashlib.sha256(rfc8785.dumps(content)).hexdigest()


def lines_by_unit(content: dict) -> dict[str, dict]:
    """Each unit's line of a manifest without its rank (what a unit's replay checks)."""
    out = {}
    for line in [*content.get("ranked", ()), *content.get("unranked", ())]:
        out[line["unit"]] = {k: v for k, v in line.items() if k != "rank"}
    return out


def claim_problem(
    kind: str, cycle: Any, unit: dict, assessment: Any, framework: Framework, expected: dict
) -> str | None:
    """Whether one unit bears out a cross-unit command, as verify checks it on
    the unit's replay: "closed" (the cycle's close: no submitted unit still
    open) or "lines" (a manifest: the unit's line is what its log gives)."""
    code = unit["code"]
    if kind == "closed":
        open_ = (
            assessment is not None
            and assessment.submitted
            and not getattr(assessment, "closed", False)
            and code not in cycle.merged
        )
        return f"the command is refused: units_not_closed ({code})" if open_ else None
    line = unit_entry(cycle, unit, assessment, framework)
    if expected.get(code) != line:
        return f"the manifest's line for unit {code} is not what the log gives"
    return None


def check_shape(content: object, cycle: Any, version: int, framework: Framework) -> None:
    """What a manifest must be whatever the units' scores: its cycle, version and
    framework, every unit of the cycle exactly once, ranks that follow from its
    own totals. Each unit's line (totals, index, band) is checked against the
    unit apart (claim_problem)."""
    try:
        if not isinstance(content, dict) or set(content) != {
            "cycle",
            "version",
            "framework",
            "ranked",
            "unranked",
        }:
            raise ValueError("members")
        if (content["cycle"], content["version"], content["framework"]) != (
            cycle.cycle,
            version,
            cycle.framework,
        ) or type(content["version"]) is not int:
            raise ValueError("cycle, version or framework")
        ranked, unranked = content["ranked"], content["unranked"]
        if not isinstance(ranked, list) or not isinstance(unranked, list):
            raise ValueError("lists")
        names = {u["code"]: u for u in cycle.units}
        seen: list[str] = []
        for line in [*ranked, *unranked]:
            if not isinstance(line, dict) or line.get("unit") not in names:
                raise ValueError("unit")
            seen.append(line["unit"])
        if len(seen) != len(set(seen)) or set(seen) != set(names):
            raise ValueError("every unit exactly once")
        for line in ranked:  # each line's totals, index and band: checked per unit
            if line.get("status") != "submitted":
                raise ValueError("status")
        for line in unranked:
            if line.get("status") not in ("not_submitted", "merged"):
                raise ValueError("status")
        again, _ = with_ranks([{k: v for k, v in x.items() if k != "rank"} for x in ranked])
        if again != ranked:
            raise ValueError("ranks")
        if sorted(unranked, key=lambda x: x["unit"]) != unranked:
            raise ValueError("order")
    except (ValueError, TypeError, KeyError, ArithmeticError) as e:
        raise ranking_differs(f"({e})") from None


def ranking_differs(where: str) -> DomainError:
    return DomainError(
        "ranking_differs",
        f"Bảng xếp hạng đã ký khác với kết quả tính từ nhật ký {where[:80]}. "
        "Hãy lấy lại bản dự thảo và ký lại.",
        f"The signed ranking differs from the one computed from the log {where[:80]}. "
        "Fetch the draft again and sign it.",
        field="manifest",
        status=409,
    )


def first_difference(signed: dict, computed: dict) -> str:
    a, b = lines_by_unit(signed), lines_by_unit(computed)
    for unit in sorted(b):
        if a.get(unit) != b[unit]:
            return f"(unit {unit})"
    return "(ranks or order)"


# -- the aggregate -----------------------------------------------------------------------
class Ranking(Aggregate):
    @staticmethod
    def create_id(cycle: str) -> UUID:
        return ranking_aggregate_id(cycle)

    # Event handlers replace containers, never change them in place (verify
    # keeps a shallow copy after each command: audit/deployment_pass.py).

    @event("AppraisalClosed")
    def __init__(self, cycle: str, signed: dict):
        """The council closed the cycle's appraisal: every submitted unit was
        closed (a unit still open refuses the close)."""
        self.cycle = cycle
        self.closed = True
        self.versions: tuple[dict, ...] = ()  # oldest first

    def has_published(self) -> bool:
        return any(v["state"] == "published" for v in self.versions)

    def next_version(self) -> int:
        return len(self.versions) + 1

    def version_of(self, number: object) -> dict:
        if type(number) is not int or not 1 <= number <= len(self.versions):
            raise DomainError(
                "version_not_found",
                f"Không có phiên bản xếp hạng {str(number)[:20]}.",
                f"No ranking version {str(number)[:20]}.",
                field="version",
                status=404,
            )
        return self.versions[number - 1]

    # -- proposal --------------------------------------------------------------
    def propose(self, content: dict, signed: dict) -> None:
        self._proposed(version=content["version"], digest=digest(content), signed=signed)

    @event("Proposed")
    def _proposed(self, version: int, digest: str, signed: dict) -> None:
        content = json.loads(signed["command"])["manifest"]  # signed, kept once
        # A pending proposal is superseded by a newer one.
        earlier = tuple(
            {**v, "state": "superseded"} if v["state"] in ("proposed", "approved") else v
            for v in self.versions
        )
        self.versions = (
            *earlier,
            {"version": version, "digest": digest, "state": "proposed", "manifest": content},
        )

    # -- approval and publication -------------------------------------------------
    def approve(self, number: object, signed_digest: object, decision: dict, signed: dict) -> None:
        v = self._latest(number, "proposed", "not_proposed")
        if signed_digest != v["digest"]:
            raise DomainError(
                "digest_differs",
                "Mã băm đã ký khác mã băm của bản đề xuất.",
                "The signed digest differs from the proposal's.",
                field="digest",
                status=409,
            )
        self._approved(version=v["version"], decision=decision, signed=signed)

    @event("Approved")
    def _approved(self, version: int, decision: dict, signed: dict) -> None:
        self._set(version, state="approved", decision=decision)

    def publish(self, number: object, signed: dict) -> None:
        v = self._latest(number, "approved", "not_approved")
        self._published(version=v["version"], signed=signed)

    @event("Published")
    def _published(self, version: int, signed: dict) -> None:
        self._set(version, state="published")

    def _latest(self, number: object, state: str, code: str) -> dict:
        v = self.version_of(number)
        if v["state"] != state or v is not self.versions[-1]:
            raise DomainError(
                code,
                f"Phiên bản {v['version']} đang ở trạng thái '{v['state']}', "
                f"không phải '{state}' mới nhất.",
                f"Version {v['version']} is '{v['state']}', not the latest '{state}'.",
                field="version",
                status=409,
            )
        return v

    def _set(self, version: int, **changes: Any) -> None:
        self.versions = tuple(
            {**v, **changes} if v["version"] == version else v for v in self.versions
        )
