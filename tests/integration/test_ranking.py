"""The council's close of a cycle and the ranking (issue 8, steps 6-7): the
council chair signs a manifest of every unit computed from the log, the
approver signs its digest with the decision, and it is published. A server
that accepts a manifest the log does not bear out, or closes a cycle with a
unit still open, is caught by verify from the units' own replay."""

from __future__ import annotations

from unittest import mock

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain import ranking as ranking_rules
from domain import submission
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.ranking import Ranking
from tests.support import Env, Key, Written, command

C = "c"
UNITS = ["xa-a", "xa-b", "xa-c"]


def season(env: Env) -> dict[str, Key]:
    env.open_cycle(UNITS, cycle=C)
    people = {}
    for role in ("council_chair", "approver"):
        people[role], _ = env.register(role, "authority:dong-hy")
    return people


def submit_unit(env: Env, unit: str, top: str = "0") -> None:
    """Scores every leaf of `unit` (1.1.1 at `top`, the rest 0) and submits."""
    officer, _ = env.register("commune_officer", f"commune:{unit}")
    chair, _ = env.register("commune_chair", f"commune:{unit}")
    cycle = env.app.get(Cycle.create_id(C), for_update=False)
    framework = env.app.framework(cycle.framework)
    for leaf in framework.leaves:
        points = top if leaf.code == "1.1.1" else "0"
        env.send(
            command(
                officer, "record_self_score", cycle=C, unit=unit, leaf=leaf.code, points=points
            ),
            officer,
        )
    covered = env.app.get(Assessment.create_id(C, unit), for_update=False).submission(framework)
    env.send(
        command(
            chair,
            "submit_assessment",
            cycle=C,
            unit=unit,
            digest=submission.digest(covered),
            self_total=covered["self_total"],
        ),
        chair,
    )


def draft(env: Env) -> dict:
    cycle = env.app.get(Cycle.create_id(C), for_update=False)
    found = env.app.get(Ranking.create_id(C), for_update=False)
    return ranking_rules.manifest(
        cycle, found.next_version(), env.app.framework(cycle.framework), env.app.assessments(cycle)
    )


def refused(env: Env, cmd: dict, signer: Key) -> DomainError:
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        env.send(cmd, signer)
    assert Written.read(env.app) == before
    return e.value


def findings(env: Env, workers: int = 1) -> list[tuple[str, int, str]]:
    report = verify(StoreSource(env.app.tlog), workers=workers)
    return [(f.kind, f.position.get("leaf_index"), f.detail) for f in report.findings]


@pytest.fixture(params=[1, 2], ids=["inline", "two-workers"])
def workers(request, monkeypatch) -> int:
    """Verify inline, or with two worker processes each replaying its share of
    the units (small chunks, so a short log takes the parallel path)."""
    if request.param > 1:
        monkeypatch.setattr("application.audit.verify.CHUNK", 16)
    return request.param


def propose(env: Env, chair: Key, content: dict) -> dict:
    return env.send(command(chair, "propose_ranking", cycle=C, manifest=content), chair)


def test_a_cycle_nobody_submitted_is_ranked_with_every_unit_apart(env: Env):
    people = season(env)
    chair, approver = people["council_chair"], people["approver"]
    env.send(command(chair, "close_appraisal", cycle=C), chair)
    content = draft(env)
    assert content["ranked"] == []
    assert [x["status"] for x in content["unranked"]] == ["not_submitted"] * 3
    propose(env, chair, content)
    env.send(
        command(
            approver,
            "approve_ranking",
            cycle=C,
            version=1,
            digest=ranking_rules.digest(content),
            decision_number="1234/QĐ-UBND",
            decision_date="2025-12-20",
        ),
        approver,
    )
    env.send(command(approver, "publish_ranking", cycle=C, version=1), approver)
    found = env.app.get(Ranking.create_id(C), for_update=False)
    assert found.versions[0]["state"] == "published"
    assert found.versions[0]["decision"] == {"number": "1234/QĐ-UBND", "date": "2025-12-20"}
    assert findings(env) == []


def test_the_cycle_does_not_close_while_a_submitted_unit_is_open(env: Env):
    people = season(env)
    submit_unit(env, "xa-b")
    chair = people["council_chair"]
    e = refused(env, command(chair, "close_appraisal", cycle=C), chair)
    assert e.code == "units_not_closed" and "xa-b" in e.message_vi


def test_a_manifest_that_differs_from_the_log_is_refused(env: Env):
    people = season(env)
    chair = people["council_chair"]
    env.send(command(chair, "close_appraisal", cycle=C), chair)
    content = draft(env)
    wrong = {
        **content,
        "unranked": [{**content["unranked"][0], "name": "Xã khác"}, *content["unranked"][1:]],
    }
    e = refused(env, command(chair, "propose_ranking", cycle=C, manifest=wrong), chair)
    assert e.code == "ranking_differs" and "xa-a" in e.message_en
    missing = {**content, "unranked": content["unranked"][1:]}
    assert refused(
        env, command(chair, "propose_ranking", cycle=C, manifest=missing), chair
    ).code == ("ranking_differs")
    assert refused(
        env, command(chair, "propose_ranking", cycle=C, manifest="x" * 100), chair
    ).code == ("ranking_differs")


def test_ranking_needs_the_close_and_approval_needs_the_proposal_digest(env: Env):
    people = season(env)
    chair, approver = people["council_chair"], people["approver"]
    content = draft_before_close = None  # noqa: F841
    e = refused(env, command(chair, "propose_ranking", cycle=C, manifest={}), chair)
    assert e.code == "appraisal_open"
    env.send(command(chair, "close_appraisal", cycle=C), chair)
    assert (
        refused(env, command(chair, "close_appraisal", cycle=C), chair).code == "appraisal_closed"
    )
    content = draft(env)
    propose(env, chair, content)
    approve = dict(cycle=C, version=1, decision_number="12/QĐ-UBND", decision_date="2025-12-20")
    wrong = command(approver, "approve_ranking", digest="sha256:" + "0" * 64, **approve)
    assert refused(env, wrong, approver).code == "digest_differs"
    early = command(approver, "publish_ranking", cycle=C, version=1)
    assert refused(env, early, approver).code == "not_approved"
    bad_date = command(
        approver,
        "approve_ranking",
        digest=ranking_rules.digest(content),
        **{**approve, "decision_date": "20/12/2025"},
    )
    assert refused(env, bad_date, approver).code == "invalid_date"
    # only the council chair proposes, only the approver approves
    assert refused(
        env, command(approver, "propose_ranking", cycle=C, manifest=content), approver
    ).code == ("not_permitted")
    assert findings(env) == []


def test_verify_catches_a_server_that_closes_a_cycle_with_a_unit_open(env: Env, workers: int):
    people = season(env)
    submit_unit(env, "xa-b")
    chair = people["council_chair"]
    with mock.patch("application.handlers.ranking.unit_open", return_value=False):
        receipt = env.send(command(chair, "close_appraisal", cycle=C), chair)
    found = findings(env, workers)
    assert [(k, i) for k, i, _ in found] == [("event_not_derived", receipt["log_index"])]
    assert "units_not_closed (xa-b)" in found[0][2]


def test_verify_catches_a_server_that_accepts_a_manifest_the_log_does_not_bear_out(
    env: Env, workers: int
):
    people = season(env)
    chair = people["council_chair"]
    env.send(command(chair, "close_appraisal", cycle=C), chair)
    content = draft(env)
    # a hostile server ranks a unit that never submitted
    line = {**content["unranked"][1]}
    line.update(
        status="submitted", self_total="90", appraised_total="90", index="90", band="xuat_sac"
    )
    forged = {
        **content,
        "ranked": [{**line, "rank": 1}],
        "unranked": [content["unranked"][0], content["unranked"][2]],
    }
    with mock.patch("application.handlers.ranking.manifest", return_value=forged):
        receipt = propose(env, chair, forged)
    found = findings(env, workers)
    assert [(k, i) for k, i, _ in found] == [("event_not_derived", receipt["log_index"])]
    assert "xa-b" in found[0][2]


def test_a_correction_after_publication_makes_a_new_version_and_the_first_stays(env: Env):
    """Published v1; an appraiser corrects a score; v2 is proposed, and a
    further correction before its approval refuses the approval (the lines
    changed); v3 is approved and published; v1 and v3 both stay readable."""
    people = season(env)
    chair, approver = people["council_chair"], people["approver"]
    council = chair
    appraiser, _ = env.register("appraiser", "authority:dong-hy")
    for unit, top in (("xa-a", "1"), ("xa-b", "0.5")):
        submit_unit(env, unit, top)
        framework = env.app.framework(draft_framework(env))
        leaves = env.app.get(Assessment.create_id(C, unit), for_update=False).needs_review(
            framework
        )
        env.send(command(council, "close_appraisal", cycle=C, unit=unit, confirm=leaves), council)
    v1 = env.season_end(C, council, approver)
    assert [(x["unit"], x["rank"]) for x in v1["ranked"]] == [("xa-a", 1), ("xa-b", 2)]

    env.send(
        command(
            appraiser,
            "attach_evidence",
            cycle=C,
            unit="xa-a",
            evidence_id="kl-01",
            leaves=["1.1.1"],
            file=None,
            document={"number": "02/KL-TTr"},
            description=None,
        ),
        appraiser,
    )

    def correct(points: str) -> None:
        env.send(
            command(
                appraiser,
                "correct_score",
                cycle=C,
                unit="xa-a",
                leaf="1.1.1",
                points=points,
                reason="Thanh tra phát hiện sai sót",
                evidence_ids=["kl-01"],
            ),
            appraiser,
        )

    correct("0.5")  # xa-a now ties with xa-b: 1, 1
    v2 = env.season_end(C, council, approver, "proposed", close=False)
    assert [(x["unit"], x["rank"]) for x in v2["ranked"]] == [("xa-a", 1), ("xa-b", 1)]
    correct("0.25")
    approve = command(
        approver,
        "approve_ranking",
        cycle=C,
        version=2,
        digest=ranking_rules.digest(v2),
        decision_number="2/QĐ-UBND",
        decision_date="2025-12-28",
    )
    e = refused(env, approve, approver)
    assert e.code == "ranking_changed" and "xa-a" in e.message_en
    v3 = env.season_end(C, council, approver, close=False)
    assert v3["version"] == 3
    assert [(x["unit"], x["rank"]) for x in v3["ranked"]] == [("xa-b", 1), ("xa-a", 2)]
    found = env.app.get(Ranking.create_id(C), for_update=False)
    assert [v["state"] for v in found.versions] == ["published", "superseded", "published"]
    assert found.versions[0]["manifest"] == v1  # the first publication is unchanged
    assert findings(env) == []


def draft_framework(env: Env) -> str:
    return env.app.get(Cycle.create_id(C), for_update=False).framework


# -- the operator's forgeries of the cycle-wide commands, each reported -------------------
def published_season(env: Env) -> dict[str, int]:
    """Two cycles, c and d; c closed, proposed, approved and published. The leaf
    of each of c's four commands."""
    people = season(env)
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle="d",
            name="Kỳ khác",
            framework=draft_framework(env),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": u, "name": f"Xã {u}"} for u in UNITS],
        )
    )
    chair, approver = people["council_chair"], people["approver"]
    start = env.app.tlog.size()
    env.season_end(C, chair, approver)
    steps = ("closed", "proposed", "approved", "published")
    leaves = dict(zip(steps, range(start, start + 4), strict=True))
    env.checkpoint()
    assert findings(env) == []
    return leaves


@pytest.mark.parametrize("step", ["closed", "proposed", "approved", "published"])
def test_a_cycle_wide_event_copied_onto_another_cycle_is_reported(env: Env, step: str):
    from domain.ranking import Ranking
    from tests.log_operator import Operator

    leaves = published_season(env)
    op = Operator(env)
    forged = op.append_copy(leaves[step], onto=Ranking.create_id("d"))
    op.reseal()
    kinds = {k for k, i, _ in findings(env) if i == forged}
    assert kinds & {"wrong_aggregate", "command_replayed", "event_not_derived"}, kinds


@pytest.mark.parametrize("step", ["closed", "proposed", "approved", "published"])
def test_a_cycle_wide_event_stored_again_is_reported(env: Env, step: str):
    """Stored again later: command_replayed; right after itself (the last step),
    one event more than its command yields."""
    from tests.log_operator import Operator

    leaves = published_season(env)
    op = Operator(env)
    forged = op.append_copy(leaves[step])
    op.reseal()
    kinds = {k for k, i, _ in findings(env) if i == forged}
    assert kinds & {"command_replayed", "event_not_derived"}, kinds


@pytest.mark.parametrize(
    ("step", "member", "value"),
    [
        ("closed", "cycle", "d"),
        ("proposed", "digest", "sha256:" + "0" * 64),
        ("proposed", "version", 2),
        ("approved", "decision", {"number": "9999/QĐ-UBND", "date": "2025-12-20"}),
        ("published", "version", 7),
        ("published", "note", "thêm"),
    ],
)
def test_an_unsigned_member_of_a_cycle_wide_event_is_reported(
    env: Env, step: str, member: str, value: object
):
    from tests.log_operator import Operator

    leaves = published_season(env)
    op = Operator(env)
    op.rewrite(leaves[step], lambda state: state.__setitem__(member, value))
    op.reseal()
    assert ("event_not_derived", leaves[step]) in {(k, i) for k, i, _ in findings(env)}
