"""Deadlines of one unit's commands (docs/SEASON.md, "The calendar"), judged on
the command's signed issued_at: a second after the deadline is refused
409 deadline_passed naming it, a second before is accepted; explanation_due
passing with flagged leaves starts round 2. The deadlines lie within the
server's clock-skew window, so commands are signed "in the future"."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.season_unit import Unit, at, clean, deadline_text, whole_seconds_from_now
from tests.support import Env

SECOND = timedelta(seconds=1)


class Calendar:
    def __init__(self) -> None:
        self.self_due = whole_seconds_from_now(120)
        self.explanation_due = whole_seconds_from_now(240)
        self.appraisal_due = whole_seconds_from_now(360)

    def deadlines(self) -> dict:
        return {
            "self_assessment_due": deadline_text(self.self_due),
            "explanation_due": deadline_text(self.explanation_due),
            "appraisal_due": deadline_text(self.appraisal_due),
        }


def before(moment: datetime) -> str:
    return at(moment - SECOND)


def after(moment: datetime) -> str:
    return at(moment + SECOND)


@pytest.fixture
def cal() -> Calendar:
    return Calendar()


@pytest.fixture
def unit(env: Env, cal: Calendar) -> Unit:
    return Unit.open(env, deadlines=cal.deadlines())


def late(unit: Unit, signer, type_: str, kind: str, due: datetime, **fields) -> None:
    e = unit.refused(signer, type_, issued_at=after(due), **fields)
    assert (e.code, e.status, e.field) == ("deadline_passed", 409, kind)
    assert deadline_text(due) in str(e)


def evidence(evidence_id: str) -> dict:
    return {
        "evidence_id": evidence_id,
        "leaves": ["1.1.1"],
        "file": None,
        "document": {"number": "15/KH-UBND"},
        "description": None,
    }


def test_the_commune_works_until_its_self_assessment_deadline(unit: Unit, cal: Calendar):
    due = cal.self_due
    unit.score("1.1.1", "1", issued_at=before(due))
    late(
        unit,
        unit.officer,
        "record_self_score",
        "self_assessment_due",
        due,
        leaf="1.1.2",
        points="0",
    )
    late(
        unit,
        unit.officer,
        "declare_not_applicable",
        "self_assessment_due",
        due,
        leaf="1.8.1",
        reason="Không phát sinh",
    )
    unit.send(unit.officer, "attach_evidence", **evidence("ev-01"), issued_at=before(due))
    late(unit, unit.officer, "attach_evidence", "self_assessment_due", due, **evidence("ev-02"))
    late(
        unit,
        unit.officer,
        "withdraw_evidence",
        "self_assessment_due",
        due,
        evidence_id="ev-01",
        reason="Nhầm",
    )
    # The appraisers' evidence is not the commune's: no deadline.
    unit.send(unit.appraiser, "attach_evidence", **evidence("ev-03"), issued_at=after(due))
    clean(unit.env)


def test_submission_and_its_withdrawal_end_at_the_self_assessment_deadline(
    unit: Unit, cal: Calendar
):
    due = cal.self_due
    for leaf in unit.env.app.framework(unit.cycle_now.framework).leaves:
        unit.score(leaf.code, "0", issued_at=before(due))
    from domain.submission import digest

    covered = unit.assessment.submission(unit.env.app.framework(unit.cycle_now.framework))
    fields = {"digest": digest(covered), "self_total": covered["self_total"]}
    late(unit, unit.chair, "submit_assessment", "self_assessment_due", due, **fields)
    unit.send(unit.chair, "submit_assessment", **fields, issued_at=before(due))
    late(unit, unit.chair, "withdraw_submission", "self_assessment_due", due, reason="Sửa")
    unit.send(unit.chair, "withdraw_submission", reason="Sửa", issued_at=before(due))
    clean(unit.env)


def test_appraisal_ends_at_the_appraisal_deadline(unit: Unit, cal: Calendar):
    unit.submit()
    due = cal.appraisal_due
    late(
        unit,
        unit.appraiser,
        "adjust_score",
        "appraisal_due",
        due,
        leaf="1.1.1",
        points="0",
        reason="Chậm",
    )
    late(unit, unit.appraiser, "confirm_score", "appraisal_due", due, leaf="1.1.2")
    unit.adjust("1.1.1", "0", issued_at=before(due))
    unit.confirm("1.1.2", issued_at=before(due))
    assert unit.assessment.reviewed == {
        "1.1.1": {"how": "adjusted", "round": 1},
        "1.1.2": {"how": "confirmed", "round": 1},
    }
    clean(unit.env)


def test_explanations_end_at_their_deadline_and_round_2_begins_then(unit: Unit, cal: Calendar):
    unit.submit()
    due = cal.explanation_due
    late(
        unit,
        unit.appraiser,
        "request_explanation",
        "explanation_due",
        due,
        leaf="1.1.1",
        question="?",
    )
    unit.flag("1.1.1", issued_at=before(due))
    late(
        unit, unit.officer, "answer_explanation", "explanation_due", due, leaf="1.1.1", answer="Có"
    )
    unit.answer("1.1.1", issued_at=before(due))
    late(unit, unit.chair, "submit_explanations", "explanation_due", due)
    assert unit.stage(due - SECOND) == "explanation"
    assert unit.stage(due + SECOND) == "round_2"

    # Before the deadline: still round 1 (and the close waits for the answers).
    unit.adjust("1.1.2", "0", issued_at=before(due))
    e = unit.refused(unit.council, "close_appraisal", issued_at=before(due))
    assert e.code == "explanations_pending"
    # After it, with flagged leaves and no submission: round 2, flagged leaves only.
    e = unit.refused(
        unit.appraiser,
        "adjust_score",
        leaf="1.2.1",
        points="0",
        reason="Chậm",
        issued_at=after(due),
    )
    assert e.code == "not_flagged"
    unit.adjust("1.1.1", "0.5", issued_at=after(due))
    a = unit.assessment
    assert a.reviewed["1.1.1"] == {"how": "adjusted", "round": 2}
    assert a.reviewed["1.1.2"] == {"how": "adjusted", "round": 1}
    unit.close(confirm=unit.unreviewed(), issued_at=after(due))
    assert unit.assessment.closed
    clean(unit.env)
