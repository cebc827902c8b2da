"""One unit's working state while a batch is applied: its leaves and evidence.

Loaded once per batch from the read model (or kept across batches by a
private rebuild), changed in memory by the event handlers, written back at the
end of the batch with one executemany per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projections.frameworks import CachedFramework
from projections.schema import columns

EVIDENCE_COLUMNS = columns("evidence")
STATUS_COLUMNS = columns("unit_status")


@dataclass(slots=True)
class LeafState:
    """One leaf of one unit. Inputs are canonical JSON text of the signed fields
    ('{"points":"2.5"}'): the form they are stored, compared and cached in."""

    self_input: str | None = None
    self_points: str | None = None
    self_note: str | None = None
    appraised_input: str | None = None  # None: the self-score stands (accepted)
    appraised_points: str | None = None
    appraised_reason: str | None = None
    not_applicable: bool = False
    evidence_count: int = 0
    history_count: int = 0
    last_leaf_index: int | None = None
    updated_at: str | None = None
    review_how: str | None = None  # adjusted | confirmed | corrected; None: never reviewed
    review_round: int | None = None
    flag_question: str | None = None
    flag_answer: str | None = None
    flag_evidence_ids: str | None = None

    @property
    def effective_appraised(self) -> str | None:
        return self.appraised_input if self.appraised_input is not None else self.self_input


@dataclass
class UnitWork:
    cycle: str
    unit: str
    name: str
    position: int
    framework_id: str
    framework: CachedFramework
    leaves: dict[str, LeafState] = field(default_factory=dict)
    evidence: dict[str, dict] = field(default_factory=dict)
    changed_leaves: set[str] = field(default_factory=set)
    changed_evidence: set[str] = field(default_factory=set)
    # the unit's own season state (unit_status), besides its leaves
    submitted_at: str | None = None  # None: not submitted (or withdrawn)
    submitted_leaf: int | None = None
    explanations_submitted_at: str | None = None
    closed_at: str | None = None
    closed_leaf: int | None = None
    status_changed: bool = False
    # What the unit's timeline (unit_status_log, unit_totals_log) last holds, so an
    # event appends a row only when it changed something (projections/as_of.py).
    logged_status: tuple | None = None
    logged_totals: tuple | None = None
    totals_submitted: bool = False  # submitted when its totals were last logged
    # The last computation of each side ("self", "appraised"): (its inputs, its
    # result), so an event that changed one side computes that side alone.
    computed: dict[str, tuple] = field(default_factory=dict)
    # Each leaf's part of the status counts (scored, reviewed, flags open, answered),
    # their sums, and the leaves changed since they were last counted (None: all).
    leaf_counts: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    count_sums: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    uncounted: set[str] | None = None

    @classmethod
    def load(
        cls,
        cur: Any,
        cycle: str,
        unit: str,
        name: str,
        position: int,
        framework_id: str,
        framework: CachedFramework,
    ) -> UnitWork:
        work = cls(cycle, unit, name, position, framework_id, framework)
        cur.execute("SELECT * FROM leaf_state WHERE cycle = ? AND unit = ?", (cycle, unit))
        for r in cur.fetchall():
            work.leaves[r["leaf"]] = LeafState(
                r["self_input"],
                r["self_points"],
                r["self_note"],
                r["appraised_input"],
                r["appraised_points"],
                r["appraised_reason"],
                bool(r["not_applicable"]),
                r["evidence_count"],
                r["history_count"],
                r["last_leaf_index"],
                r["updated_at"],
                r["review_how"],
                r["review_round"],
                r["flag_question"],
                r["flag_answer"],
                r["flag_evidence_ids"],
            )
        cur.execute("SELECT * FROM evidence WHERE cycle = ? AND unit = ?", (cycle, unit))
        for r in cur.fetchall():
            work.evidence[r["evidence_id"]] = dict(zip(r.keys(), tuple(r), strict=True))
        cur.execute("SELECT * FROM unit_status WHERE cycle = ? AND unit = ?", (cycle, unit))
        found = cur.fetchone()
        if found is None:
            work.status_changed = True  # a unit just opened: its first status row
        else:
            work.submitted_at = found["submitted_at"]
            work.submitted_leaf = found["submitted_leaf"]
            work.explanations_submitted_at = found["explanations_submitted_at"]
            work.closed_at = found["closed_at"]
            work.closed_leaf = found["closed_leaf"]
        return work

    # -- the unit's stage (domain.assessment.Assessment.stage, less the clock) ------
    def flagged(self) -> bool:
        return any(s.flag_question is not None for s in self.leaves.values())

    def stage(self) -> str:
        """The stage the log alone gives; "explanation" becomes round_2 on read
        once the unit's explanation_due has passed (projections/status.py)."""
        if self.submitted_at is None:
            return "not_submitted"
        if self.closed_at is not None:
            return "closed"
        if self.flagged():
            return "round_2" if self.explanations_submitted_at is not None else "explanation"
        return "round_1"

    def _counts(self) -> list[int]:
        """(scored, reviewed, flags open, flags answered) over the framework's leaves,
        counted again only for the leaves changed since the last call (a timeline
        row is made after every event: 119 leaves each time would be most of it)."""
        codes, sums = self.framework.leaf_codes, self.count_sums
        changed = self.leaves.keys() if self.uncounted is None else self.uncounted
        for code in changed:
            s = self.leaves.get(code)
            if s is None or code not in codes:
                now = (0, 0, 0, 0)
            else:
                flagged, answered = s.flag_question is not None, s.flag_answer is not None
                now = (
                    int(s.self_input is not None),
                    int(s.review_how is not None),
                    int(flagged and not answered),
                    int(flagged and answered),
                )
            before = self.leaf_counts.get(code, (0, 0, 0, 0))
            if now != before:
                for i in range(4):
                    sums[i] += now[i] - before[i]
                self.leaf_counts[code] = now
        self.uncounted = set()
        return sums

    def status_row(self) -> tuple:
        scored, reviewed, flags_open, flags_answered = self._counts()
        return (
            self.cycle,
            self.unit,
            self.name,
            self.position,
            self.stage(),
            scored,
            len(self.active_evidence()),
            flags_open,
            flags_answered,
            reviewed,
            self.submitted_at,
            self.submitted_leaf,
            self.explanations_submitted_at,
            self.closed_at,
            self.closed_leaf,
        )

    def leaf(self, code: str) -> LeafState:
        state = self.leaves.get(code)
        if state is None:
            state = self.leaves[code] = LeafState()
        self.changed_leaves.add(code)
        if self.uncounted is not None:
            self.uncounted.add(code)
        self.status_changed = True
        return state

    def put_evidence(self, row: dict) -> None:
        self.evidence[row["evidence_id"]] = row
        self.changed_evidence.add(row["evidence_id"])
        self.status_changed = True

    def active_evidence(self) -> list[dict]:
        return [e for e in self.evidence.values() if e["status"] == "attached"]

    def take_rows(self) -> tuple[list[tuple], list[tuple], tuple | None]:
        """leaf_state and evidence rows changed since the last call, and the
        unit_status row if anything of the unit changed."""
        leaf_rows = []
        for code in sorted(self.changed_leaves):
            s = self.leaves[code]
            leaf_rows.append(
                (
                    self.cycle,
                    self.unit,
                    code,
                    s.self_input,
                    s.self_points,
                    s.self_note,
                    s.appraised_input,
                    s.appraised_points,
                    s.appraised_reason,
                    int(s.not_applicable),
                    s.evidence_count,
                    s.history_count,
                    s.last_leaf_index,
                    s.updated_at,
                    s.review_how,
                    s.review_round,
                    s.flag_question,
                    s.flag_answer,
                    s.flag_evidence_ids,
                )
            )
        evidence_rows = [
            tuple(self.evidence[i][c] for c in EVIDENCE_COLUMNS)
            for i in sorted(self.changed_evidence)
        ]
        status = self.status_row() if self.status_changed else None
        self.changed_leaves.clear()
        self.changed_evidence.clear()
        self.status_changed = False
        return leaf_rows, evidence_rows, status
