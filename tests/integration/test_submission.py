"""Submission (issue 8, step 2): the commune chair signs the digest of exactly
the self-scores and evidence being handed in and their total; the server
refuses an incomplete assessment or a digest of anything else, and from then
on the commune's scores and evidence are locked until the chair withdraws."""

from __future__ import annotations

from unittest import mock

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain import submission
from domain.assessment import Assessment
from domain.errors import DomainError
from domain.framework import Framework
from tests.log_operator import Operator
from tests.support import Env, Key, Written, command

C, U = "c", "xa-a"


def score(env: Env, officer: Key, leaf: str, points: str = "0") -> dict:
    return env.send(
        command(officer, "record_self_score", cycle=C, unit=U, leaf=leaf, points=points),
        officer,
    )


def scored(env: Env) -> tuple[Framework, Key, Key]:
    framework = env.open_cycle()
    officer, _ = env.register("commune_officer", f"commune:{U}")
    chair, _ = env.register("commune_chair", f"commune:{U}")
    for leaf in framework.leaves:
        score(env, officer, leaf.code, str(leaf.max_points) if leaf.code == "1.1.1" else "0")
    return framework, officer, chair


def preview(env: Env, framework: Framework) -> dict:
    return env.app.get(Assessment.create_id(C, U), for_update=False).submission(framework)


def submit(env: Env, chair: Key, covered: dict, **override) -> dict:
    fields = {"digest": submission.digest(covered), "self_total": covered["self_total"]}
    return env.send(
        command(chair, "submit_assessment", cycle=C, unit=U, **{**fields, **override}), chair
    )


def refused(env: Env, cmd: dict, signer: Key) -> DomainError:
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        env.send(cmd, signer)
    assert Written.read(env.app) == before
    return e.value


def test_a_chair_submits_what_was_scored_and_the_communes_scores_lock(env: Env):
    framework, officer, chair = scored(env)
    covered = preview(env, framework)
    assert len(covered["self"]) == 119 and covered["evidence"] == []
    assert covered["self_total"] == "1"  # 1.1.1 at its maximum, every other leaf 0
    receipt = submit(env, chair, covered)
    assert Operator(env).event_topic(receipt["log_index"]).endswith("Assessment.Submitted")

    change = command(officer, "record_self_score", cycle=C, unit=U, leaf="1.1.2", points="0")
    assert refused(env, change, officer).code == "assessment_submitted"
    evidence = command(
        officer,
        "attach_evidence",
        cycle=C,
        unit=U,
        evidence_id="ev-late",
        leaves=["1.1.1"],
        file=None,
        document={"number": "15/KH-UBND"},
        description=None,
    )
    assert refused(env, evidence, officer).code == "assessment_submitted"
    # The appraisers' own evidence is not the commune's: still accepted.
    appraiser, _ = env.register("appraiser", "authority:dong-hy")
    env.send({**evidence, "actor": appraiser.key_id, "id": "t-appraiser-ev"}, appraiser)


def test_an_incomplete_assessment_cannot_be_submitted_and_says_which_leaves(env: Env):
    framework = env.open_cycle()
    officer, _ = env.register("commune_officer", f"commune:{U}")
    chair, _ = env.register("commune_chair", f"commune:{U}")
    score(env, officer, "1.1.1")
    cmd = command(chair, "submit_assessment", cycle=C, unit=U, digest="sha256:" + "0" * 64)
    e = refused(env, {**cmd, "self_total": "0"}, chair)
    assert e.code == "assessment_incomplete" and "118" in str(e)
    assert {p.field for p in e.problems} == {lf.code for lf in framework.leaves} - {"1.1.1"}


def test_a_digest_or_total_of_anything_but_the_assessment_now_is_refused(env: Env):
    framework, officer, chair = scored(env)
    covered = preview(env, framework)
    score(env, officer, "1.1.2", "0.5")  # changed after the chair looked
    e = refused(
        env,
        command(
            chair,
            "submit_assessment",
            cycle=C,
            unit=U,
            digest=submission.digest(covered),
            self_total=covered["self_total"],
        ),
        chair,
    )
    assert e.code == "submission_differs"
    now = preview(env, framework)
    assert now["self_total"] == "1.5"
    e = refused(
        env,
        command(
            chair,
            "submit_assessment",
            cycle=C,
            unit=U,
            digest=submission.digest(now),
            self_total="1.50",
        ),
        chair,
    )
    assert e.code == "submission_differs" and e.field == "self_total"


def test_only_the_communes_chair_may_submit(env: Env):
    framework, officer, _chair = scored(env)
    covered = preview(env, framework)
    cmd = command(
        officer,
        "submit_assessment",
        cycle=C,
        unit=U,
        digest=submission.digest(covered),
        self_total=covered["self_total"],
    )
    assert refused(env, cmd, officer).code == "not_permitted"


def test_a_withdrawn_submission_reopens_the_scores_until_appraisal_starts(env: Env):
    framework, officer, chair = scored(env)
    submit(env, chair, preview(env, framework))
    env.send(command(chair, "withdraw_submission", cycle=C, unit=U, reason="Sửa 1.1.2"), chair)
    score(env, officer, "1.1.2", "0.5")
    submit(env, chair, preview(env, framework))

    appraiser, _ = env.register("appraiser", "authority:dong-hy")
    env.send(
        command(
            appraiser,
            "adjust_score",
            cycle=C,
            unit=U,
            leaf="1.1.2",
            points="0",
            reason="Chưa có văn bản",
        ),
        appraiser,
    )
    again = command(chair, "withdraw_submission", cycle=C, unit=U, reason="Sửa lại")
    assert refused(env, again, chair).code == "appraisal_started"


def test_verify_replays_a_season_with_submissions_clean_and_catches_a_forged_lock_break(env: Env):
    framework, officer, chair = scored(env)
    submit(env, chair, preview(env, framework))
    env.checkpoint()
    assert verify(StoreSource(env.app.tlog), workers=1).findings == []

    # The operator stores a self-score the officer signed after the submission
    # (the server refused it), as if it had been accepted.
    late = officer.sign(
        command(officer, "record_self_score", cycle=C, unit=U, leaf="1.1.2", points="0.5")
    )
    with mock.patch.object(Assessment, "_open_to_commune", lambda self, when: None):
        forged = Operator(env).store(late)["log_index"]
    Operator(env).reseal()
    found = verify(StoreSource(env.app.tlog), workers=1).findings
    assert [(f.kind, f.position.get("leaf_index")) for f in found] == [
        ("event_not_derived", forged)
    ]
    assert "assessment_submitted" in found[0].detail


# -- the operator's forgeries of the new commands, each reported -----------------------
def submitted_season(env: Env) -> tuple[int, Key]:
    framework = env.open_cycle(["xa-a", "xa-b"])
    officer, _ = env.register("commune_officer", f"commune:{U}")
    chair, _ = env.register("commune_chair", f"commune:{U}")
    for leaf in framework.leaves:
        score(env, officer, leaf.code)
    leaf = submit(env, chair, preview(env, framework))["log_index"]
    env.checkpoint()
    return leaf, chair


def findings(env: Env) -> list[tuple[str, int | None]]:
    return sorted(
        (f.kind, f.position.get("leaf_index"))
        for f in verify(StoreSource(env.app.tlog), workers=1).findings
    )


def test_a_submission_copied_onto_another_unit_is_wrong_aggregate(env: Env):
    submitted, _chair = submitted_season(env)
    op = Operator(env)
    other = Assessment.create_id(C, "xa-b")
    forged = op.append_copy(submitted, onto=other)
    op.reseal()
    assert ("wrong_aggregate", forged) in findings(env)


def test_a_submission_stored_again_after_its_withdrawal_is_command_replayed(env: Env):
    submitted, chair = submitted_season(env)
    env.send(command(chair, "withdraw_submission", cycle=C, unit=U, reason="Sửa điểm"), chair)
    op = Operator(env)
    forged = op.append_copy(submitted)
    op.reseal()
    assert ("command_replayed", forged) in findings(env)


@pytest.mark.parametrize("member", ["self_total", "digest"])
def test_a_submitted_total_or_digest_no_one_signed_is_event_not_derived(env: Env, member):
    submitted, _chair = submitted_season(env)
    op = Operator(env)
    op.rewrite(submitted, lambda state: state.update({member: "99"}))
    op.reseal()
    found = verify(StoreSource(env.app.tlog), workers=1).findings
    assert [(f.kind, f.position.get("leaf_index")) for f in found] == [
        ("event_not_derived", submitted)
    ]
    assert member in found[0].detail


def test_a_withdrawal_reason_no_one_signed_is_event_not_derived(env: Env):
    _submitted, chair = submitted_season(env)
    env.send(command(chair, "withdraw_submission", cycle=C, unit=U, reason="Sửa điểm"), chair)
    withdrawn = env.app.tlog.size() - 1
    op = Operator(env)
    op.rewrite(withdrawn, lambda state: state.update(reason="Theo chỉ đạo"))
    op.reseal()
    found = verify(StoreSource(env.app.tlog), workers=1).findings
    assert [(f.kind, f.position.get("leaf_index")) for f in found] == [
        ("event_not_derived", withdrawn)
    ]
    assert "reason" in found[0].detail


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"reason": "Sửa\x00điểm"}, "control_character"),
        ({"reason": "Sửa \u202eđiểm"}, "control_character"),
        ({"reason": "x" * 5000}, "text_too_long"),
        ({"reason": "   "}, "reason_required"),
        ({"reason": "Sửa", "note": "thêm"}, "unknown_field"),
    ],
    ids=["nul", "bidi", "huge", "blank", "unsigned-extra-field"],
)
def test_a_hostile_withdrawal_is_a_clear_4xx_and_writes_nothing(env: Env, fields, code):
    _submitted, chair = submitted_season(env)
    e = refused(env, command(chair, "withdraw_submission", cycle=C, unit=U, **fields), chair)
    assert 400 <= e.status < 500
    assert code in {e.code, *(p.code for p in e.problems)}


@pytest.mark.parametrize(
    "digest",
    ["../../keys/log.key", "sha256:" + "A" * 64, "sha256:" + "0" * 60000, "=cmd|' /C calc'!A0"],
    ids=["path", "uppercase", "huge", "formula"],
)
def test_a_hostile_digest_is_refused_409_and_writes_nothing(env: Env, digest):
    framework = env.open_cycle()
    officer, _ = env.register("commune_officer", f"commune:{U}")
    chair, _ = env.register("commune_chair", f"commune:{U}")
    for leaf in framework.leaves:
        score(env, officer, leaf.code)
    covered = preview(env, framework)
    e = refused(
        env,
        command(
            chair,
            "submit_assessment",
            cycle=C,
            unit=U,
            digest=digest,
            self_total=covered["self_total"],
        ),
        chair,
    )
    assert (e.code, e.status, e.field) == ("submission_differs", 409, "digest")
    assert len(str(e)) < 600  # a huge signed value is not echoed whole
