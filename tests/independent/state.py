"""The state the replayed commands make (never the stored events), and the
season's reading of it: a unit's deadlines, its round, its explanation window
(FORMATS.md 3.6 "Deadlines, rounds, appraisal", docs/SEASON.md).

Only the standard library.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from tests.independent.fields import KINDS, Refused


@dataclass
class Key:
    key_id: str
    public: bytes
    public_b64: str
    role: str
    scope: str
    display_name: str | None
    first_leaf: int
    last_leaf: int | None = None  # the last leaf of the command that revoked or rotated it


@dataclass
class Cycle:
    """A cycle by its Opened, Scheduled, DeadlineExtended, UnitsAdded, UnitsMerged."""

    code: str
    framework: str
    province: str
    authority: str
    units: list[dict]
    rounds: int = 2
    deadlines: dict[str, datetime] = field(default_factory=dict)
    unit_deadlines: dict[str, dict[str, datetime]] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)  # unit -> the unit it went into

    def unit(self, code: str) -> dict | None:
        return next((u for u in self.units if u["code"] == code), None)

    def deadline(self, kind: str, unit: str | None = None) -> datetime | None:
        """A unit's deadline of a kind: the later of its own and the cycle's;
        none when the cycle has none (SEASON.md "The calendar")."""
        cycle = self.deadlines.get(kind)
        own = self.unit_deadlines.get(unit, {}).get(kind) if unit is not None else None
        if cycle is None:
            return None
        return cycle if own is None else max(cycle, own)


@dataclass
class Version:
    version: int
    digest: str
    manifest: dict
    status: str = "proposed"  # proposed, approved, published, superseded


@dataclass
class Ranking:
    """A cycle's ranking aggregate: it exists once the cycle's appraisal is closed."""

    versions: list[Version] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return any(v.status == "published" for v in self.versions)

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None


@dataclass
class UnitState:
    """What the season adds to an assessment."""

    started: bool = False  # appraised since its (last) submission
    closed: bool = False
    flags: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    explained: bool = False  # submit_explanations applied
    reviews: dict[str, int] = field(default_factory=dict)  # leaf -> round of its last review
    appraised: dict[str, dict] = field(default_factory=dict)  # leaf -> appraised input


@dataclass
class World:
    """The state made by the replayed commands (never by the stored events)."""

    keys: dict[str, Key] = field(default_factory=dict)
    frameworks: dict[str, dict] = field(default_factory=dict)
    cycles: dict[str, Cycle] = field(default_factory=dict)
    rankings: dict[str, Ranking] = field(default_factory=dict)  # cycle -> its ranking
    versions: dict[uuid.UUID, int] = field(default_factory=dict)
    evidence: dict[uuid.UUID, dict[str, bool]] = field(default_factory=dict)  # id -> withdrawn
    # (aggregate, signer, leaf) -> the latest issued_at of a score it applied (4.7)
    signed_last: dict[tuple, datetime] = field(default_factory=dict)
    # assessment -> leaf -> its self input as the events hold it (3.6 "Submission")
    self_inputs: dict[uuid.UUID, dict[str, dict]] = field(default_factory=dict)
    submitted: set[uuid.UUID] = field(default_factory=set)
    units: dict[uuid.UUID, UnitState] = field(default_factory=dict)
    # assessment -> leaf index -> topic, for each replayed event a note may name
    # (FORMATS.md 3.6 `record_oversight_note`: "a verifier looks at the events of
    # the unit it has replayed before this one")
    changes: dict[uuid.UUID, dict[int, str]] = field(default_factory=dict)
    # assessment -> note id -> answered (3.6 `answer_oversight_note`)
    notes: dict[uuid.UUID, dict[str, bool]] = field(default_factory=dict)
    skew: int = 600

    def unit_state(self, agg: uuid.UUID) -> UnitState:
        return self.units.setdefault(agg, UnitState())


@dataclass
class Yield:
    aggregate: uuid.UUID
    topic: str
    version: int
    members: dict


def signed_at(cmd: dict) -> datetime:
    return datetime.fromisoformat(cmd["issued_at"].replace("Z", "+00:00"))


def before_deadline(cmd: dict, cycle: Cycle, kind: str, unit: str | None = None) -> None:
    """Refused deadline_passed when signed after the deadline of `kind`."""
    assert kind in KINDS
    due = cycle.deadline(kind, unit)
    if due is not None and signed_at(cmd) > due:
        raise Refused("deadline_passed")


def past(cmd: dict, cycle: Cycle, kind: str, unit: str) -> bool:
    due = cycle.deadline(kind, unit)
    return due is not None and signed_at(cmd) > due


def round_of(cmd: dict, cycle: Cycle, unit: str, s: UnitState) -> int:
    """Round 2 when the unit has flagged leaves and its explanations are
    submitted or the command is signed past its explanation_due."""
    if s.flags and (s.explained or past(cmd, cycle, "explanation_due", unit)):
        return 2
    return 1


def in_explanation_window(cmd: dict, cycle: Cycle, unit: str, s: UnitState, closed: bool) -> bool:
    return (
        bool(s.flags)
        and not s.explained
        and not past(cmd, cycle, "explanation_due", unit)
        and not s.closed
        and not closed
    )
