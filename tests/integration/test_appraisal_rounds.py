"""Appraisal of one unit (docs/SEASON.md, "One unit's states"): nothing is
appraised before submission; round 1 adjusts or confirms any leaf; round 2
re-appraises flagged leaves only; every round's value stays in the history and
the final is the last one given; "confirmed" is not "never reviewed"; the
council closes a unit only when every leaf is reviewed or listed."""

from __future__ import annotations

import pytest

from domain.errors import DomainError
from tests.log_operator import Operator
from tests.season_unit import OTHER, C, U, Unit, clean, findings
from tests.support import Env, Key, command


@pytest.fixture
def unit(env: Env) -> Unit:
    return Unit.open(env)


def submitted(unit: Unit) -> Unit:
    unit.score("1.1.1", "1")
    unit.submit()
    return unit


def events(unit: Unit, topic: str) -> list[dict]:
    op = Operator(unit.env)
    out = []
    for i in range(unit.env.app.tlog.size()):
        if op.event_topic(i).endswith(topic):
            out.append(op.state(i))
    return out


def test_nothing_is_appraised_before_submission(unit: Unit):
    unit.score("1.1.1", "1")
    assert (
        unit.refused(unit.appraiser, "adjust_score", leaf="1.1.1", points="0.5", reason="Chậm").code
        == "not_submitted"
    )
    assert unit.refused(unit.appraiser, "confirm_score", leaf="1.1.1").code == "not_submitted"
    assert (
        unit.refused(unit.appraiser, "request_explanation", leaf="1.1.1", question="Vì sao?").code
        == "not_submitted"
    )
    assert unit.refused(unit.council, "close_appraisal").code == "not_submitted"
    assert unit.stage() == "not_submitted"
    clean(unit.env)


def test_two_rounds_keep_both_values_and_the_final_is_the_last_even_when_lower(unit: Unit):
    submitted(unit)
    assert unit.stage() == "round_1"
    unit.adjust("1.1.1", "0.75")
    unit.flag("1.1.1")
    assert unit.stage() == "explanation"
    unit.answer("1.1.1")
    unit.submit_explanations()
    assert unit.stage() == "round_2"
    unit.adjust("1.1.1", "0.5", reason="Văn bản giải trình không đủ")

    adjusted = events(unit, "Assessment.ScoreAdjusted")
    assert [(e["points"], e["round"]) for e in adjusted] == [("0.75", 1), ("0.5", 2)]
    a = unit.assessment
    assert a.appraised_view()["1.1.1"] == {"points": "0.5"}  # the last, not the max
    assert a.reviewed["1.1.1"] == {"how": "adjusted", "round": 2}
    clean(unit.env)


def test_round_2_re_appraises_flagged_leaves_only(unit: Unit):
    submitted(unit)
    unit.flag("1.1.1")
    unit.adjust("1.1.2", "0")  # round 1 goes on while the commune explains
    unit.answer("1.1.1")
    unit.submit_explanations()
    for type_, more in (
        ("adjust_score", {"points": "0", "reason": "Chậm"}),
        ("confirm_score", {}),
    ):
        e = unit.refused(unit.appraiser, type_, leaf="1.2.1", **more)
        assert (e.code, e.status, e.field) == ("not_flagged", 409, "leaf")
    assert (
        unit.refused(unit.appraiser, "request_explanation", leaf="1.2.1", question="?").code
        == "round_2_started"
    )
    unit.confirm("1.1.1")
    assert unit.assessment.reviewed["1.1.1"] == {"how": "confirmed", "round": 2}
    clean(unit.env)


def test_confirmed_and_never_reviewed_are_different_and_a_confirmation_is_a_copy(unit: Unit):
    submitted(unit)
    unit.confirm("1.1.1", note="Đúng hồ sơ")
    a = unit.assessment
    assert a.reviewed == {"1.1.1": {"how": "confirmed", "round": 1}}
    assert "1.1.2" not in a.reviewed  # never reviewed: shown as such
    assert a.appraised_view()["1.1.2"] == {"points": "0"}  # counts its self input
    assert a.appraised_view()["1.1.1"] == {"points": "1"}
    # The self input revised in an answer later does not move the confirmed copy.
    unit.flag("1.1.1")
    unit.answer("1.1.1", points="0.5")
    a = unit.assessment
    assert a.self_inputs["1.1.1"] == {"points": "0.5"}
    assert a.appraised_view()["1.1.1"] == {"points": "1"}
    clean(unit.env)


def test_appraisal_starts_with_a_confirmation_too_so_the_chair_cannot_withdraw(unit: Unit):
    submitted(unit)
    unit.confirm("1.1.1")
    e = unit.refused(unit.chair, "withdraw_submission", reason="Sửa")
    assert e.code == "appraisal_started"


def test_a_single_round_cycle_has_no_explanations(env: Env):
    unit = Unit.open(env, rounds=1)
    submitted(unit)
    e = unit.refused(unit.appraiser, "request_explanation", leaf="1.1.1", question="?")
    assert (e.code, e.status) == ("single_round", 409)


def test_a_leaf_is_flagged_once(unit: Unit):
    submitted(unit)
    unit.flag("1.1.1")
    e = unit.refused(unit.appraiser, "request_explanation", leaf="1.1.1", question="Lại?")
    assert (e.code, e.status) == ("already_flagged", 409)
    assert (
        unit.refused(unit.appraiser, "request_explanation", leaf="9.9.9", question="?").code
        == "unknown_leaf"
    )
    assert (
        unit.refused(unit.appraiser, "request_explanation", leaf="1.1.2", question="  ").code
        == "question_required"
    )


# -- the unit's close ----------------------------------------------------------------------
def test_a_close_lists_what_is_not_reviewed_and_confirms_what_it_lists(unit: Unit):
    submitted(unit)
    unit.adjust("1.1.1", "0.5")
    e = unit.refused(unit.council, "close_appraisal")
    assert (e.code, e.status) == ("leaves_not_reviewed", 409)
    assert "118" in str(e) and "(+108)" in str(e)  # up to 10 named, then how many more
    rest = unit.unreviewed()
    assert len(rest) == 118 and "1.1.1" not in rest
    # A listed leaf must be one not reviewed yet, and a leaf.
    e = unit.refused(unit.council, "close_appraisal", confirm=[*rest, "1.1.1"])
    assert (e.status, [p.code for p in e.problems]) == (422, ["leaf_reviewed"])
    e = unit.refused(unit.council, "close_appraisal", confirm=[*rest, "9.9.9"])
    assert [p.code for p in e.problems] == ["unknown_leaf"]
    assert unit.refused(unit.council, "close_appraisal", confirm=rest[1:]).code == (
        "leaves_not_reviewed"
    )

    unit.close(confirm=list(reversed(rest)))
    a = unit.assessment
    assert a.closed and unit.stage() == "closed"
    assert a.reviewed["1.1.1"] == {"how": "adjusted", "round": 1}
    assert a.reviewed[rest[0]] == {"how": "confirmed", "round": 1}
    assert events(unit, "Assessment.AppraisalClosed")[0]["confirmed"] == sorted(rest)
    clean(unit.env)


def test_nothing_appraises_a_closed_unit(unit: Unit):
    submitted(unit)
    unit.close(confirm=unit.unreviewed())
    for signer, type_, more in (
        (unit.appraiser, "adjust_score", {"leaf": "1.1.1", "points": "0", "reason": "x"}),
        (unit.appraiser, "confirm_score", {"leaf": "1.1.1"}),
        (unit.appraiser, "request_explanation", {"leaf": "1.1.1", "question": "?"}),
        (unit.council, "close_appraisal", {}),
    ):
        e = unit.refused(signer, type_, **more)
        assert (e.code, e.status) == ("appraisal_closed", 409), type_
    clean(unit.env)


def test_a_close_waits_for_pending_explanations_and_a_flagged_leaf_needs_round_2(unit: Unit):
    submitted(unit)
    unit.adjust("1.1.1", "0.5")
    unit.flag("1.1.1")
    rest = [leaf for leaf in unit.unreviewed() if leaf != "1.1.1"]
    e = unit.refused(unit.council, "close_appraisal", confirm=rest)
    assert (e.code, e.status) == ("explanations_pending", 409)
    unit.answer("1.1.1")
    unit.submit_explanations()
    # Reviewed in round 1 only: after its answer, it needs a review again.
    e = unit.refused(unit.council, "close_appraisal", confirm=rest)
    assert e.code == "leaves_not_reviewed" and "1.1.1" in str(e)
    unit.confirm("1.1.1")
    unit.close(confirm=rest)
    assert unit.assessment.reviewed[rest[0]] == {"how": "confirmed", "round": 2}
    clean(unit.env)


def test_a_flagged_leaf_may_be_listed_in_the_close_instead(unit: Unit):
    submitted(unit)
    unit.flag("1.1.1")
    unit.answer("1.1.1")
    unit.submit_explanations()
    unit.close(confirm=unit.unreviewed())
    assert unit.assessment.reviewed["1.1.1"] == {"how": "confirmed", "round": 2}
    clean(unit.env)


# -- the cycle's state: closed by the council, a ranking published ------------------------------
def approver(unit: Unit) -> Key:
    return unit.env.register("approver", "province:thai-nguyen")[0]


def test_after_the_cycles_close_nothing_is_submitted_appraised_or_closed_again(env: Env):
    """The council closes the cycle once every submitted unit is closed; then a
    closed unit is not appraised again and a unit that never submitted cannot."""
    unit = Unit.open(env)
    submitted(unit)
    other = Unit(
        env,
        *(
            env.register(r, s)[0]
            for r, s in (
                ("commune_officer", f"commune:{OTHER}"),
                ("commune_chair", f"commune:{OTHER}"),
            )
        ),
        unit.appraiser,
        unit.council,
        unit=OTHER,
    )
    for leaf in env.app.framework(other.cycle_now.framework).leaves:
        other.score(leaf.code, "0")
    closing = command(unit.council, "close_appraisal", cycle=C)
    with pytest.raises(DomainError) as refusal:
        env.send(closing, unit.council)
    assert refusal.value.code == "units_not_closed" and U in refusal.value.message_en
    unit.close(confirm=unit.unreviewed())
    env.season_end(C, unit.council, approver(unit), "closed")
    for signer, type_, more in (
        (unit.appraiser, "adjust_score", {"leaf": "1.1.1", "points": "0", "reason": "x"}),
        (unit.appraiser, "confirm_score", {"leaf": "1.1.1"}),
        (unit.council, "close_appraisal", {}),
    ):
        e = unit.refused(signer, type_, **more)
        assert e.status == 409 and e.code in ("appraisal_closed", "unit_closed"), (type_, e.code)
    with pytest.raises(DomainError) as late:
        other.submit()
    assert late.value.code == "appraisal_closed"
    clean(env)


# -- corrections after publication ------------------------------------------------------------
def correction(unit: Unit, **more) -> dict:
    fields = {
        "leaf": "1.1.1",
        "points": "0.25",
        "reason": "Thanh tra phát hiện sai sót",
        "evidence_ids": ["ev-tt-01"],
    }
    return {**fields, **more}


def attach_appraisers_evidence(unit: Unit) -> None:
    unit.send(
        unit.appraiser,
        "attach_evidence",
        evidence_id="ev-tt-01",
        leaves=["1.1.1"],
        file=None,
        document={"number": "02/KL-TTr"},
        description=None,
    )


def test_a_score_is_corrected_only_after_publication_and_only_on_a_closed_unit(unit: Unit):
    submitted(unit)
    attach_appraisers_evidence(unit)
    e = unit.refused(unit.appraiser, "correct_score", **correction(unit))
    assert (e.code, e.status) == ("not_published", 409)
    unit.close(confirm=unit.unreviewed())
    e = unit.refused(unit.appraiser, "correct_score", **correction(unit))
    assert (e.code, e.status) == ("not_published", 409)
    unit.env.season_end(C, unit.council, approver(unit), "approved")
    e = unit.refused(unit.appraiser, "correct_score", **correction(unit))
    assert (e.code, e.status) == ("not_published", 409)  # approved is not published
    unit.env.season_end(C, unit.council, approver(unit), "published", close=False)
    e = unit.refused(unit.appraiser, "correct_score", **correction(unit, evidence_ids=[]))
    assert [p.code for p in e.problems] == ["evidence_required"]
    assert (
        unit.refused(
            unit.appraiser, "correct_score", **correction(unit, evidence_ids=["ev-none"])
        ).code
        == "evidence_not_found"
    )
    unit.send(unit.appraiser, "correct_score", **correction(unit))
    a = unit.assessment
    assert a.appraised_view()["1.1.1"] == {"points": "0.25"}
    assert a.reviewed["1.1.1"] == {"how": "corrected", "round": 1}
    clean(unit.env)


def test_a_correction_needs_the_units_close(env: Env):
    """After publication every submitted unit is closed; a unit that never
    submitted has no appraisal to correct."""
    unit = Unit.open(env)
    submitted(unit)
    unit.close(confirm=unit.unreviewed())
    env.season_end(C, unit.council, approver(unit))
    never = Unit(env, unit.officer, unit.chair, unit.appraiser, unit.council, unit=OTHER)
    attach_appraisers_evidence(never)
    e = never.refused(never.appraiser, "correct_score", **correction(never))
    assert e.status == 409 and e.code in ("not_closed", "not_submitted"), e.code
    clean(env)


# -- verify: the new events re-derived, forgeries reported -------------------------------------
def appraised_season(env: Env) -> tuple[Unit, dict[str, int]]:
    unit = Unit.open(env)
    submitted(unit)
    leaves = {
        "adjusted": unit.adjust("1.1.1", "0.5")["log_index"],
        "confirmed": unit.confirm("1.1.2")["log_index"],
        "flagged": unit.flag("1.2.1")["log_index"],
        "answered": unit.answer("1.2.1", points="0")["log_index"],
        "explained": unit.submit_explanations()["log_index"],
    }
    leaves["round_2"] = unit.adjust("1.2.1", "0")["log_index"]
    leaves["closed"] = unit.close(confirm=unit.unreviewed())["log_index"]
    clean(env)
    return unit, leaves


@pytest.mark.parametrize(
    "name", ["adjusted", "confirmed", "flagged", "answered", "explained", "round_2", "closed"]
)
def test_each_new_event_copied_onto_another_unit_is_wrong_aggregate(env: Env, name):
    from domain.assessment import Assessment

    _unit, leaves = appraised_season(env)
    op = Operator(env)
    forged = op.append_copy(leaves[name], onto=Assessment.create_id("c", OTHER))
    op.reseal()
    assert ("wrong_aggregate", forged) in findings(env)


@pytest.mark.parametrize(
    ("name", "member", "value"),
    [
        ("adjusted", "round", 2),
        ("round_2", "round", 1),
        ("confirmed", "round", 2),
        ("confirmed", "note", "Theo chỉ đạo"),
        ("flagged", "question", "Câu hỏi khác"),
        ("answered", "points", "1"),
        ("answered", "evidence_ids", ["ev-x"]),
        ("explained", "answered", []),
        ("closed", "confirmed", []),
    ],
)
def test_a_member_no_one_signed_is_event_not_derived(env: Env, name, member, value):
    _unit, leaves = appraised_season(env)
    op = Operator(env)
    op.rewrite(leaves[name], lambda state: state.update({member: value}))
    op.reseal()
    found = [f for f in findings(env) if f[1] == leaves[name]]
    assert found == [("event_not_derived", leaves[name])]


def test_an_explanation_request_stored_again_is_command_replayed(env: Env):
    _unit, leaves = appraised_season(env)
    op = Operator(env)
    forged = op.append_copy(leaves["flagged"])
    op.reseal()
    assert ("command_replayed", forged) in findings(env)
