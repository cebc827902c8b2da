"""The oversight view (issue 9): every appraisal change, confirmation, explanation,
correction, withdrawal and deadline extension of a season, one row each, with
who, when (the signed time), before and after, the round, the log index and the
flags an observer filters on; its filters, pages and summaries; and a read model
rebuilt from the log that equals the followed one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from projections.follower import Follower
from projections.queries import Queries
from projections.queries_oversight import Filters
from projections.rebuilder import rebuild
from projections.store import ReadModel
from tests.oversight_season import HOSTILE, OTHER, Played, U, play
from tests.season_unit import C, Unit, at, deadline_text, whole_seconds_from_now
from tests.support import Env, command


@pytest.fixture
def season(env: Env) -> Played:
    return play(env)


@pytest.fixture
def q(season: Played, tmp_path) -> Queries:
    model = ReadModel(tmp_path / "r.sqlite")
    Follower(season.unit.env.app, model).catch_up()
    return Queries(model)


def rows(q: Queries, **filters) -> list[dict]:
    return q.oversight(C, Filters(**filters), limit=1000)["changes"]


def brief(r: dict) -> tuple:
    return (
        r["kind"],
        r["unit"],
        r["leaf"],
        r["round"],
        r["old_points"],
        r["new_points"],
        r["delta"],
    )


def test_every_change_of_the_season_is_one_row_in_log_order(season: Played, q: Queries):
    doc = q.oversight(C, Filters(), limit=1000)
    changes = doc["changes"]
    assert doc["total"] == len(changes) == 10
    assert [brief(r) for r in changes] == [
        ("submission_withdrawn", OTHER, None, None, None, None, None),
        ("deadline_extended", U, None, None, None, None, None),
        ("deadline_extended", OTHER, None, None, None, None, None),
        ("adjustment", U, "1.1.1", 1, "1", "0.25", "-0.75"),
        ("confirmation", U, "1.1.2", 1, "1", "1", "0"),
        ("explanation_request", U, "1.2.1", 1, None, None, None),
        ("explanation_answer", U, "1.2.1", None, "0.25", "0.5", "0.25"),
        ("adjustment", U, "1.2.1", 2, "0.5", "0.375", "-0.125"),
        ("unit_closed", U, None, 2, None, None, None),
        ("correction", U, "1.1.2", 2, "1", "0", "-1"),
    ]
    indices = [r["log_index"] for r in changes]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    app = season.unit.env.app
    for r in changes:  # the log index names the very event, whose signed command it shows
        assert app.tlog.leaf(r["log_index"]) is not None

    adjusted = changes[3]
    assert adjusted["actor"]["key_id"] == season.unit.appraiser.key_id
    assert adjusted["actor"]["role"] == "appraiser" and adjusted["actor"]["name"]
    assert adjusted["reason"] == HOSTILE
    assert adjusted["old_value"] == {"points": "1"} and adjusted["new_value"] == {"points": "0.25"}
    assert adjusted["max_points"] == "1" and adjusted["unit_name"] == "Xã xa-a"
    assert adjusted["area"] == "1" and adjusted["at"].endswith("Z")
    answer = changes[6]
    assert answer["actor"]["role"] == "commune_officer"
    assert answer["reason"] == "Đã bổ sung kế hoạch."
    closed = changes[8]
    assert closed["actor"]["role"] == "council_chair"
    assert "1.1.1" not in closed["new_value"] and "2.1.1" in closed["new_value"]
    correction = changes[9]
    assert correction["evidence_ids"] == ["ev-tt-01"]
    assert correction["at"] == at(season.start + timedelta(seconds=320))  # as signed
    extension = changes[2]
    moved = season.due["self_assessment_due"]
    assert extension["deadline"] == {"kind": "self_assessment_due", "due": moved}
    assert extension["old_value"] == moved
    assert extension["new_value"] == deadline_text(season.start + timedelta(seconds=200))
    assert extension["actor"]["role"] == "admin" and extension["reason"] == "Lũ lụt"


def test_flags_are_judged_on_signed_times_and_the_season_as_it_stood(q: Queries):
    flagged = {
        name: [brief(r)[:3] for r in rows(q, **{name: True})]
        for name in ("after_deadline", "after_approval", "after_publication", "large")
    }
    assert flagged["after_deadline"] == [
        ("deadline_extended", OTHER, None),  # signed after the deadline it moved
        ("correction", U, "1.1.2"),  # signed 20 s after the appraisal deadline
    ]
    assert flagged["after_approval"] == [("correction", U, "1.1.2")]
    assert flagged["after_publication"] == [("correction", U, "1.1.2")]
    assert flagged["large"] == [("adjustment", U, "1.1.1"), ("correction", U, "1.1.2")]
    shares = [brief(r)[:3] for r in rows(q, large=True, large_share=Decimal("0.25"))]
    assert ("adjustment", U, "1.2.1") in shares and len(shares) == 3
    not_submitted = [brief(r)[:2] for r in rows(q, after_submission=False)]
    assert not_submitted == [("deadline_extended", OTHER)]  # it had withdrawn
    every = rows(q)
    assert {r["flags"]["after_submission"] for r in every if r["unit"] == U} == {True}
    correction = every[-1]
    assert correction["flags"] == {
        "after_submission": True,
        "after_deadline": True,
        "after_approval": True,
        "after_publication": True,
        "large_deduction": True,
    }
    assert correction["deadline"]["kind"] == "appraisal_due"


def test_filters_combine_and_pages_carry_the_total(season: Played, q: Queries):
    assert [r["kind"] for r in rows(q, unit=OTHER)] == ["submission_withdrawn", "deadline_extended"]
    appraiser = season.unit.appraiser.key_id
    assert len(rows(q, actor=appraiser)) == 5
    assert [r["kind"] for r in rows(q, round=2)] == ["adjustment", "unit_closed", "correction"]
    assert [r["leaf"] for r in rows(q, kind="adjustment")] == ["1.1.1", "1.2.1"]
    assert [r["leaf"] for r in rows(q, leaf="1.2.1")] == ["1.2.1"] * 3
    assert [r["kind"] for r in rows(q, min_change=Decimal("0.5"))] == ["adjustment", "correction"]
    assert [r["kind"] for r in rows(q, actor=appraiser, round=1, kind="adjustment")] == [
        "adjustment"
    ]
    assert rows(q, unit="khong-co") == []
    totals = {  # read from the sums (by size, by share of the max) or counted: the same
        "min_change": q.oversight(C, Filters(min_change=Decimal("0.5")))["total"],
        "min_change 0.0001": q.oversight(C, Filters(min_change=Decimal("0.0001")))["total"],
        "large": q.oversight(C, Filters(large=True))["total"],
        "large 0.25": q.oversight(C, Filters(large=True, large_share=Decimal("0.25")))["total"],
        "large 0.26": q.oversight(C, Filters(large=True, large_share=Decimal("0.26")))["total"],
        "large and unit": q.oversight(C, Filters(large=True, unit=U))["total"],
    }
    assert totals == {
        "min_change": 2,
        "min_change 0.0001": 4,
        "large": 2,
        "large 0.25": 3,
        "large 0.26": 2,
        "large and unit": 2,
    }

    first = q.oversight(C, Filters(), limit=4, offset=0)
    second = q.oversight(C, Filters(), limit=4, offset=4)
    assert first["total"] == second["total"] == 10
    assert len(first["changes"]) == 4 and len(second["changes"]) == 4
    assert first["changes"][-1]["log_index"] < second["changes"][0]["log_index"]
    every = [r["log_index"] for r in rows(q)]
    for offset in range(12):  # pages in the second half are read from the end
        page = q.oversight(C, Filters(), limit=3, offset=offset)["changes"]
        assert [r["log_index"] for r in page] == every[offset : offset + 3]
    cursor = first["changes"][-1]["notification_id"]
    after = q.oversight(C, Filters(), limit=4, after=cursor)  # the next page, by its cursor
    assert after["changes"] == second["changes"] and after["total"] == 10
    assert q.oversight("khong-co", Filters()) is None


def test_summaries_per_appraiser_unit_and_criterion(season: Played, q: Queries):
    by_actor = {r["key"]: r for r in q.oversight_summary(C, "actor")["rows"]}
    appraiser = by_actor[season.unit.appraiser.key_id]
    assert appraiser["role"] == "appraiser"
    assert (appraiser["changes"], appraiser["points_deducted"], appraiser["points_added"]) == (
        5,
        "1.875",
        "0",
    )
    assert appraiser["kinds"]["adjustment"] == 2 and appraiser["kinds"]["correction"] == 1
    officer = by_actor[season.unit.officer.key_id]
    assert (officer["changes"], officer["points_added"]) == (1, "0.25")
    admin = by_actor[season.unit.env.admin.key_id]
    assert admin["kinds"]["deadline_extended"] == 2

    by_unit = {r["key"]: r for r in q.oversight_summary(C, "unit")["rows"]}
    assert by_unit[U]["changes"] == 8 and by_unit[U]["points_deducted"] == "1.875"
    assert by_unit[U]["name"] == "Xã xa-a" and by_unit[U]["flags"]["after_deadline"] == 1
    assert by_unit[U]["large_deductions"] == 2  # 1.1.1 and the correction, at 0.5
    assert by_unit[OTHER]["changes"] == 2

    by_leaf = {r["key"]: r for r in q.oversight_summary(C, "leaf")["rows"]}
    assert by_leaf["1.2.1"]["changes"] == 3 and by_leaf["1.2.1"]["net"] == "0.125"
    by_area = q.oversight_summary(C, "area")["rows"]
    assert [(r["key"], r["changes"]) for r in by_area] == [("1", 6)]
    assert by_area[0]["title"]

    top = q.oversight_summary(C, "actor", order="deducted", limit=1)
    assert top["total"] == len(by_actor) and top["rows"][0]["key"] == appraiser["key"]


def test_across_cycles_the_rows_and_sums_of_every_cycle_reached(season: Played, q: Queries):
    everything = q.oversight(None, Filters(), limit=1000)
    assert everything["total"] == 10
    assert q.oversight([], Filters())["total"] == 0
    across = {r["key"]: r for r in q.oversight_summary(None, "unit")["rows"]}
    assert across[U]["changes"] == 8
    assert q.oversight_summary([C], "area")["rows"][0]["changes"] == 6


def test_the_rebuilt_read_model_equals_the_followed_one(season: Played, tmp_path):
    followed = ReadModel(tmp_path / "followed.sqlite")
    Follower(season.unit.env.app, followed, batch_size=3, max_batch_size=3).catch_up()
    rebuilt = rebuild(season.unit.env.app, tmp_path / "rebuilt.sqlite")
    _position, tables = followed.digests_at()
    assert rebuilt["tables"]["oversight"] == tables["oversight"]
    assert rebuilt["tables"]["oversight_sums"] == tables["oversight_sums"]
    # Every other table too (the units' timelines included: tests/integration/test_as_of.py).
    differ = sorted(t for t in rebuilt["tables"] if rebuilt["tables"][t] != tables.get(t))
    assert differ == []
    followed.close()


def test_a_change_is_judged_on_the_deadline_as_it_stood_with_its_extension(env: Env, tmp_path):
    """Signed after the cycle's appraisal deadline but within the unit's extension:
    not late; the row names the deadline that applied (the extended one)."""
    start = whole_seconds_from_now(0)
    due = {
        "self_assessment_due": deadline_text(start + timedelta(seconds=60)),
        "explanation_due": deadline_text(start + timedelta(seconds=90)),
        "appraisal_due": deadline_text(start + timedelta(seconds=120)),
    }
    unit = Unit.open(env, unit=U, rounds=2, deadlines=due)
    unit.score("1.1.1", "1")
    unit.submit()
    extended = deadline_text(start + timedelta(seconds=400))
    env.send(
        command(
            env.admin,
            "extend_deadline",
            cycle=C,
            unit=U,
            deadline="appraisal_due",
            until=extended,
            reason="Hồ sơ nhiều",
        )
    )
    unit.adjust("1.1.1", "0.5", issued_at=at(start + timedelta(seconds=200)))
    model = ReadModel(tmp_path / "r.sqlite")
    Follower(env.app, model).catch_up()
    adjusted = Queries(model).oversight(C, Filters(kind="adjustment"))["changes"][0]
    assert adjusted["deadline"] == {"kind": "appraisal_due", "due": extended}
    assert not adjusted["flags"]["after_deadline"]
    assert adjusted["at"] == at(start + timedelta(seconds=200))


def test_an_observers_note_on_a_change_is_shown_beside_it(season: Played, tmp_path):
    unit, env = season.unit, season.unit.env
    model = ReadModel(tmp_path / "notes.sqlite")
    follower = Follower(env.app, model)
    follower.catch_up()
    q = Queries(model)
    correction = rows(q, kind="correction")[0]
    assert correction["notes"] == []
    observer = env.register("observer", "authority:dong-hy", name="Mặt trận Tổ quốc")[0]
    unit.send(
        observer,
        "record_oversight_note",
        note_id="gs-1",
        text="Đề nghị làm rõ kết luận thanh tra.",
        change=correction["log_index"],
    )
    unit.send(unit.council, "answer_oversight_note", note_id="gs-1", answer="Kết luận số 02.")
    follower.catch_up()
    noted = rows(q, kind="correction")[0]["notes"]
    assert [(n["note_id"], n["text"], n["answer"]["text"]) for n in noted] == [
        ("gs-1", "Đề nghị làm rõ kết luận thanh tra.", "Kết luận số 02.")
    ]
    assert noted[0]["by"]["role"] == "observer"
    assert all(r["notes"] == [] for r in rows(q) if r["kind"] != "correction")
