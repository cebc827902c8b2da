"""Oversight notes (docs/SEASON.md, "Oversight notes"): the Fatherland Front's
observer notes a unit, a leaf or one change (by its log index); the council
chair answers once. Both are signed commands that verify replays, so a server
that accepts a note on a change that is not the unit's is caught."""

from __future__ import annotations

from unittest import mock

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.assessment import Assessment
from tests.log_operator import Operator
from tests.season_unit import OTHER, Unit
from tests.support import Env


@pytest.fixture(params=[1, 2], ids=["inline", "two-workers"])
def workers(request, monkeypatch) -> int:
    if request.param > 1:
        monkeypatch.setattr("application.audit.verify.CHUNK", 16)
    return request.param


def findings(env: Env, workers: int = 1) -> list[tuple[str, int, str]]:
    env.checkpoint()
    report = verify(StoreSource(env.app.tlog), workers=workers)
    return [(f.kind, f.position.get("leaf_index"), f.detail) for f in report.findings]


@pytest.fixture
def unit(env: Env) -> Unit:
    u = Unit.open(env)
    u.score("1.1.1", "1")
    u.submit()
    return u


@pytest.fixture
def observer(env: Env):
    return env.register("observer", "authority:dong-hy")[0]


def note(unit: Unit, observer, note_id: str, **more) -> dict:
    more.setdefault("text", "Đề nghị Hội đồng làm rõ căn cứ trừ điểm.")
    return unit.send(observer, "record_oversight_note", note_id=note_id, **more)


def test_an_observer_notes_a_unit_a_leaf_and_a_change_and_the_council_answers(
    env: Env, unit: Unit, observer, workers: int
):
    adjusted = unit.adjust("1.1.1", "0.5")["log_index"]
    note(unit, observer, "gs-1")
    note(unit, observer, "gs-2", leaf="1.1.2")
    note(unit, observer, "gs-3", change=adjusted)
    unit.send(
        unit.council,
        "answer_oversight_note",
        note_id="gs-3",
        answer="Kế hoạch ban hành chậm 12 ngày.",
    )
    notes = unit.assessment.notes
    assert notes == {
        "gs-1": {"leaf": None, "change": None, "answered": False},
        "gs-2": {"leaf": "1.1.2", "change": None, "answered": False},
        "gs-3": {"leaf": None, "change": adjusted, "answered": True},
    }
    # a note changes no score: the appraised value is still the adjustment
    assert unit.assessment.appraised_view()["1.1.1"] == {"points": "0.5"}
    assert findings(env, workers) == []


def test_a_note_may_name_only_a_change_of_its_own_unit(env: Env, unit: Unit, observer):
    other_officer = env.register("commune_officer", f"commune:{OTHER}")[0]
    other_chair = env.register("commune_chair", f"commune:{OTHER}")[0]
    other = Unit(env, other_officer, other_chair, unit.appraiser, unit.council, unit=OTHER)
    other.score("1.1.1", "1")
    other.submit()
    elsewhere = other.adjust("1.1.1", "0")["log_index"]
    mine = Assessment.create_id(unit.cycle, unit.unit)
    own_self_score = next(
        e.leaf_index
        for e in env.app.tlog.iter_events()
        if e.originator_id == mine and e.topic.endswith("SelfScoreRecorded")
    )
    for index in (elsewhere, own_self_score, 10**9):
        e = unit.refused(observer, "record_oversight_note", note_id="gs-x", text="?", change=index)
        assert (e.code, e.status, e.field) == ("change_not_found", 404, "change")


def test_hostile_or_wrong_notes_are_refused_and_write_nothing(env: Env, unit: Unit, observer):
    adjusted = unit.adjust("1.1.1", "0.5")["log_index"]
    cases = [
        ({"leaf": "1.1.1", "change": adjusted}, "note_subject"),
        ({"change": -1}, "invalid_field"),
        ({"change": "12"}, "invalid_field"),
        ({"change": True}, "invalid_field"),
        ({"leaf": "9.9.9"}, "unknown_leaf"),
        ({"text": "  "}, "note_required"),
        ({"text": '=HYPERLINK("http://x")\u202e'}, "control_character"),
        ({"note_id": "../../etc"}, "invalid_note_id"),
        ({"colour": "red"}, "unknown_field"),
    ]
    for fields, code in cases:
        fields = {"note_id": "gs-1", "text": "Đề nghị làm rõ.", **fields}
        e = unit.refused(observer, "record_oversight_note", **fields)
        assert code in (e.code, *[p.code for p in getattr(e, "problems", [])]), (fields, e.code)
    note(unit, observer, "gs-1")
    assert unit.refused(observer, "record_oversight_note", note_id="gs-1", text="lại").code == (
        "note_exists"
    )
    e = unit.refused(unit.council, "answer_oversight_note", note_id="gs-9", answer="Có")
    assert (e.code, e.status) == ("note_not_found", 404)
    e = unit.refused(unit.council, "answer_oversight_note", note_id="gs-1", answer=" ")
    assert e.code == "answer_required"
    unit.send(unit.council, "answer_oversight_note", note_id="gs-1", answer="Đã rà soát.")
    e = unit.refused(unit.council, "answer_oversight_note", note_id="gs-1", answer="Lần 2")
    assert (e.code, e.status) == ("note_answered", 409)


def test_who_may_note_and_answer(env: Env, unit: Unit, observer):
    from application.errors import CommandRejected

    outsider = env.register("observer", "authority:phu-binh")[0]
    for signer, type_, fields in [
        (outsider, "record_oversight_note", {"note_id": "gs-1", "text": "?"}),
        (unit.appraiser, "record_oversight_note", {"note_id": "gs-1", "text": "?"}),
        (unit.officer, "record_oversight_note", {"note_id": "gs-1", "text": "?"}),
    ]:
        with pytest.raises(CommandRejected) as e:
            unit.send(signer, type_, **fields)
        assert e.value.code == "not_permitted"
    note(unit, observer, "gs-1")
    for signer in (observer, unit.appraiser, unit.chair):
        with pytest.raises(CommandRejected) as e:
            unit.send(signer, "answer_oversight_note", note_id="gs-1", answer="Có")
        assert e.value.code == "not_permitted"


def test_notes_are_allowed_after_the_close(env: Env, unit: Unit, observer):
    unit.close(confirm=unit.unreviewed())
    closed = Operator(env).event_topic(env.app.tlog.size() - 1)
    assert closed.endswith("AppraisalClosed")
    note(unit, observer, "gs-1", change=env.app.tlog.size() - 1)
    assert unit.assessment.notes["gs-1"]["change"] == env.app.tlog.size() - 2


def test_verify_catches_a_server_that_accepts_a_note_on_another_units_change(
    env: Env, unit: Unit, observer, workers: int
):
    other_officer = env.register("commune_officer", f"commune:{OTHER}")[0]
    other_chair = env.register("commune_chair", f"commune:{OTHER}")[0]
    other = Unit(env, other_officer, other_chair, unit.appraiser, unit.council, unit=OTHER)
    other.score("1.1.1", "1")
    other.submit()
    elsewhere = other.adjust("1.1.1", "0")["log_index"]
    mine = Assessment.create_id(unit.cycle, unit.unit)
    topic = "domain.assessment:Assessment.ScoreAdjusted"
    with mock.patch.object(type(env.app), "logged_change", return_value=(mine, topic)):
        forged = note(unit, observer, "gs-1", change=elsewhere)["log_index"]
    found = findings(env, workers)
    assert [(k, i) for k, i, _ in found] == [("event_not_derived", forged)]
    assert "change_not_found" in found[0][2]


@pytest.mark.parametrize("forgery", ["copied", "stored_again", "unsigned_member"])
def test_forged_note_events_are_reported(env: Env, unit: Unit, observer, forgery: str):
    leaf = note(unit, observer, "gs-1")["log_index"]
    op = Operator(env)
    if forgery == "copied":
        forged = op.append_copy(leaf, onto=Assessment.create_id(unit.cycle, OTHER))
    elif forgery == "stored_again":
        forged = op.append_copy(leaf)
    else:
        forged = leaf
        op.rewrite(leaf, lambda state: state.__setitem__("leaf", "1.1.2"))
    op.reseal()
    kinds = {k for k, i, _ in findings(env) if i == forged}
    assert kinds & {"wrong_aggregate", "command_replayed", "event_not_derived"}, kinds


def test_a_stored_answer_to_no_note_does_not_stop_the_unit_from_loading(
    env: Env, unit: Unit, observer
):
    """An operator rewrites an answer to name a note that does not exist: verify
    reports it, and the server still loads the unit and takes its next command."""
    note(unit, observer, "gs-1")
    leaf = unit.send(unit.council, "answer_oversight_note", note_id="gs-1", answer="Đã rõ")
    op = Operator(env)
    op.rewrite(leaf["log_index"], lambda state: state.__setitem__("note_id", "gs-404"))
    op.reseal()  # reopens the server on the store: the unit is loaded from its events
    assert unit.assessment.notes["gs-1"]["answered"] is False
    unit.adjust("1.1.1", "0.5")
    assert ("event_not_derived", leaf["log_index"]) in {(k, i) for k, i, _ in findings(env)}
