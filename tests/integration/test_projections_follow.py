"""Following the log: exactly once, concurrent followers, rebuild, compare,
read-your-writes and the background poller."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest

from domain.framework import to_dict
from interfaces.bundled import load_bundled
from projections.follower import (
    Follower,
    ProjectionError,
    compare,
    digest,
    open_current,
    rebuild,
)
from projections.queries import Queries
from projections.store import ReadModel
from tests.integration.test_projections_scenario import TN, Scenario, build_scenario
from tests.support import Env, command, new_key, register_command, set_event_state


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    s = build_scenario(tmp_path_factory.mktemp("store"))
    yield s
    s.app.close()


def follow(app, path, batch_size: int = 1000, max_batch_size: int = 20_000) -> ReadModel:
    model = ReadModel(path)
    Follower(app, model, batch_size=batch_size, max_batch_size=max_batch_size).catch_up()
    return model


def last_position(app) -> int:
    return app.recorder.max_notification_id()


# -- exactly once ----------------------------------------------------------------------
def test_catching_up_twice_applies_nothing_new(scenario, tmp_path):
    model = ReadModel(tmp_path / "r.sqlite")
    follower = Follower(scenario.app, model)
    assert follower.catch_up() == last_position(scenario.app)
    before = digest(model)
    assert follower.catch_up() == 0
    assert digest(model) == before
    assert follower.position() == last_position(scenario.app)


def test_a_second_follower_of_the_same_file_applies_only_what_the_first_left(scenario, tmp_path):
    one, two = ReadModel(tmp_path / "r.sqlite"), ReadModel(tmp_path / "r.sqlite")
    first = Follower(scenario.app, one, batch_size=100, max_batch_size=100).catch_up(max_batches=2)
    second = Follower(scenario.app, two, batch_size=100).catch_up()
    assert first == 200
    assert first + second == last_position(scenario.app)
    assert digest(one) == digest(follow(scenario.app, tmp_path / "single.sqlite"))


def test_two_followers_in_two_threads_on_one_file_give_the_digest_of_one(scenario, tmp_path):
    path = tmp_path / "shared.sqlite"
    followers = [
        Follower(scenario.app, ReadModel(path), batch_size=size, max_batch_size=size)
        for size in (37, 53)
    ]
    counts: list[int] = []
    errors: list[BaseException] = []

    def run(f: Follower) -> None:
        try:
            counts.append(f.catch_up())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in followers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(counts) == last_position(scenario.app)  # each event applied once in all
    single = follow(scenario.app, tmp_path / "single.sqlite")
    assert digest(followers[0].read_model) == digest(single)


def test_batches_of_one_event_build_the_same_read_model_as_one_big_batch(scenario, tmp_path):
    small = follow(scenario.app, tmp_path / "small.sqlite", batch_size=1, max_batch_size=1)
    big = follow(scenario.app, tmp_path / "big.sqlite", batch_size=5000)
    assert small.table_digests() == big.table_digests()


# -- rebuild and compare -----------------------------------------------------------------
def test_rebuild_from_position_zero_gives_an_identical_digest(scenario, tmp_path):
    live = follow(scenario.app, tmp_path / "live.sqlite")
    path = tmp_path / "read.sqlite"
    first = rebuild(scenario.app, path)
    second = rebuild(scenario.app, path)
    assert first["digest"] == second["digest"] == digest(live)
    assert first["position"] == last_position(scenario.app)
    assert first["events"] == last_position(scenario.app)
    assert os.path.islink(path)
    generations = [n for n in os.listdir(tmp_path) if n.endswith(".gen")]
    assert generations == [second["generation"]]  # the older generation is gone
    assert Queries(ReadModel(path)).ranking(TN)["rows"][0]["unit"] == "xa-01"


def test_an_open_read_model_follows_a_rebuild_swapped_in_under_it(scenario, tmp_path):
    path = tmp_path / "read.sqlite"
    model = follow(scenario.app, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE unit_totals SET appraised_total = '99' WHERE unit = 'xa-04'")
    assert Queries(model).ranking(TN)["rows"][3]["appraised_total"] == "99"
    rebuilt = rebuild(scenario.app, path)
    assert Queries(model).ranking(TN)["rows"][3]["appraised_total"] == "70"
    assert digest(model) == rebuilt["digest"]


def test_a_batch_read_just_before_a_swap_to_an_older_generation_is_read_again(scenario, tmp_path):
    older = ReadModel(tmp_path / "older.sqlite")
    Follower(scenario.app, older, batch_size=50, max_batch_size=50).catch_up(max_batches=1)
    older.close()
    path = tmp_path / "read.sqlite"
    model = ReadModel(path)
    follower = Follower(scenario.app, model, batch_size=100, max_batch_size=100)
    follower.catch_up(max_batches=1)
    decode, swapped = follower._decode, []

    def swap_then_decode(notifications, leaves):
        if not swapped:  # the swap lands between reading a batch and writing it
            os.symlink("older.sqlite", tmp_path / "link")
            os.replace(tmp_path / "link", path)
            swapped.append(True)
        return decode(notifications, leaves)

    follower._decode = swap_then_decode
    follower.catch_up()
    assert swapped and model.position() == last_position(scenario.app)
    assert digest(model) == digest(follow(scenario.app, tmp_path / "single.sqlite"))


def test_compare_finds_no_difference_in_a_faithful_read_model(scenario, tmp_path):
    follow(scenario.app, tmp_path / "read.sqlite")
    assert compare(scenario.app, tmp_path / "read.sqlite") == []


@pytest.mark.parametrize(
    "table,statement",
    [
        ("unit_totals", "UPDATE unit_totals SET appraised_total = '95' WHERE unit = 'xa-02'"),
        (
            "node_scores",
            "UPDATE node_scores SET appraised_score = '0.25' WHERE code = '1.1.1' "
            "AND unit = 'xa-04'",
        ),
        ("history", "DELETE FROM history WHERE kind = 'adjustment' AND unit = 'xa-03'"),
        ("evidence", "UPDATE evidence SET status = 'attached' WHERE evidence_id = 'kh-2'"),
    ],
)
def test_compare_names_the_table_of_a_tampered_read_model_row(scenario, tmp_path, table, statement):
    path = tmp_path / "read.sqlite"
    follow(scenario.app, path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute(statement).rowcount >= 1
    found = compare(scenario.app, path)
    assert [(d["kind"], d["table"]) for d in found] == [("read_model_differs", table)]
    assert found[0]["position"] == last_position(scenario.app)


def test_compare_rebuilds_only_up_to_the_position_the_read_model_has_reached(scenario, tmp_path):
    path = tmp_path / "behind.sqlite"
    Follower(scenario.app, ReadModel(path), batch_size=150).catch_up(max_batches=1)  # behind
    assert compare(scenario.app, path) == []
    assert compare(scenario.app, tmp_path / "missing.sqlite")[0]["kind"] == "read_model_missing"


def test_open_current_builds_a_missing_or_outdated_model_and_keeps_a_current_one(
    scenario, tmp_path
):
    path = tmp_path / "read.sqlite"
    built = open_current(scenario.app, path)
    assert built.position() == last_position(scenario.app) and os.path.islink(path)
    generation = os.path.realpath(path)
    assert os.path.realpath(open_current(scenario.app, path).path) == generation  # kept
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")  # written by another version of the code
    assert ReadModel(path).outdated
    rebuilt = open_current(scenario.app, path)
    assert not rebuilt.outdated and os.path.realpath(path) != generation
    assert digest(rebuilt) == digest(built)


# -- read-your-writes and polling (SQLite and, when configured, PostgreSQL) ---------------
def small_cycle(env: Env):
    framework = load_bundled("thai-nguyen-2021-commune")
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=TN,
            name="Kỳ 2025",
            framework=str(framework.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": "xa-01", "name": "Xã 1"}],
        )
    )
    officer, _ = env.register(role="commune_officer", scope="commune:xa-01")
    return officer


def self_score(env: Env, officer, leaf: str, points: str) -> dict:
    return env.send(
        command(officer, "record_self_score", cycle=TN, unit="xa-01", leaf=leaf, points=points),
        officer,
    )


def test_wait_for_returns_once_the_write_is_readable_and_false_when_it_never_comes(env, tmp_path):
    officer = small_cycle(env)
    model = ReadModel(tmp_path / "r.sqlite")
    follower = Follower(env.app, model)
    follower.catch_up()
    receipt = self_score(env, officer, "1.1.1", "0.75")
    assert Queries(model).unit_scores(TN, "xa-01")["self_total"] == "0"
    assert follower.wait_for(receipt["position"], timeout=5)
    assert Queries(model).unit_scores(TN, "xa-01")["self_total"] == "0.75"
    [entry] = Queries(model).leaf_history(TN, "xa-01", "1.1.1")["entries"]
    assert entry["leaf_index"] == receipt["log_index"]  # the leaf a proof is served for
    started = time.monotonic()
    assert not follower.wait_for(receipt["position"] + 1000, timeout=0.2)
    assert 0.15 < time.monotonic() - started < 2


def test_a_background_follower_picks_up_new_events(env, tmp_path):
    officer = small_cycle(env)
    model = ReadModel(tmp_path / "r.sqlite")
    follower = Follower(env.app, model)
    follower.start(interval=0.05)
    try:
        receipt = self_score(env, officer, "1.1.2", "1")
        deadline = time.monotonic() + 10
        while model.position() < receipt["position"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Queries(model).unit_scores(TN, "xa-01")["self_total"] == "1"
    finally:
        follower.stop()
    assert follower.last_error is None


def test_an_event_that_cannot_be_applied_is_named_and_nothing_of_its_batch_is_kept(env, tmp_path):
    officer = small_cycle(env)
    receipt = self_score(env, officer, "1.1.1", "1")
    follow(env.app, tmp_path / "before.sqlite").close()  # followed while the event was sound
    set_event_state(env.app, receipt["log_index"], b'{"timestamp": "not a time"}')
    model = ReadModel(tmp_path / "r.sqlite")
    with pytest.raises(ProjectionError) as failure:
        Follower(env.app, model).catch_up()
    assert failure.value.notification_id == receipt["position"]
    assert model.position() == 0  # the whole batch rolled back with it
    [finding] = compare(env.app, tmp_path / "before.sqlite")
    assert finding["kind"] == "read_model_rebuild_failed"
    assert finding["notification_id"] == receipt["position"]


def test_keys_read_back_as_active_revoked_and_rotated(env, tmp_path):
    observer, revoked, old = new_key(), new_key(), new_key()
    for key in (observer, revoked, old):
        env.send(register_command(env.admin, key, role="observer", name="Lê Giám Sát"))
    gone = env.send(command(env.admin, "revoke_key", key_id=revoked.key_id, reason="Mất máy"))
    successor = new_key()
    env.send(
        command(
            env.admin,
            "rotate_key",
            old_key_id=old.key_id,
            key_id=successor.key_id,
            public_key=successor.public_key,
        )
    )
    keys = {k["key_id"]: k for k in Queries(follow(env.app, tmp_path / "r.sqlite")).keys()}
    assert keys[observer.key_id]["status"] == "active"
    assert (keys[revoked.key_id]["status"], keys[revoked.key_id]["revoked_reason"]) == (
        "revoked",
        "Mất máy",
    )
    assert keys[revoked.key_id]["revoked_leaf"] == gone["log_index"]
    assert (keys[old.key_id]["status"], keys[old.key_id]["rotated_to"]) == (
        "rotated",
        successor.key_id,
    )
    assert keys[successor.key_id]["rotated_from"] == old.key_id
    assert keys[successor.key_id]["role"] == "observer"
