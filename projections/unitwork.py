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
            )
        cur.execute("SELECT * FROM evidence WHERE cycle = ? AND unit = ?", (cycle, unit))
        for r in cur.fetchall():
            work.evidence[r["evidence_id"]] = dict(zip(r.keys(), tuple(r), strict=True))
        return work

    def leaf(self, code: str) -> LeafState:
        state = self.leaves.get(code)
        if state is None:
            state = self.leaves[code] = LeafState()
        self.changed_leaves.add(code)
        return state

    def put_evidence(self, row: dict) -> None:
        self.evidence[row["evidence_id"]] = row
        self.changed_evidence.add(row["evidence_id"])

    def active_evidence(self) -> list[dict]:
        return [e for e in self.evidence.values() if e["status"] == "attached"]

    def take_rows(self) -> tuple[list[tuple], list[tuple]]:
        """leaf_state and evidence rows changed since the last call."""
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
                )
            )
        evidence_rows = [
            tuple(self.evidence[i][c] for c in EVIDENCE_COLUMNS)
            for i in sorted(self.changed_evidence)
        ]
        self.changed_leaves.clear()
        self.changed_evidence.clear()
        return leaf_rows, evidence_rows
