"""A document's figures from the log at a tree size: what an export writes and
what `verify-document` compares a file with.

`StoreLog` reads an event store (a server's, or a data directory's after
`verify` checked it); `RecordsLog` keeps the few aggregates a document needs
from a stream of log records (an audit bundle).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from uuid import UUID

from application.documents import plan_sheet, previous, ranking_table, scoring_sheet
from application.documents.fold import Event, fold, from_store
from application.documents.model import Document
from application.transparency import merkle
from application.transparency.leaf import event_leaf_hash
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.framework import Framework, from_dict
from domain.framework_record import framework_aggregate_id
from domain.ranking import Ranking

FRAMEWORK_TOPIC = "domain.framework_record:"
# kept whole from the records: every framework, every imported past cycle
KEPT_TOPICS = (FRAMEWORK_TOPIC, "domain.past_results:")
CYCLE_OPENED = "domain.cycle:Cycle.Opened"


class StoreLog:
    def __init__(self, app, size: int):
        self.app, self.size = app, size

    def events(self, oid: UUID) -> list[Event]:
        return from_store(self.app, oid, self.size)

    def need(self, oids: Iterable[UUID]) -> None:
        """Nothing to do: a store is read aggregate by aggregate."""


class RecordsLog:
    """The events of one document's aggregates among log records `(index, leaf
    hash, oid, version, topic, state)` below `size`, read in one pass that also
    hashes every event read (section 5) into the tree of the first `size`
    leaves: `root` is that tree's head, so a caller holding a signed root knows
    the events computed from are exactly the ones it covers, whatever was read
    before (an operator who swaps an event between two reads of a live store
    cannot pass it off). `records` gives a fresh stream each call: a document
    that needs more aggregates than it knew at first (the previous cycle's,
    named by a link folded from the first pass) reads the log once more, and
    that pass must make the same root."""

    def __init__(
        self, records: Callable[[], Iterable[tuple]], size: int, kind: str, cycle: str, subject: str
    ):
        self.records, self.size, self.unit = records, size, subject
        wanted = {Cycle.create_id(cycle).hex, _subject_id(kind, cycle, subject).hex}
        wanted.add(Ranking.create_id(cycle).hex)  # a plan needs the cycle published
        self.by_oid, self.complete, self.root = self._read(wanted)

    def _read(self, wanted: set[str]) -> tuple[dict[str, list[Event]], bool, bytes]:
        by_oid: dict[str, list[Event]] = {oid: [] for oid in wanted}
        frontier = merkle.CompactRange()
        complete = True  # every leaf below `size` read, in order, with its event
        for index, _hash, oid, version, topic, state in self.records():
            if index >= self.size:
                break
            if index != frontier.size or topic is None or state is None:
                complete = False
                break
            state = bytes(state)
            try:
                frontier.append(event_leaf_hash(oid, version, topic, state))
            except (ValueError, TypeError):
                complete = False
                break
            if topic == CYCLE_OPENED:
                self._other_cycle(state, by_oid)
            if oid in by_oid or topic.startswith(KEPT_TOPICS):
                by_oid.setdefault(oid, []).append((index, version, topic, state))
        return by_oid, complete and frontier.size == self.size, frontier.root()

    def _other_cycle(self, state: bytes, by_oid: dict) -> None:
        """Any cycle may be the one a link names as last year's: its cycle, its
        ranking and its assessment of a unit of the same code are kept as the
        log is read (a handful of aggregates), so the usual link needs no
        second pass. A unit map or a past cycle read later still may."""
        try:
            code = json.loads(state)["cycle"]
        except (ValueError, KeyError, TypeError):
            return  # a damaged event: the document's own fold reports it
        if not isinstance(code, str):
            return
        for oid in (Cycle.create_id(code), Ranking.create_id(code)):
            by_oid.setdefault(oid.hex, [])
        try:
            by_oid.setdefault(Assessment.create_id(code, self.unit).hex, [])
        except (TypeError, ValueError):
            pass

    def need(self, oids: Iterable[UUID]) -> None:
        missing = {oid.hex for oid in oids} - set(self.by_oid)
        if not missing:
            return
        by_oid, complete, root = self._read(set(self.by_oid) | missing)
        if not complete or root != self.root:
            raise DomainError(
                "log_changed",
                "Nhật ký đổi giữa hai lần đọc; hãy chạy lại.",
                "The log changed between two reads; run again.",
                status=409,
            )
        self.by_oid = by_oid

    def events(self, oid: UUID) -> list[Event]:
        return sorted(self.by_oid.get(oid.hex, []), key=lambda e: e[1])


def _subject_id(kind: str, cycle: str, subject: str) -> UUID:
    if kind in ("scoring_sheet", "improvement_plan"):
        return Assessment.create_id(cycle, subject)
    return Ranking.create_id(cycle)


def _not_found(code: str, vi: str, en: str, name: str) -> DomainError:
    return DomainError(code, vi, en, field=name, status=404)


def _cycle_and_framework(log, cycle: str) -> tuple[Cycle, Framework]:
    oid = Cycle.create_id(cycle)
    found = fold(oid, log.events(oid))
    if found is None:
        raise _not_found(
            "cycle_not_found",
            f"Nhật ký không có kỳ '{cycle[:64]}'.",
            f"The log has no cycle '{cycle[:64]}'.",
            "cycle",
        )
    record_id = framework_aggregate_id(found.framework)
    record = fold(record_id, log.events(record_id))
    if record is None:
        raise _not_found(
            "framework_not_found",
            f"Nhật ký không có bộ tiêu chí {found.framework}.",
            f"The log has no framework {found.framework}.",
            "framework",
        )
    return found, from_dict(record.framework)


def recompute(log, kind: str, cycle: str, subject: str) -> Document:
    """The document of `kind` about `subject` (a unit, or a ranking version number)."""
    found, framework = _cycle_and_framework(log, cycle)
    if kind == "scoring_sheet":
        oid = Assessment.create_id(cycle, subject)
        trace = scoring_sheet.Trace()
        assessment = fold(oid, log.events(oid), trace.watch)
        last = previous.find(log, found, (subject,))
        figures = (last, previous.unit_scores(log, last, subject)) if last else None
        framework = found.framework_for(framework, subject)
        return scoring_sheet.build(found, framework, subject, assessment, trace, figures)
    if kind == "ranking_table":
        oid = Ranking.create_id(cycle)
        ranking = fold(oid, log.events(oid))
        version = ranking_table.version_of(ranking, cycle, subject)
        last = previous.find(log, found)
        return ranking_table.build(found, framework, version, len(ranking.versions), last)
    if kind == "improvement_plan":
        if subject not in found.unit_codes():
            raise _not_found(
                "unit_not_found",
                f"Kỳ {cycle} không có đơn vị '{subject[:64]}'.",
                f"Cycle {cycle} has no unit '{subject[:64]}'.",
                "unit",
            )
        ranking = fold(Ranking.create_id(cycle), log.events(Ranking.create_id(cycle)))
        assessment = fold(
            Assessment.create_id(cycle, subject), log.events(Assessment.create_id(cycle, subject))
        )
        published = ranking is not None and ranking.has_published()
        framework = found.framework_for(framework, subject)
        return plan_sheet.build(found, framework, subject, assessment, published)
    raise DomainError(
        "unknown_document",
        f"Không có loại tài liệu '{kind[:40]}'.",
        f"No document kind '{kind[:40]}'.",
        field="kind",
    )
