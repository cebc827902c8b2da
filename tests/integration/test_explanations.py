"""Explanation (giải trình) between the two rounds (docs/SEASON.md): the commune
answers flagged leaves only, may revise their self input and attach evidence
on them, may answer again (the last answer counts) until its chair submits
the explanations, which needs every flagged leaf answered."""

from __future__ import annotations

from unittest import mock

import pytest

from domain.assessment import Assessment
from tests.log_operator import Operator
from tests.season_unit import Unit, clean, findings
from tests.support import Env


@pytest.fixture
def unit(env: Env) -> Unit:
    u = Unit.open(env)
    u.score("1.1.1", "1")
    u.submit()
    return u


def evidence(leaves: list[str], evidence_id: str = "ev-gt-01") -> dict:
    return {
        "evidence_id": evidence_id,
        "leaves": leaves,
        "file": None,
        "document": {"number": "15/KH-UBND"},
        "description": None,
    }


def test_only_flagged_leaves_are_answered_and_the_last_answer_counts(unit: Unit):
    e = unit.refused(unit.officer, "answer_explanation", leaf="1.1.1", answer="Có")
    assert (e.code, e.status) == ("not_flagged", 409)
    unit.flag("1.1.1")
    assert (
        unit.refused(unit.officer, "answer_explanation", leaf="1.1.2", answer="Có").code
        == "not_flagged"
    )
    unit.answer("1.1.1", answer="Lần 1")
    unit.answer("1.1.1", signer=unit.chair, answer="Lần 2", points="0.5")
    a = unit.assessment
    assert a.flags["1.1.1"]["answer"] == "Lần 2"
    assert a.self_inputs["1.1.1"] == {"points": "0.5"}  # the revised self input
    assert a.appraised_view()["1.1.1"] == {"points": "0.5"}  # not reviewed yet
    clean(unit.env)


def test_a_revised_input_is_validated_like_a_self_score(unit: Unit):
    unit.flag("1.1.1")
    e = unit.refused(unit.officer, "answer_explanation", leaf="1.1.1", answer="Có", points="2")
    assert e.status == 422
    e = unit.refused(unit.officer, "answer_explanation", leaf="1.1.1", answer=" ")
    assert e.code == "answer_required"
    e = unit.refused(
        unit.officer, "answer_explanation", leaf="1.1.1", answer="Có", evidence_ids=["ev-none"]
    )
    assert e.code == "evidence_not_found"


def test_explanations_are_submitted_once_every_flagged_leaf_is_answered(unit: Unit):
    e = unit.refused(unit.chair, "submit_explanations")
    assert (e.code, e.status) == ("no_explanation_requested", 409)
    unit.flag("1.1.1")
    unit.flag("1.1.2")
    unit.answer("1.1.1")
    e = unit.refused(unit.chair, "submit_explanations")
    assert (e.code, e.status) == ("explanation_missing", 409) and "1.1.2" in str(e)
    unit.answer("1.1.2")
    unit.submit_explanations()
    assert unit.assessment.explanations_submitted
    assert unit.refused(unit.chair, "submit_explanations").code == "explanations_submitted"
    e = unit.refused(unit.officer, "answer_explanation", leaf="1.1.1", answer="Thêm")
    assert (e.code, e.status) == ("explanations_submitted", 409)
    clean(unit.env)


def test_evidence_on_flagged_leaves_is_attached_in_the_window_only(unit: Unit):
    unit.flag("1.1.1")
    e = unit.refused(unit.officer, "attach_evidence", **evidence(["1.1.1", "1.1.2"]))
    assert e.code == "assessment_submitted"  # 1.1.2 is not flagged
    unit.send(unit.officer, "attach_evidence", **evidence(["1.1.1"]))
    unit.answer("1.1.1", evidence_ids=["ev-gt-01"])
    assert unit.assessment.flags["1.1.1"]["evidence_ids"] == ["ev-gt-01"]
    unit.submit_explanations()
    e = unit.refused(unit.officer, "attach_evidence", **evidence(["1.1.1"], "ev-gt-02"))
    assert e.code == "assessment_submitted"
    clean(unit.env)


# -- forgeries ----------------------------------------------------------------------
def test_an_answer_stored_after_the_explanations_were_submitted_is_event_not_derived(unit: Unit):
    unit.flag("1.1.1")
    unit.answer("1.1.1")
    unit.submit_explanations()
    unit.env.checkpoint()
    late = unit.officer.sign(
        unit.cmd(unit.officer, "answer_explanation", leaf="1.1.1", answer="Bổ sung", points="0")
    )
    with mock.patch.object(Assessment, "_open_to_explanation", lambda self, when: None):
        forged = Operator(unit.env).store(late)["log_index"]
    Operator(unit.env).reseal()
    assert findings(unit.env) == [("event_not_derived", forged)]


def test_an_answer_with_an_input_no_one_signed_is_event_not_derived(unit: Unit):
    unit.flag("1.1.1")
    answered = unit.answer("1.1.1")["log_index"]
    clean(unit.env)
    op = Operator(unit.env)
    op.rewrite(answered, lambda state: state.update(points="1"))
    op.reseal()
    assert findings(unit.env) == [("event_not_derived", answered)]
