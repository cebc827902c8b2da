"""Reads as of a moment (docs/API.md, "As of a moment"): for every log position P
of a whole season, the scores, a leaf's history, the notes and the ranking
versions read `as_of` P equal the same reads on a read model rebuilt from events
0..P; a time maps to the longest prefix of the log stored by then."""

from __future__ import annotations

import pytest

from projections import as_of as as_of_q
from projections import oversight_frames, rebuilder, standing
from projections.as_of import BadMoment, Moment, resolve
from projections.follower import Follower
from projections.queries import Queries
from projections.queries_oversight import Filters
from projections.queries_oversight_sums import DIMS
from projections.store import PrivateModel
from tests.season_unit import OTHER, U, Unit, deadline_text, whole_seconds_from_now
from tests.support import Env, command

LEAVES = ("1.1.1", "1.1.2", "1.2.1")


def season(env: Env) -> Unit:
    """A cycle of two units through two rounds, an extension, notes, a close,
    a published ranking, a correction and a second version."""
    due = deadline_text(whole_seconds_from_now(3600))
    unit = Unit.open(env, rounds=2, deadlines={"self_assessment_due": due})
    unit.score("1.1.1", "1")
    unit.score("1.1.2", "0.5")
    unit.score("1.1.1", "0.75")
    env.send(
        command(
            env.admin,
            "extend_deadline",
            cycle=unit.cycle,
            deadline="self_assessment_due",
            until=deadline_text(whole_seconds_from_now(7200)),
            unit=U,
            reason="Bão lũ",
        )
    )
    unit.submit()
    other_officer = env.register("commune_officer", f"commune:{OTHER}")[0]
    other_chair = env.submit_unit(OTHER, other_officer, cycle=unit.cycle)
    other = Unit(env, other_officer, other_chair, unit.appraiser, unit.council, unit=OTHER)
    other.send(other_chair, "withdraw_submission", reason="Bổ sung minh chứng")
    other.score("1.1.1", "1")
    env.submit_unit(OTHER, other_officer, other_chair, cycle=unit.cycle)
    adjusted = unit.adjust("1.1.1", "0.25")["log_index"]
    unit.confirm("1.1.2")
    unit.flag("1.2.1")
    observer = env.register("observer", "authority:dong-hy")[0]
    note = {"note_id": "gs-1", "change": adjusted, "text": "Làm rõ"}
    unit.send(observer, "record_oversight_note", **note)
    unit.answer("1.2.1", points="0.5")
    unit.submit_explanations()
    unit.adjust("1.2.1", "0")
    unit.send(unit.council, "answer_oversight_note", note_id="gs-1", answer="Đã rõ")
    unit.close(confirm=unit.unreviewed())
    other.close(confirm=other.unreviewed())
    approver = env.register("approver", "province:thai-nguyen")[0]
    env.season_end(unit.cycle, unit.council, approver)
    evidence = {"evidence_id": "kl-1", "leaves": ["1.1.1"], "file": None}
    evidence["document"] = {"number": "05/KL-TTr"}
    unit.send(unit.appraiser, "attach_evidence", **evidence)
    unit.send(
        unit.appraiser,
        "correct_score",
        leaf="1.1.1",
        points="0",
        reason="Kết luận thanh tra",
        evidence_ids=["kl-1"],
    )
    env.season_end(unit.cycle, unit.council, approver, close=False)
    return unit


def _reads(q: Queries, cycle: str, at) -> dict:
    return {
        "ranking": q.ranking(cycle),
        "oversight": q.oversight(cycle, Filters(), 1000),
        "sums": {by: q.oversight_summary(cycle, by, "deducted") for by in DIMS},
        "sums_across": q.oversight_summary(None, "unit"),
        "cycle_status": q.cycle_status(cycle, now=at),
        "unit_status": q.unit_status(cycle, U, now=at),
        "scores": q.unit_scores(cycle, U, now=at),
        "history": {leaf: q.leaf_history(cycle, U, leaf) for leaf in LEAVES},
        "notes": q.unit_notes(cycle, U),
        "rankings": q.rankings(cycle),
        "published": q.rankings(cycle, public=True),
    }


def _as_of(env: Env, live: PrivateModel, q: Queries, cycle: str, moment: Moment) -> dict:
    upto = moment.log_index
    return {
        "ranking": as_of_q.ranking(live, cycle, moment, 100, 0),
        "oversight": q.oversight(cycle, Filters(upto=upto), 1000),
        "sums": {by: q.oversight_summary(cycle, by, "deducted", upto=upto) for by in DIMS},
        "sums_across": q.oversight_summary(None, "unit", upto=upto),
        "cycle_status": as_of_q.cycle_status(live, cycle, moment, 100, 0),
        "unit_status": as_of_q.unit_status(live, cycle, U, moment),
        "scores": as_of_q.unit_scores(env.app, live, cycle, U, moment),
        "history": {leaf: q.leaf_history(cycle, U, leaf, upto) for leaf in LEAVES},
        "notes": q.unit_notes(cycle, U, upto),
        "rankings": q.rankings(cycle, upto=upto),
        "published": q.rankings(cycle, public=True, upto=upto),
    }


def _differences(a, b, path="") -> list[str]:
    """Where two read documents differ, to say so when they do."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(k), b.get(k), f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _followed_and_rebuilt(env: Env, tmp_path) -> tuple:
    """A read model of the whole log (and its queries), and a follower (and the
    queries) of a second one that the caller moves to each position in turn."""
    live = PrivateModel(tmp_path / "live.sqlite")
    Follower(env.app, live).catch_up()
    rebuilt = PrivateModel(tmp_path / "rebuilt.sqlite")
    return live, Queries(live), Follower(env.app, rebuilt), Queries(rebuilt)


@pytest.fixture
def keyframes(monkeypatch):
    """A keyframe of the units' standing every 3 rows (projections/standing.py) and
    of the oversight sums every 2 changes (projections/oversight_frames.py), so the
    reads cross many of them and the rows between."""
    monkeypatch.setattr(standing, "KEYFRAME_EVERY", 3)
    monkeypatch.setattr(oversight_frames, "KEYFRAME_EVERY", 2)


def test_every_read_as_of_p_equals_a_read_model_rebuilt_from_0_to_p(env: Env, tmp_path, keyframes):
    from datetime import datetime

    unit = season(env)
    live, live_q, follower, rebuilt_q = _followed_and_rebuilt(env, tmp_path)
    opened = None
    checked = 0
    for p in range(env.app.tlog.size()):
        leaf = env.app.tlog.leaf(p)
        assert leaf.notification_id is not None
        follower.catch_up(stop=leaf.notification_id)
        with live.read() as cur:
            moment = resolve(cur, str(p))
        if rebuilt_q.unit_scores(unit.cycle, U) is None:
            assert as_of_q.unit_scores(env.app, live, unit.cycle, U, moment) is None, p
            continue
        opened = opened if opened is not None else p
        at = datetime.fromisoformat(moment.at.replace("Z", "+00:00"))
        got, want = _as_of(env, live, live_q, unit.cycle, moment), _reads(rebuilt_q, unit.cycle, at)
        assert got == want, (p, _differences(got, want))
        checked += 1
    assert checked > 150  # every position from the unit's opening on
    final = _reads(live_q, unit.cycle, None)
    assert [v["state"] for v in final["rankings"]["versions"]] == ["published", "published"]
    assert final["notes"]["notes"][0]["answer"] is not None


def test_the_timelines_do_not_depend_on_how_the_log_was_cut_into_batches(
    env: Env, tmp_path, keyframes
):
    season(env)
    small = PrivateModel(tmp_path / "small.sqlite")
    Follower(env.app, small, batch_size=3, max_batch_size=3).catch_up()
    whole = PrivateModel(tmp_path / "whole.sqlite")
    Follower(env.app, whole, batch_size=1000, max_batch_size=1000).catch_up()
    timelines = ("unit_status_log", "unit_totals_log", "log_times")
    frames = ("standing_keyframes", "standing_frames", "oversight_keyframes", "oversight_frames")
    for table in (*timelines, "standing_log", *frames):
        rows = []
        for model in (small, whole):
            with model.read() as cur:
                cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
                rows.append([tuple(r) for r in cur.fetchall()])
        assert rows[0] == rows[1], table
        assert rows[0], table  # keyframes included: every 3 standing rows
    small.close()
    whole.close()
    assert rebuilder.compare(env.app, tmp_path / "small.sqlite") == []


def test_a_time_maps_to_the_longest_prefix_stored_by_then(env: Env, tmp_path):
    season(env)
    live = PrivateModel(tmp_path / "live.sqlite")
    Follower(env.app, live).catch_up()
    with live.read() as cur:
        cur.execute("SELECT leaf_index, at, running_at FROM log_times ORDER BY leaf_index")
        rows = [tuple(r) for r in cur.fetchall()]
        assert [r[0] for r in rows] == list(range(env.app.tlog.size()))
        assert all(a[2] <= b[2] for a, b in zip(rows, rows[1:], strict=False))
        index, at, _ = rows[len(rows) // 2]
        assert resolve(cur, at).log_index >= index
        assert resolve(cur, at).at <= at
        assert resolve(cur, "2000-01-01T00:00:00Z") == Moment(-1, None)
        assert resolve(cur, "2999-01-01T00:00:00Z").log_index == rows[-1][0]
        assert resolve(cur, at[:19] + "Z").log_index <= index
        for bad in ("-1", "abc", "2025-12-20", "2025-12-20T00:00:00+07:00", str(10**6)):
            with pytest.raises(BadMoment):
                resolve(cur, bad)


def test_the_cycle_wide_reads_as_of_p_with_every_stage_a_merge_and_own_deadlines(
    env: Env, tmp_path, keyframes
):
    """A cycle with a unit in each stage, deadlines of one unit's own and two
    units merged into a new one (tests/integration/test_season_reads.py): its
    ranking and progress as of every P equal those of a model rebuilt to P."""
    from datetime import datetime

    from tests.integration.test_season_reads import season as every_stage

    every_stage(env)
    live, live_q, follower, rebuilt_q = _followed_and_rebuilt(env, tmp_path)
    seen = set()
    for p in range(env.app.tlog.size()):
        follower.catch_up(stop=env.app.tlog.leaf(p).notification_id)
        if rebuilt_q.cycle_status("s") is None:
            continue
        with live.read() as cur:
            moment = resolve(cur, str(p))
        at = datetime.fromisoformat(moment.at.replace("Z", "+00:00"))
        for limit, offset in ((100, 0), (3, 2)):
            # sums of one cycle of two, of a list of cycles, of every cycle, by each order
            sums = (("s", "leaf", "added"), (["s"], "unit", "changes"), (None, "actor", "key"))
            got = {
                "ranking": as_of_q.ranking(live, "s", moment, limit, offset),
                "status": as_of_q.cycle_status(live, "s", moment, limit, offset),
                "sums": [
                    live_q.oversight_summary(c, by, o, limit, offset, upto=p) for c, by, o in sums
                ],
            }
            want = {
                "ranking": rebuilt_q.ranking("s", limit, offset),
                "status": rebuilt_q.cycle_status("s", limit, offset, now=at),
                "sums": [rebuilt_q.oversight_summary(c, by, o, limit, offset) for c, by, o in sums],
            }
            assert got == want, (p, _differences(got, want))
            if offset == 0 and all(x["rows"] for x in want["sums"]):
                seen.add("summed")
        seen |= {k for k, n in want["status"]["totals"].items() if n}
        seen |= {"ranked"} if want["ranking"]["rows"] else set()
    assert seen >= {"not_submitted", "round_1", "explanation", "round_2", "closed", "merged"}
    assert {"ranked", "summed"} <= seen


def test_a_forged_keyframe_changes_the_past_and_verify_reports_its_table(
    env: Env, tmp_path, keyframes
):
    """An operator who edits the keyframes (the read model's snapshots that as-of
    reads start from) to rewrite what the progress or the oversight sums were at
    some moment: the forged answer shows, and the comparison with a model rebuilt
    from the signed log (what `parindex verify --data-dir` runs) names both tables."""
    unit = season(env)
    path = tmp_path / "live.sqlite"
    live = PrivateModel(path)
    Follower(env.app, live).catch_up()
    with live.read() as cur:
        cur.execute(
            "SELECT keyframe FROM standing_keyframes WHERE cycle = ? AND unit = ? "
            "AND submitted = 1 ORDER BY keyframe LIMIT 1",
            (unit.cycle, U),
        )
        moment = resolve(cur, str(cur.fetchone()[0]))
        cur.execute(
            "SELECT keyframe FROM oversight_keyframes WHERE cycle = ? ORDER BY keyframe LIMIT 1",
            (unit.cycle,),
        )
        sums_at = cur.fetchone()[0]
    honest = as_of_q.cycle_status(live, unit.cycle, moment, 100, 0)
    honest_sums = Queries(live).oversight_summary(unit.cycle, "unit", upto=sums_at)
    with live.write() as cur:
        cur.execute(
            "UPDATE standing_keyframes SET stage = 'closed' "
            "WHERE cycle = ? AND unit = ? AND keyframe = ?",
            (unit.cycle, U, moment.log_index),
        )
        cur.execute(
            "UPDATE oversight_keyframes SET changes = changes + 5 WHERE cycle = ? AND keyframe = ?",
            (unit.cycle, sums_at),
        )
    forged = as_of_q.cycle_status(live, unit.cycle, moment, 100, 0)
    forged_sums = Queries(live).oversight_summary(unit.cycle, "unit", upto=sums_at)
    assert forged["totals"]["closed"] == honest["totals"]["closed"] + 1
    assert forged_sums != honest_sums
    live.close()
    tables = {d["table"] for d in rebuilder.compare(env.app, path)}
    assert {"standing_keyframes", "oversight_keyframes"} <= tables
