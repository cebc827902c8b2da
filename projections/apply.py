"""Applying decoded events to the read model, one batch per transaction.

`Projector` keeps what never changes once written (frameworks, which unit an
assessment aggregate is, a key's holder and role), so those caches are safe
even when several processes write the same file. Everything that changes is
read inside the batch's transaction (`Batch`), changed in memory, and written
back with one executemany per table when the batch ends. Scores are
recomputed once per changed unit per batch; a private rebuild may defer them
to its very end (`defer_scores`), since nobody reads its file before the swap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from projections import (
    assessments,
    notes,
    oversight,
    oversight_frames,
    oversight_sums,
    rankings,
    registry,
    standing,
)
from projections.frameworks import FrameworkCache
from projections.schema import columns, upsert_sql
from projections.scores import recompute
from projections.scores import totals as unit_totals
from projections.unitwork import UnitWork

# Each event's oversight row follows its own handler (projections/oversight.py).
HANDLERS: dict[str, Callable[[Batch, Any, Meta], None]] = oversight.chained(
    {
        **registry.HANDLERS,
        **assessments.HANDLERS,
        **rankings.HANDLERS,
        **notes.HANDLERS,
    }
)
HISTORY_INSERT = upsert_sql("history").replace("INSERT OR REPLACE", "INSERT")


class Meta(NamedTuple):
    """Where an event sits: its notification, its leaf in the log, who signed it."""

    notification_id: int
    topic: str
    originator_id: str
    version: int
    leaf_index: int | None
    at: str
    signed: dict | None

    @property
    def actor(self) -> str | None:
        return (self.signed or {}).get("key_id")


# where an oversight row holds its cycle and leaf index (oversight_frames.record)
CHANGE_CYCLE = columns("oversight").index("cycle")
CHANGE_INDEX = columns("oversight").index("leaf_index")


class ProjectionError(Exception):
    """An event the projection could not apply; names its notification."""

    def __init__(self, notification_id: int, topic: str, cause: BaseException):
        super().__init__(f"notification {notification_id} ({topic}): {cause!r}")
        self.notification_id = notification_id
        self.topic = topic


class Projector:
    def __init__(
        self, *, keep_units: bool = False, defer_scores: bool = False, timelines: bool = True
    ):
        self.frameworks = FrameworkCache()
        self.unit_of: dict[str, tuple[str, str]] = {}  # assessment aggregate id -> key
        self.actors: dict[str, tuple[str | None, str | None]] = {}  # key_id -> name, role
        self.keep_units = keep_units
        self.defer_scores = defer_scores
        self.kept: dict[tuple[str, str], UnitWork] = {}
        self.deferred: set[tuple[str, str]] = set()
        self.running_at: str | None = None  # log_times: the latest event time so far
        self.timelines = timelines  # off for a scratch model (projections/as_of.py)

    def apply(self, cur: Any, events: Iterable[tuple[Meta, Any]]) -> int:
        """Applies events in order inside the caller's transaction; returns how many."""
        batch = Batch(self, cur)
        count = 0
        times = []
        self.running_at = None  # read again: another process may have written since
        for meta, event in events:
            if meta.leaf_index is not None:
                times.append(self._time(cur, meta))
            handler = HANDLERS.get(meta.topic)
            if handler is not None:
                try:
                    handler(batch, event, meta)
                    if self.timelines:
                        batch.log_event(meta)
                except Exception as exc:
                    raise ProjectionError(meta.notification_id, meta.topic, exc) from exc
            count += 1
        batch.flush()
        cur.executemany(upsert_sql("log_times"), times)
        return count

    def _time(self, cur: Any, meta: Meta) -> tuple[int, str, str]:
        if self.running_at is None:
            cur.execute("SELECT running_at FROM log_times ORDER BY leaf_index DESC LIMIT 1")
            row = cur.fetchone()
            self.running_at = row[0] if row else meta.at
        self.running_at = max(self.running_at, meta.at)
        return meta.leaf_index, meta.at, self.running_at

    def finish(self, cur: Any) -> None:
        """Recomputes the scores a deferring rebuild left for the end."""
        batch = Batch(self, cur)
        for key in sorted(self.deferred):
            if batch.unit(key) is not None:
                batch.dirty.add(key)
        self.deferred.clear()
        self.defer_scores, deferring = False, self.defer_scores
        try:
            batch.flush()
        finally:
            self.defer_scores = deferring


class Batch:
    def __init__(self, projector: Projector, cur: Any):
        self.p = projector
        self.cur = cur
        self.units: dict[tuple[str, str], UnitWork] = projector.kept if projector.keep_units else {}
        self.dirty: set[tuple[str, str]] = set()
        self.history: list[tuple] = []
        # the units the current event looked at and changed, and the timeline rows
        self.touched: set[tuple[str, str]] = set()
        self.changed_now: set[tuple[str, str]] = set()
        self.status_log: list[tuple] = []
        self.totals_log: list[tuple] = []
        self.standing_log: list[tuple] = []

    # -- lookups ---------------------------------------------------------------
    def unit_of(self, assessment_id: str) -> UnitWork | None:
        key = self.p.unit_of.get(assessment_id)
        if key is None:
            self.cur.execute(
                "SELECT cycle, unit FROM units WHERE assessment_id = ?", (assessment_id,)
            )
            row = self.cur.fetchone()
            if row is None:
                return None
            key = self.p.unit_of[assessment_id] = (row["cycle"], row["unit"])
        return self.unit(key)

    def unit(self, key: tuple[str, str]) -> UnitWork | None:
        work = self.units.get(key)
        if work is not None:
            self.touched.add(key)
        else:
            self.cur.execute(
                "SELECT u.name, u.position, c.framework, k.type FROM units u "
                "JOIN cycles c ON c.cycle = u.cycle LEFT JOIN cycle_units k "
                "ON k.cycle = u.cycle AND k.unit = u.unit WHERE u.cycle = ? AND u.unit = ?",
                key,
            )
            row = self.cur.fetchone()
            if row is None:
                return None
            framework = self.p.frameworks.get(row["framework"], self.cur)
            if framework is None:
                return None
            framework = framework.for_type(row["type"])  # the table its type is scored on
            work = self.units[key] = UnitWork.load(
                self.cur, key[0], key[1], row["name"], row["position"], row["framework"], framework
            )
            # As stored: a unit already in the read model has its last status row
            # logged; one just opened has none yet.
            work.logged_status = self._last_logged("unit_status_log", key)
            work.totals_submitted = work.submitted_at is not None
            work.logged_totals = self._last_logged("unit_totals_log", key)
            self.touched.add(key)
        return work

    def _last_logged(self, table: str, key: tuple[str, str]) -> tuple | None:
        """The unit's last row of a timeline (without its leaf index), as logged:
        what its next event is compared with, however the log is cut into batches."""
        self.cur.execute(
            f"SELECT * FROM {table} WHERE cycle = ? AND unit = ? ORDER BY leaf_index DESC LIMIT 1",
            key,
        )
        row = self.cur.fetchone()
        if row is None:
            return None
        values = tuple(row)
        return (*values[:2], *values[3:])

    def actor(self, key_id: str | None) -> tuple[str | None, str | None]:
        if key_id is None:
            return None, None
        found = self.p.actors.get(key_id)
        if found is None:
            self.cur.execute("SELECT display_name, role FROM keys WHERE key_id = ?", (key_id,))
            row = self.cur.fetchone()
            if row is None:
                return None, None
            found = self.p.actors[key_id] = (row["display_name"], row["role"])
        return found

    def changed(self, work: UnitWork) -> None:
        self.dirty.add((work.cycle, work.unit))
        self.changed_now.add((work.cycle, work.unit))

    def log_event(self, m: Meta) -> None:
        """The timeline rows of the units this event changed (projections/as_of.py),
        and their standing row when their stage, submitted flag or total changed
        (projections/standing.py)."""
        touched, changed = self.touched, self.changed_now
        self.touched, self.changed_now = set(), set()
        if m.leaf_index is None:
            return
        for key in touched:
            work = self.units.get(key)
            if work is None:
                continue
            before = standing.of(work.logged_status, work.logged_totals)
            self._log_timelines(work, m, key in changed)
            now = standing.of(work.logged_status, work.logged_totals)
            if now != before:
                self.standing_log.append((key[0], m.leaf_index, key[1], *now))

    def _log_timelines(self, work: UnitWork, m: Meta, changed: bool) -> None:
        """The status row when it differs from the last one logged; the totals row at
        the unit's opening, and while it stands submitted or has just been withdrawn
        (what the live ranking reads), when it differs."""
        status = work.status_row()
        if status != work.logged_status:
            self.status_log.append((*status[:2], m.leaf_index, *status[2:]))
            work.logged_status = status
        if not changed:
            return
        opened = m.topic == "domain.assessment:Assessment.Opened"
        was = work.logged_totals is not None and work.logged_totals[-1] == 1
        if (
            opened
            or was
            or work.submitted_at is not None
            or (work.logged_totals is None and m.topic.endswith(".SubmissionWithdrawn"))
        ):
            row = unit_totals(work)
            if row != work.logged_totals:
                self.totals_log.append((*row[:2], m.leaf_index, *row[2:]))
                work.logged_totals = row

    # -- writing ---------------------------------------------------------------
    def flush(self) -> None:
        node_rows: list[tuple] = []
        total_rows: list[tuple] = []
        if self.p.defer_scores:
            self.p.deferred.update(self.dirty)
        else:
            for key in sorted(self.dirty):
                rows, totals = recompute(self.units[key])
                node_rows.extend(rows)
                total_rows.append(totals)
        leaf_rows: list[tuple] = []
        evidence_rows: list[tuple] = []
        status_rows: list[tuple] = []
        # A deferring rebuild keeps every unit in memory and writes its state once,
        # at the end; history is append-only and goes out with each batch.
        if not (self.p.keep_units and self.p.defer_scores):
            for work in self.units.values():
                leaves, evidence, status = work.take_rows()
                leaf_rows.extend(leaves)
                evidence_rows.extend(evidence)
                if status is not None:
                    status_rows.append(status)
        cur = self.cur
        if leaf_rows:
            cur.executemany(upsert_sql("leaf_state"), leaf_rows)
        if evidence_rows:
            cur.executemany(upsert_sql("evidence"), evidence_rows)
        if status_rows:
            cur.executemany(upsert_sql("unit_status"), status_rows)
        if self.history:
            cur.executemany(HISTORY_INSERT, self.history)
        changes = oversight_sums.flush(self)
        oversight_frames.record(cur, changes, CHANGE_CYCLE, CHANGE_INDEX)
        if self.status_log:
            cur.executemany(upsert_sql("unit_status_log"), self.status_log)
        if self.totals_log:
            cur.executemany(upsert_sql("unit_totals_log"), self.totals_log)
        standing.record(cur, self.standing_log)
        self.status_log, self.totals_log, self.standing_log = [], [], []
        if node_rows:
            cur.executemany(upsert_sql("node_scores"), node_rows)
        if total_rows:
            cur.executemany(upsert_sql("unit_totals"), total_rows)
        self.history = []
        self.dirty = set()
        for work in self.units.values():  # a batch's memo: units kept in memory stay lean
            work.computed.clear()
