"""Pass 2 of verify, on one worker: leaf hashes, and the replay of the unit
commands on the assessments this worker owns.

Assessments of different units replay independently, so each worker owns the
aggregate ids that hash to it and replays its share in log order, reading the
deployment-wide `View` of pass 1 at each command's position. The main process
merges the workers' results back into leaf order.

A record is `(leaf_index, claimed_leaf_hash | None, originator_id_hex, version,
topic | None, state | None)`; a result row is `(leaf_index, fold_hash,
recomputed_hash | None, originator_id, version, (command id, digest) | None,
timestamp (POSIX seconds) | None, deployment_topic)`.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.audit.deployment_pass import View
from application.audit.replay import (
    Finding,
    Stored,
    World,
    authorize,
    check_times,
    compare,
    decide,
    derived_events,
    identity,
    is_deployment_topic,
    open_command,
    parse_stored,
)
from application.store.damage import as_bytes
from application.transparency.leaf import event_leaf_hash
from domain.assessment import Assessment, assessment_aggregate_id
from domain.cycle import cycle_aggregate_id
from domain.oversight_note import notable_topic
from domain.ranking import claim_problem

Record = tuple[int, bytes | None, str, int, str | None, bytes | None]


def owner(oid: object, workers: int) -> int:
    try:
        return int(str(oid)[:8], 16) % workers
    except ValueError:
        return 0


class UnitWorld(World):
    """A worker's assessments, plus pass 1's cycles and frameworks as they stood
    at the command's leaf."""

    def __init__(self, view: View):
        super().__init__()
        self.view = view
        self.position = 0
        # log index -> (aggregate id hex, topic) of the changes an oversight note
        # may name, as this worker replayed them (only its own units': a note names
        # a change of its own unit, which the same worker owns).
        self.changes: dict[int, tuple[str, str]] = {}

    def logged_change(self, index: int) -> tuple | None:
        return self.changes.get(index)

    def get(self, aggregate_id: UUID, *, for_update: bool = True) -> Any:
        if aggregate_id in self.view.cycles:
            return self.view.cycle_at(aggregate_id, self.position)
        return self.aggregates.get(aggregate_id)

    def framework_record(self, framework_id: str) -> Any:
        from domain.framework_record import framework_aggregate_id

        if not isinstance(framework_id, str):
            return None
        found = self.view.frameworks.get(framework_aggregate_id(framework_id))
        return found[1] if found is not None and found[0] < self.position else None


class Shard:
    def __init__(self, view: View, me: int = 0, workers: int = 1):
        self.view, self.me, self.workers = view, me, workers
        self.world = UnitWorld(view)
        self.last: dict[str, datetime] = {}
        self.claims = sorted(view.claims, key=lambda c: c[0])
        self._next_claim = 0
        self._unit_names: dict[UUID, tuple[list, dict[str, str]]] = {}

    def run(self, records: list[Record]) -> tuple[list[tuple], list[Finding]]:
        out: list[tuple] = []
        findings: list[Finding] = []
        for rec in records:
            if self.workers > 1 and owner(rec[2], self.workers) != self.me:
                continue
            if self._next_claim < len(self.claims) and self.claims[self._next_claim][0] <= rec[0]:
                self._check_claims(rec[0], findings)
            try:
                self._one(rec, out, findings)
            except Exception as e:  # verify never crashes on a damaged row
                findings.append(("event_unreadable", {"leaf_index": rec[0]}, repr(e)[:200]))
                if not out or out[-1][0] != rec[0]:
                    out.append(
                        (
                            rec[0],
                            rec[1] or b"\x00" * 32,
                            None,
                            str(rec[2]),
                            rec[3],
                            None,
                            None,
                            False,
                        )
                    )
        return out, findings

    def finish(self) -> tuple[list[tuple], list[Finding]]:
        """After the last leaf: the claims no later leaf of this worker checked."""
        findings: list[Finding] = []
        self._check_claims(None, findings)
        return [], findings

    def _check_claims(self, before: int | None, findings: list) -> None:
        """Each claim made at a leaf before `before` (all if None), against this
        worker's units as they stood at that leaf."""
        while self._next_claim < len(self.claims) and (
            before is None or self.claims[self._next_claim][0] <= before
        ):
            index, kind, cycle, expected = self.claims[self._next_claim]
            self._next_claim += 1
            try:
                findings.extend(self._claim(index, kind, cycle, expected))
            except Exception as e:  # verify never crashes on hostile content
                findings.append(("event_unreadable", {"leaf_index": index}, repr(e)[:200]))

    def _claim(self, index: int, kind: str, cycle_code: str, expected: dict) -> list[Finding]:
        self.world.position = index
        cycle = self.view.cycle_at(cycle_aggregate_id(cycle_code), index)
        if cycle is None:
            return []  # pass 1 refused the command already
        framework = self.world.framework(cycle.framework)
        out: list[Finding] = []
        for u in cycle.units:
            aid = assessment_aggregate_id(cycle_code, u["code"])
            if self.workers > 1 and owner(aid.hex, self.workers) != self.me:
                continue
            assessment = self.world.aggregates.get(aid)
            problem = claim_problem(kind, cycle, u, assessment, framework, expected)
            if problem is not None:
                out.append(("event_not_derived", {"leaf_index": index}, problem))
        return out

    def _one(self, rec: Record, out: list, findings: list) -> None:
        index, claimed, oid, version, topic, state = rec
        if topic is None or state is None:
            findings.append(("event_missing", {"leaf_index": index}, f"{oid} v{version}"))
            out.append((index, claimed, None, oid, version, None, None, False))
            return
        try:
            recomputed = event_leaf_hash(oid, version, topic, state)
        except (ValueError, TypeError, OverflowError) as e:
            findings.append(("event_unreadable", {"leaf_index": index}, f"leaf row: {e}"))
            out.append(
                (
                    index,
                    claimed if claimed is not None and len(claimed) == 32 else b"\x00" * 32,
                    None,
                    str(oid),
                    version,
                    None,
                    None,
                    False,
                )
            )
            return
        if claimed is not None and claimed != recomputed:
            findings.append(("event_altered", {"leaf_index": index}, f"{oid} v{version}"))
        fold = claimed if claimed is not None else recomputed
        dep = is_deployment_topic(topic)
        parsed = parse_stored(index, oid, version, topic, state)
        if isinstance(parsed, tuple):
            if not dep:  # pass 1 reported its own
                findings.append(parsed)
            out.append((index, fold, recomputed, oid, version, None, None, dep))
            return
        ident = identity(parsed)  # before replay hands the parsed command to handlers
        found = [] if dep else self._replay(parsed)
        if not dep and notable_topic(topic):
            self.world.changes[index] = (oid, sys.intern(topic))
        findings.extend(found)
        # An event stamped outside its own window is reported here and must not
        # move the log's clock (Runs in verify.py), or honest events after it
        # would look late.
        late = (index in self.view.bad_times) or any(
            f[0] == "timestamp_out_of_window" for f in found
        )
        ts = parsed.ts.timestamp() if parsed.ts is not None and not late else None
        out.append((index, fold, recomputed, oid, version, ident, ts, dep))

    def _replay(self, s: Stored) -> list[Finding]:
        opened = open_command(s)
        if isinstance(opened, tuple):
            return [opened]
        key = self.view.keys.get(opened.key_id)
        refused = authorize(opened, key, s)
        if refused is not None:
            return [refused]
        assert key is not None
        c = opened.signed.command
        cycle, unit = c.get("cycle"), c.get("unit")
        if isinstance(cycle, str) and isinstance(unit, str):
            aid = assessment_aggregate_id(cycle, unit)
            if aid.hex != s.oid:
                return [("wrong_aggregate", s.pos, f"{cycle}/{unit} is aggregate {aid}")]
            self._open(aid, cycle, unit, s.index)
        self.world.position = s.index
        aggregates, stop = decide(self.world, opened, key, s, deployment_scope=False)
        if stop is not None:
            return [stop]
        derived = derived_events(aggregates)
        return compare([s], derived, get_topic) + check_times(
            [s], opened.signed.issued_at, self.view.skew, self.last
        )

    def _open(self, aid: UUID, cycle: str, unit: str, index: int) -> None:
        """An assessment exists from its open_cycle run on (checked by pass 1)."""
        if aid in self.world.aggregates:
            return
        agg = self.view.cycle_at(cycle_aggregate_id(cycle), index)
        if agg is None:
            return
        names = self._unit_names.get(agg.id)
        if names is None or names[0] is not agg.units:  # units added since
            names = self._unit_names[agg.id] = (
                agg.units,
                {u["code"]: u["name"] for u in agg.units},
            )
        if unit not in names[1]:
            return
        assessment = Assessment(cycle=cycle, unit=unit, unit_name=names[1][unit], command={})
        assessment.collect_events()
        self.world.aggregates[aid] = assessment


# -- reading ranges of a SQLite store in the worker itself ----------------------------
_readers: dict[str, sqlite3.Connection] = {}


def read_range(spec: tuple[str, str, str], start: int, stop: int) -> list[Record]:
    """Leaves [start, stop) with their events, read by the worker itself from a
    SQLite store (read only), so the main process neither reads nor ships them."""
    path, leaves, events = spec
    conn = _readers.get(path)
    if conn is None:
        conn = _readers[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = conn.execute(
        f"SELECT l.leaf_index, l.leaf_hash, l.originator_id, l.originator_version, e.topic, "
        f"e.state FROM {leaves} l LEFT JOIN {events} e ON e.originator_id = l.originator_id "
        f"AND e.originator_version = l.originator_version "
        f"WHERE l.leaf_index >= ? AND l.leaf_index < ? ORDER BY l.leaf_index",
        (start, stop),
    )
    # A damaged row holds whatever was written: bytes for the checks to report on.
    return [
        (i, as_bytes(h) or b"", oid, v, topic, as_bytes(state))
        for i, h, oid, v, topic, state in rows
    ]
