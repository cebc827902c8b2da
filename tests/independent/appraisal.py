"""A unit's appraisal (FORMATS.md 3.6 "Scoring commands", "Deadlines, rounds,
appraisal"; docs/SEASON.md "One unit's states"): adjust_score, confirm_score,
request_explanation, answer_explanation, submit_explanations, a unit's
close_appraisal and correct_score. Each yields one event on the assessment,
next version, carrying `signed`."""

from __future__ import annotations

import uuid

from tests.independent.fields import Refused
from tests.independent.rules import (
    INPUTS,
    _as_signed,
    _in_signed_order,
    _leaf_node,
    _next,
    _score_inputs,
    _where,
    cycle_closed,
    given_inputs,
)
from tests.independent.state import UnitState, World, Yield, before_deadline, round_of
from tests.independent.totals import leaves_of, line_totals

TOPIC = "domain.assessment:Assessment."


def _event(cmd, signed, world, agg, name: str, members: dict) -> list[Yield]:
    return [Yield(agg, TOPIC + name, _next(world, agg), {**members, "signed": signed})]


def _not_closed(cmd: dict, world: World, s: UnitState) -> None:
    if cycle_closed(cmd, world) or s.closed:
        raise Refused("appraisal_closed")


def _appraising(cmd: dict, world: World, *deadlines: str) -> tuple[uuid.UUID, dict, UnitState]:
    """Appraisal needs the unit submitted and not closed, before its deadlines."""
    agg, fw = _where(cmd, world)
    s = world.unit_state(agg)
    if agg not in world.submitted:
        raise Refused("not_submitted")
    _not_closed(cmd, world, s)
    cycle = world.cycles[cmd["cycle"]]
    for kind in deadlines:
        before_deadline(cmd, cycle, kind, cmd["unit"])
    _leaf_node(fw, cmd["leaf"])
    return agg, fw, s


def _round(cmd: dict, world: World, s: UnitState) -> int:
    return round_of(cmd, world.cycles[cmd["cycle"]], cmd["unit"], s)


def _reappraisal(cmd: dict, world: World, s: UnitState) -> int:
    """The unit's round; in round 2 only flagged leaves are appraised."""
    r = _round(cmd, world, s)
    if r == 2 and cmd["leaf"] not in s.flags:
        raise Refused("not_flagged")
    return r


def _evidence_known(cmd: dict, agg: uuid.UUID, world: World) -> None:
    attached = world.evidence.get(agg, {})
    if any(e not in attached for e in cmd.get("evidence_ids") or []):
        raise Refused("evidence_not_found")


def _adjust(cmd, signed, digest, world):
    agg, fw, s = _appraising(cmd, world, "appraisal_due")
    _score_inputs(cmd, _leaf_node(fw, cmd["leaf"]))
    _evidence_known(cmd, agg, world)
    r = _reappraisal(cmd, world, s)
    _in_signed_order(cmd, agg, world)
    members = {**_as_signed(cmd, "leaf", *INPUTS, "reason", "evidence_ids"), "round": r}
    return _event(cmd, signed, world, agg, "ScoreAdjusted", members)


def _reviewed(cmd, yields, world, appraised: dict) -> None:
    s = world.unit_state(yields[0].aggregate)
    s.started = True
    s.reviews[cmd["leaf"]] = yields[0].members["round"]
    s.appraised[cmd["leaf"]] = appraised


def _apply_adjust(cmd, yields, world):
    _reviewed(cmd, yields, world, given_inputs(cmd))


def _confirm(cmd, signed, digest, world):
    agg, _fw, s = _appraising(cmd, world, "appraisal_due")
    r = _reappraisal(cmd, world, s)
    _in_signed_order(cmd, agg, world)
    members = {"leaf": cmd["leaf"], "round": r, "note": cmd.get("note")}
    return _event(cmd, signed, world, agg, "ScoreConfirmed", members)


def _apply_confirm(cmd, yields, world):
    # a copy of the self input as it stands
    self_input = world.self_inputs[yields[0].aggregate][cmd["leaf"]]
    _reviewed(cmd, yields, world, dict(self_input))


def _request(cmd, signed, digest, world):
    cycle = world.cycles.get(cmd["cycle"])
    if cycle is not None and cycle.rounds == 1:
        raise Refused("single_round")
    agg, _fw, s = _appraising(cmd, world, "explanation_due", "appraisal_due")
    if _round(cmd, world, s) == 2:
        raise Refused("round_2_started")
    if cmd["leaf"] in s.flags:
        raise Refused("already_flagged")
    members = _as_signed(cmd, "leaf", "question")
    return _event(cmd, signed, world, agg, "ExplanationRequested", members)


def _apply_request(cmd, yields, world):
    s = world.unit_state(yields[0].aggregate)
    s.started = True
    s.flags.add(cmd["leaf"])


def _explaining(cmd: dict, world: World) -> tuple[uuid.UUID, dict, UnitState]:
    """The commune's explanations: until explanation_due and their submission."""
    agg, fw = _where(cmd, world)
    s = world.unit_state(agg)
    _not_closed(cmd, world, s)
    before_deadline(cmd, world.cycles[cmd["cycle"]], "explanation_due", cmd["unit"])
    if s.explained:
        raise Refused("explanations_submitted")
    return agg, fw, s


def _answer(cmd, signed, digest, world):
    agg, fw, s = _explaining(cmd, world)
    node = _leaf_node(fw, cmd["leaf"])
    if cmd["leaf"] not in s.flags:
        raise Refused("not_flagged")
    if given_inputs(cmd):
        _score_inputs(cmd, node)
    _evidence_known(cmd, agg, world)
    members = _as_signed(cmd, "leaf", "answer", "evidence_ids", *INPUTS)
    return _event(cmd, signed, world, agg, "ExplanationAnswered", members)


def _apply_answer(cmd, yields, world):
    agg = yields[0].aggregate
    world.unit_state(agg).answered.add(cmd["leaf"])
    if given_inputs(cmd):  # a revised self input replaces the leaf's
        world.self_inputs.setdefault(agg, {})[cmd["leaf"]] = given_inputs(cmd)


def _submit_explanations(cmd, signed, digest, world):
    agg, _fw, s = _explaining(cmd, world)
    if not s.flags:
        raise Refused("no_explanation_requested")
    if s.flags - s.answered:
        raise Refused("explanation_missing")
    return _event(cmd, signed, world, agg, "ExplanationsSubmitted", {"answered": sorted(s.flags)})


def _apply_submit_explanations(cmd, yields, world):
    world.unit_state(yields[0].aggregate).explained = True


def needs_review(fw: dict, s: UnitState) -> list[str]:
    """Never adjusted or confirmed, or flagged and last reviewed before round 2."""
    return [
        n["code"]
        for n in leaves_of(fw)
        if n["code"] not in s.reviews or (n["code"] in s.flags and s.reviews[n["code"]] != 2)
    ]


def close_unit(cmd, signed, digest, world):
    agg, fw = _where(cmd, world)
    s = world.unit_state(agg)
    _not_closed(cmd, world, s)
    if agg not in world.submitted:
        raise Refused("not_submitted")
    if _round(cmd, world, s) == 1 and s.flags:
        raise Refused("explanations_pending")
    pending = needs_review(fw, s)
    listed = cmd.get("confirm") or []
    for leaf in listed:
        _leaf_node(fw, leaf)
        if leaf not in pending:
            raise Refused("leaf_reviewed")
    if set(pending) - set(listed):
        raise Refused("leaves_not_reviewed")
    # The close writes the unit's totals, the listed leaves confirmed as self-scored.
    appraised = {**s.appraised, **{leaf: world.self_inputs[agg][leaf] for leaf in listed}}
    totals = line_totals(fw, world.self_inputs[agg], appraised)
    members = {"confirmed": sorted(listed), "totals": totals}
    return _event(cmd, signed, world, agg, "AppraisalClosed", members)


def apply_close_unit(cmd, yields, world):
    agg = yields[0].aggregate
    s = world.unit_state(agg)
    r = _round(cmd, world, s)
    for leaf in cmd.get("confirm") or []:
        s.reviews[leaf] = r
        s.appraised[leaf] = dict(world.self_inputs[agg][leaf])
    s.started = True
    s.closed = True


def _correct(cmd, signed, digest, world):
    agg, fw = _where(cmd, world)
    ranking = world.rankings.get(cmd["cycle"])
    if ranking is None or not ranking.published:
        raise Refused("not_published")
    if not world.unit_state(agg).closed:
        raise Refused("not_closed")
    _score_inputs(cmd, _leaf_node(fw, cmd["leaf"]))
    _evidence_known(cmd, agg, world)
    _in_signed_order(cmd, agg, world)
    members = _as_signed(cmd, "leaf", *INPUTS, "reason", "evidence_ids")
    corrected = {k: cmd[k] for k in INPUTS if k in cmd and cmd[k] is not None}
    if corrected.get("not_applicable") is False:
        del corrected["not_applicable"]
    appraised = {**world.unit_state(agg).appraised, cmd["leaf"]: corrected}
    members["totals"] = line_totals(fw, world.self_inputs[agg], appraised)
    return _event(cmd, signed, world, agg, "ScoreCorrected", members)


def _apply_correct(cmd, yields, world):
    world.unit_state(yields[0].aggregate).appraised[cmd["leaf"]] = given_inputs(cmd)


DERIVE = {
    "adjust_score": _adjust,
    "confirm_score": _confirm,
    "request_explanation": _request,
    "answer_explanation": _answer,
    "submit_explanations": _submit_explanations,
    "correct_score": _correct,
}
APPLY = {
    "adjust_score": _apply_adjust,
    "confirm_score": _apply_confirm,
    "request_explanation": _apply_request,
    "answer_explanation": _apply_answer,
    "submit_explanations": _apply_submit_explanations,
    "correct_score": _apply_correct,
}
