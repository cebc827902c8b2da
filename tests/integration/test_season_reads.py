"""What the read model shows of the appraisal season (docs/SEASON.md): each new
event in a leaf's history and state, "confirmed" apart from "never reviewed",
flags and answers, the live ranking of submitted units only, and where each
unit stands (its stage, progress and deadlines)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from projections.follower import Follower
from projections.queries import Queries
from projections.rebuilder import digest, rebuild
from projections.store import ReadModel
from tests.season_unit import C, Unit, clean, deadline_text, open_cycle, whole_seconds_from_now
from tests.support import Env, Key, command

LEAVES = 119  # the bundled Thái Nguyên framework


def follow(env: Env, path) -> Queries:
    model = ReadModel(path)
    Follower(env.app, model).catch_up()
    return Queries(model)


def leaf_node(doc: dict, code: str) -> dict:
    return next(n for n in doc["nodes"] if n["code"] == code)


def approver(env: Env) -> Key:
    return env.register("approver", "province:thai-nguyen")[0]


def unit_of(first: Unit, code: str) -> Unit:
    """Another unit of the same cycle, with its own officer and chair."""
    env = first.env
    return Unit(
        env,
        officer=env.register("commune_officer", f"commune:{code}")[0],
        chair=env.register("commune_chair", f"commune:{code}")[0],
        appraiser=first.appraiser,
        council=first.council,
        cycle=first.cycle,
        unit=code,
    )


# -- each new event, as a leaf's history and state show it --------------------------------------
@pytest.fixture
def unit(env: Env) -> Unit:
    u = Unit.open(env)
    u.score("1.1.1", "1")
    u.submit()
    return u


def test_a_confirmation_is_confirmed_not_never_reviewed_and_keeps_the_input_it_confirmed(
    unit: Unit, tmp_path
):
    unit.confirm("1.1.1", note="Đúng hồ sơ")
    unit.flag("1.1.1", question="Bổ sung kế hoạch?")
    unit.answer("1.1.1", answer="Đã bổ sung", points="0.5")
    q = follow(unit.env, tmp_path / "r.sqlite")

    scores = q.unit_scores(C, unit.unit)
    confirmed, never = leaf_node(scores, "1.1.1"), leaf_node(scores, "1.1.2")
    assert confirmed["review"] == {"how": "confirmed", "round": 1}
    assert not confirmed["adjusted"]
    assert confirmed["self_input"] == {"points": "0.5"}  # revised in the answer
    assert confirmed["appraised_input"] == {"points": "1"}  # as it stood when confirmed
    assert confirmed["appraised_score"] == "1" and confirmed["self_score"] == "0.5"
    assert confirmed["flag"] == {
        "question": "Bổ sung kế hoạch?",
        "answered": True,
        "answer": "Đã bổ sung",
        "evidence_ids": [],
    }
    assert never["review"] is None and never["appraised_input"] is None
    assert never["flag"] is None
    assert scores["stage"] == "explanation" and scores["flags"] == {"open": 0, "answered": 1}

    entries = q.leaf_history(C, unit.unit, "1.1.1")["entries"]
    kinds = [(e["kind"], e["round"]) for e in entries]
    assert kinds[-3:] == [
        ("confirmation", 1),
        ("explanation_request", 1),
        ("explanation_answer", None),
    ]
    confirmation, request, answer = entries[-3:]
    assert confirmation["new_value"] == {"points": "1"} and confirmation["reason"] == "Đúng hồ sơ"
    assert request["reason"] == "Bổ sung kế hoạch?"
    assert (answer["old_value"], answer["new_value"]) == ({"points": "1"}, {"points": "0.5"})
    assert answer["reason"] == "Đã bổ sung"
    assert all(e["signature_status"] == "valid" for e in entries)

    why = q.why(C, unit.unit, "1.1.1")
    assert why["appraised"]["review"] == {"how": "confirmed", "round": 1}
    assert why["appraised"]["input"] == {"points": "1"} and why["self"]["input"] == {
        "points": "0.5"
    }
    produced = {e["kind"]: e["produces"] for e in why["chain"]}
    assert produced["confirmation"] == ["appraised"]
    assert produced["explanation_answer"] == ["self"]
    assert why["flag"]["answered"]
    assert q.why(C, unit.unit, "1.1.2")["appraised"]["review"] is None


def test_round_2_adjustment_submission_close_and_correction_each_leave_their_row(
    unit: Unit, tmp_path
):
    unit.adjust("1.1.1", "0.75")
    unit.flag("1.1.1")
    unit.answer("1.1.1")  # no revised input: the self input stays
    unit.submit_explanations()
    unit.adjust("1.1.1", "0.5", reason="Giải trình chưa đủ")
    rest = unit.unreviewed()
    unit.close(confirm=rest)
    unit.send(
        unit.appraiser,
        "attach_evidence",
        evidence_id="ev-tt-01",
        leaves=["1.1.1"],
        file=None,
        document={"number": "02/KL-TTr"},
        description=None,
    )
    unit.env.season_end(C, unit.council, approver(unit.env))
    unit.send(
        unit.appraiser,
        "correct_score",
        leaf="1.1.1",
        points="0.25",
        reason="Thanh tra phát hiện sai sót",
        evidence_ids=["ev-tt-01"],
    )
    q = follow(unit.env, tmp_path / "r.sqlite")

    entries = q.leaf_history(C, unit.unit, "1.1.1")["entries"]
    kinds = [(e["kind"], e["round"]) for e in entries if e["kind"] != "self_score"]
    assert kinds == [
        ("adjustment", 1),
        ("explanation_request", 1),
        ("explanation_answer", None),
        ("explanations_submitted", None),
        ("adjustment", 2),
        ("evidence_attached", None),
        ("correction", 2),
    ]
    correction = entries[-1]
    assert (correction["old_value"], correction["new_value"]) == (
        {"points": "0.5"},
        {"points": "0.25"},
    )
    assert correction["evidence_ids"] == ["ev-tt-01"]
    assert next(e for e in entries if e["kind"] == "explanation_answer")["new_value"] is None

    listed = q.leaf_history(C, unit.unit, rest[0])["entries"]
    assert [(e["kind"], e["round"]) for e in listed][-1] == ("unit_closed", 2)
    assert listed[-1]["new_value"] == {"points": "0"}

    scores = q.unit_scores(C, unit.unit)
    assert leaf_node(scores, "1.1.1")["review"] == {"how": "corrected", "round": 2}
    assert leaf_node(scores, "1.1.1")["adjusted"]
    assert leaf_node(scores, "1.1.1")["appraised_input"] == {"points": "0.25"}
    assert leaf_node(scores, rest[0])["review"] == {"how": "confirmed", "round": 2}
    assert scores["stage"] == "closed" and scores["reviewed"] == LEAVES

    why = q.why(C, unit.unit, "1.1.1")
    assert [e["kind"] for e in why["chain"] if e["produces"]] == ["self_score", "correction"]
    why_rest = q.why(C, unit.unit, rest[0])
    assert why_rest["chain"][-1]["kind"] == "unit_closed"
    assert why_rest["chain"][-1]["produces"] == ["appraised"]
    clean(unit.env)


def test_the_rebuilt_read_model_equals_the_followed_one_after_a_season(unit: Unit, tmp_path):
    unit.confirm("1.1.2")
    unit.flag("1.1.1")
    unit.answer("1.1.1", points="0.5")
    unit.submit_explanations()
    unit.close(confirm=unit.unreviewed())
    followed = ReadModel(tmp_path / "followed.sqlite")
    follower = Follower(unit.env.app, followed, batch_size=3, max_batch_size=3)
    follower.catch_up()
    rebuilt = rebuild(unit.env.app, tmp_path / "rebuilt.sqlite")
    assert rebuilt["digest"] == digest(followed)
    followed.close()


# -- the live ranking ------------------------------------------------------------------------
def test_the_live_ranking_ranks_submitted_units_only_as_the_manifest_does(env: Env, tmp_path):
    codes = ["xa-a", "xa-b", "xa-c", "xa-d", "xa-e", "xa-f"]
    first = Unit.open(env, unit="xa-a")
    # Unit.open opens (xa-a, xa-b); this cycle lists six units.
    open_cycle(env, "c6", units=codes)
    units = {code: unit_of(first, code) for code in codes}
    for u in units.values():
        u.cycle = "c6"
    for code, points in (("xa-a", "1"), ("xa-b", "0.5"), ("xa-c", "0.5"), ("xa-d", "0")):
        units[code].score("1.1.1", points)
        units[code].submit()
    env.send(
        command(
            env.admin,
            "merge_units",
            cycle="c6",
            units=["xa-e", "xa-f"],
            into={"code": "xa-ef", "name": "Xã EF"},
            reason="Sáp nhập theo Nghị quyết",
        )
    )
    q = follow(env, tmp_path / "r.sqlite")
    ranking = q.ranking("c6")
    assert [(r["unit"], r["rank"], r["appraised_total"]) for r in ranking["rows"]] == [
        ("xa-a", 1, "1"),
        ("xa-b", 2, "0.5"),
        ("xa-c", 2, "0.5"),
        ("xa-d", 4, "0"),
    ]
    assert ranking["total"] == 4
    assert ranking["not_submitted"] == [
        {"unit": "xa-e", "unit_name": "Xã xa-e", "status": "merged", "into": "xa-ef"},
        {"unit": "xa-ef", "unit_name": "Xã EF", "status": "not_submitted", "into": None},
        {"unit": "xa-f", "unit_name": "Xã xa-f", "status": "merged", "into": "xa-ef"},
    ]
    page = q.ranking("c6", limit=2, offset=2)
    assert [(r["unit"], r["rank"]) for r in page["rows"]] == [("xa-c", 2), ("xa-d", 4)]

    # The live ranking is the one the council would sign now.
    from domain import ranking as official
    from domain.cycle import Cycle

    cycle = env.app.get(Cycle.create_id("c6"), for_update=False)
    manifest = official.manifest(
        cycle, 1, env.app.framework(cycle.framework), env.app.assessments(cycle)
    )
    assert [(x["unit"], x["rank"]) for x in manifest["ranked"]] == [
        (r["unit"], r["rank"]) for r in ranking["rows"]
    ]
    assert [x["unit"] for x in manifest["unranked"]] == [
        x["unit"] for x in ranking["not_submitted"]
    ]

    # A withdrawn submission leaves the ranking.
    units["xa-d"].send(units["xa-d"].chair, "withdraw_submission", reason="Sửa hồ sơ")
    Follower(env.app, q.rm).catch_up()
    assert [r["unit"] for r in q.ranking("c6")["rows"]] == ["xa-a", "xa-b", "xa-c"]
    assert "xa-d" in [x["unit"] for x in q.ranking("c6")["not_submitted"]]


# -- where the season stands --------------------------------------------------------------------
def season(env: Env) -> tuple[dict[str, Unit], dict[str, str]]:
    """A cycle with a unit in each stage: xa-new (not submitted), xa-r1 (round 1),
    xa-exp (explanation, its own later deadlines), xa-exp2 (explanation), xa-r2
    (explanations submitted), xa-done (closed), xa-m1 and xa-m2 merged into xa-m."""
    base = whole_seconds_from_now(0)
    due = {
        "self_assessment_due": deadline_text(base + timedelta(hours=1)),
        "explanation_due": deadline_text(base + timedelta(hours=2)),
        "appraisal_due": deadline_text(base + timedelta(hours=3)),
    }
    codes = ["xa-new", "xa-r1", "xa-exp", "xa-exp2", "xa-r2", "xa-done", "xa-m1", "xa-m2"]
    first = Unit.open(env, cycle=C, unit="xa-new", deadlines=due)  # opens (xa-new, xa-b)
    open_cycle(env, "s", units=codes, deadlines=due)
    units = {code: unit_of(first, code) for code in codes}
    for u in units.values():
        u.cycle = "s"
    for code in ("xa-r1", "xa-exp", "xa-exp2", "xa-r2", "xa-done"):
        units[code].score("1.1.1", "1")
        units[code].submit()
    units["xa-new"].score("1.1.1", "1")
    units["xa-new"].score("1.1.2", "0.5")
    units["xa-r1"].confirm("1.1.1")
    units["xa-r1"].adjust("1.1.2", "0")
    for code in ("xa-exp", "xa-exp2", "xa-r2"):
        units[code].flag("1.1.1")
        units[code].flag("1.1.2")
    units["xa-exp"].answer("1.1.1")
    for leaf in ("1.1.1", "1.1.2"):
        units["xa-r2"].answer(leaf)
    units["xa-r2"].submit_explanations()
    done = units["xa-done"]
    done.close(confirm=done.unreviewed())
    for kind, hours in (("appraisal_due", 5), ("explanation_due", 4)):
        env.send(
            command(
                env.admin,
                "extend_deadline",
                cycle="s",
                deadline=kind,
                until=deadline_text(base + timedelta(hours=hours)),
                unit="xa-exp",
                reason="Thiên tai",
            )
        )
    env.send(
        command(
            env.admin,
            "merge_units",
            cycle="s",
            units=["xa-m1", "xa-m2"],
            into={"code": "xa-m", "name": "Xã M"},
            reason="Sáp nhập",
        )
    )
    return units, due


def test_the_status_of_a_season_with_units_in_each_stage(env: Env, tmp_path):
    units, due = season(env)
    q = follow(env, tmp_path / "r.sqlite")
    status = q.cycle_status("s")
    stages = {u["unit"]: u["stage"] for u in status["units"]}
    assert stages == {
        "xa-new": "not_submitted",
        "xa-r1": "round_1",
        "xa-exp": "explanation",
        "xa-exp2": "explanation",
        "xa-r2": "round_2",
        "xa-done": "closed",
        "xa-m1": "merged",
        "xa-m2": "merged",
        "xa-m": "not_submitted",
    }
    assert status["totals"] == {
        "not_submitted": 2,
        "round_1": 1,
        "explanation": 2,
        "round_2": 1,
        "closed": 1,
        "merged": 2,
    }
    assert status["unit_count"] == 9 and status["leaf_count"] == LEAVES
    assert status["deadlines"] == due and status["rounds"] == 2
    assert status["closed"] is None
    assert status["rankings"] == {"count": 0, "published": 0, "latest": None}
    by = {u["unit"]: u for u in status["units"]}
    assert by["xa-new"]["scored"] == f"2/{LEAVES}" and by["xa-new"]["submitted_at"] is None
    assert by["xa-r1"]["scored"] == f"{LEAVES}/{LEAVES}" and by["xa-r1"]["reviewed"] == 2
    assert by["xa-r1"]["submitted_at"] is not None
    assert by["xa-exp"]["flags"] == {"open": 1, "answered": 1}
    assert by["xa-r2"]["flags"] == {"open": 0, "answered": 2}
    assert by["xa-r2"]["explanations_submitted_at"] is not None
    assert by["xa-done"]["reviewed"] == LEAVES and by["xa-done"]["closed_at"] is not None
    assert by["xa-m1"]["merged_into"] == "xa-m"
    assert by["xa-exp"]["own_deadlines"]["explanation_due"] > due["explanation_due"]
    assert (
        by["xa-exp"]["deadlines"]["explanation_due"]
        == by["xa-exp"]["own_deadlines"]["explanation_due"]
    )
    assert by["xa-r1"]["deadlines"] == due and by["xa-r1"]["own_deadlines"] == {}

    # Past the cycle's explanation_due: pending explanations are in round 2,
    # except the unit whose own explanation deadline is later.
    from projections.status import _time

    later = _time(due["explanation_due"]) + timedelta(minutes=30)
    status = q.cycle_status("s", now=later)
    stages = {u["unit"]: u["stage"] for u in status["units"]}
    assert stages["xa-exp2"] == "round_2" and stages["xa-exp"] == "explanation"
    assert status["totals"]["explanation"] == 1 and status["totals"]["round_2"] == 2
    much_later = _time(due["explanation_due"]) + timedelta(hours=2, minutes=30)
    assert q.cycle_status("s", now=much_later)["totals"]["round_2"] == 3

    # One unit's status; a page of units; unknown cycle or unit.
    one = q.unit_status("s", "xa-exp")
    assert one["unit"] == "xa-exp" and one["stage"] == "explanation"
    assert one["season"]["cycle"] == "s"
    assert q.unit_status("s", "xa-exp", now=much_later)["stage"] == "round_2"
    page = q.cycle_status("s", limit=3, offset=2)
    assert [u["unit"] for u in page["units"]] == ["xa-exp", "xa-exp2", "xa-r2"]
    assert page["totals"] == q.cycle_status("s")["totals"]
    assert q.cycle_status("nope") is None
    assert q.unit_status("s", "nope") is None and q.unit_status("nope", "xa-r1") is None
    clean(env)


def test_the_status_shows_the_cycles_close_and_its_ranking_versions(env: Env, tmp_path):
    unit = Unit.open(env)
    unit.score("1.1.1", "1")
    unit.submit()
    unit.close(confirm=unit.unreviewed())
    env.season_end(C, unit.council, approver(env), "approved")
    q = follow(env, tmp_path / "r.sqlite")
    status = q.cycle_status(C)
    assert status["closed"] is not None and status["closed"]["leaf_index"] > 0
    assert status["rankings"] == {
        "count": 1,
        "published": 0,
        "latest": {"version": 1, "state": "approved"},
    }
    assert status["totals"]["closed"] == 1 and status["totals"]["not_submitted"] == 1
