"""Oversight notes (FORMATS.md 3.6 `record_oversight_note`, `answer_oversight_note`;
docs/SEASON.md "Oversight notes"): an observer notes a unit, one of its leaves or
one change of it named by its log index; the council chair answers each note once.
Each yields one event on the unit's assessment, next version, carrying `signed`;
neither changes a score, a round or a stage."""

from __future__ import annotations

from tests.independent.fields import Refused
from tests.independent.rules import _as_signed, _leaf_node, _next, _where
from tests.independent.state import World, Yield

TOPIC = "domain.assessment:Assessment."

# 3.6: "a change must be the leaf index of an event of this assessment whose type
# is one of" these
CHANGES = frozenset(
    TOPIC + name
    for name in (
        "ScoreAdjusted",
        "ScoreConfirmed",
        "ExplanationRequested",
        "ExplanationAnswered",
        "ScoreCorrected",
        "SubmissionWithdrawn",
        "AppraisalClosed",
    )
)


def _event(cmd, signed, world, agg, name: str, members: dict) -> list[Yield]:
    return [Yield(agg, TOPIC + name, _next(world, agg), {**members, "signed": signed})]


def _record(cmd, signed, digest, world: World):
    # "at most one of `leaf` and `change`" (both: note_subject)
    if cmd.get("leaf") is not None and cmd.get("change") is not None:
        raise Refused("note_subject")
    agg, fw = _where(cmd, world)  # cycle_not_found, unit_not_found, unit_merged
    if cmd.get("leaf") is not None:
        _leaf_node(fw, cmd["leaf"])  # "A `leaf` must be a leaf code of it"
    if cmd["note_id"] in world.notes.get(agg, {}):
        raise Refused("note_exists")
    change = cmd.get("change")
    # "a verifier looks at the events of the unit it has replayed before this one"
    if change is not None and world.changes.get(agg, {}).get(change) not in CHANGES:
        raise Refused("change_not_found")
    members = _as_signed(cmd, "note_id", "text", "leaf", "change")
    return _event(cmd, signed, world, agg, "OversightNoted", members)


def _apply_record(cmd, yields, world: World):
    world.notes.setdefault(yields[0].aggregate, {})[cmd["note_id"]] = False


def _answer(cmd, signed, digest, world: World):
    agg, _fw = _where(cmd, world)
    notes = world.notes.get(agg, {})
    if cmd["note_id"] not in notes:
        raise Refused("note_not_found")
    if notes[cmd["note_id"]]:
        raise Refused("note_answered")
    members = _as_signed(cmd, "note_id", "answer")
    return _event(cmd, signed, world, agg, "OversightNoteAnswered", members)


def _apply_answer(cmd, yields, world: World):
    world.notes[yields[0].aggregate][cmd["note_id"]] = True


def record_changes(yields: list[Yield], world: World, leaves: list[int]) -> None:
    """Remembers, per assessment, the leaf index of each replayed event a note may
    name (by what the valid command yields, never by what the log stores)."""
    for y, leaf in zip(yields, leaves, strict=False):
        if y.topic in CHANGES:
            world.changes.setdefault(y.aggregate, {})[leaf] = y.topic


DERIVE = {"record_oversight_note": _record, "answer_oversight_note": _answer}
APPLY = {"record_oversight_note": _apply_record, "answer_oversight_note": _apply_answer}
