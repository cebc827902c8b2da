"""No write holds the store without bound, and a large write is stored whole.

A writer stuck while holding the store's lock (a hung server, an operator's
open transaction) makes the others fail after the lock timeout with a clear
`store_busy`, writing nothing; the holder itself goes on. A write larger than
what psycopg's pipeline mode could send (it stalled at 6-8 MB on PostgreSQL,
holding the table lock) is stored in one transaction with contiguous leaves.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import uuid

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from application.deployment import open_app
from application.errors import StoreUnavailable
from application.store.file_lock import FileWriteLock
from domain.assessment import Assessment
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.support import (
    Env,
    Written,
    command,
    new_key,
    pg_connect_url,
    register_command,
    sql,
)

LOCK_TIMEOUT = 1


def _open_cycle(env: Env, units: int) -> dict:
    framework = load_bundled("thai-nguyen-2021-commune")
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    return env.send(
        command(
            env.admin,
            "open_cycle",
            cycle="c",
            name="Kỳ 2025",
            framework=str(framework.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": f"xa-{i:05d}", "name": f"Xã số {i + 1}"} for i in range(units)],
        )
    )


def _with_short_lock_timeout(env: Env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PARINDEX_WRITE_LOCK_TIMEOUT_SECONDS", str(LOCK_TIMEOUT))
    return env.reopen()


def _refused_busy(env: Env, envelope: dict) -> float:
    before = Written.read(env.app)
    t = time.monotonic()
    with pytest.raises(StoreUnavailable) as refused:
        env.app.handle(envelope)
    waited = time.monotonic() - t
    assert refused.value.code == "store_busy" and refused.value.status == 503
    assert Written.read(env.app) == before
    return waited


def _assert_log_covers_every_event(env: Env) -> None:
    app = env.reopen()
    size = app.tlog.size()
    assert [x.leaf_index for x in app.tlog.leaves_range(0, size + 10)] == list(range(size))
    assert app.tlog.count_events() == size
    assert app.tlog.events_outside_log() == []


def test_a_write_far_larger_than_the_pipeline_stall_is_stored_in_one_transaction(env: Env):
    # 24 MB in one save: three times what stalled the library's pipelined insert.
    start = env.app.tlog.size()
    events = [
        StoredEvent(uuid.uuid4(), 1, "tests:Big", bytes([i % 251]) * (600 * 1024))
        for i in range(40)
    ]

    ids = env.app.recorder.insert_events(events)

    assert len(ids) == 40
    leaves = env.app.recorder.last_append.leaves
    assert [x.leaf_index for x in leaves] == list(range(start, start + 40))
    _assert_log_covers_every_event(env)


def test_open_cycle_with_600_units_returns_with_one_leaf_per_unit(env: Env):
    # 500 units never returned on PostgreSQL: the connection waited in the
    # pipelined insert while holding the table lock.
    receipt = _open_cycle(env, 600)

    assert len(receipt["events"]) == 601  # the cycle and one assessment per unit
    indices = [e["leaf_index"] for e in receipt["events"]]
    assert indices == list(range(indices[0], indices[0] + 601))
    _assert_log_covers_every_event(env)


def test_a_write_blocked_by_a_stuck_server_fails_with_store_busy_and_writes_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    _with_short_lock_timeout(env, monkeypatch)
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    stuck = open_app(env.data_dir)  # another server, stuck mid-command on that key
    try:
        from application.app import queue_id
        from application.commands import parse_envelope

        with stuck.recorder.exclusive(queue_id(parse_envelope(envelope))):
            waited = _refused_busy(env, envelope)
        assert waited < LOCK_TIMEOUT + 10
        # Once the stuck server is gone the same command goes through, once.
        receipt = env.app.handle(envelope)
        assert receipt["replayed"] is False
    finally:
        stuck.close()


def test_a_write_blocked_by_a_held_table_lock_fails_while_the_holder_commits(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    # The holder is an operator's open write transaction on the store itself.
    _with_short_lock_timeout(env, monkeypatch)
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    if env.database_url is None:
        holder = sqlite3.connect(env.data_dir / "events.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(pg_connect_url(env.database_url))
        holder.execute(f"LOCK TABLE {env.app.tlog.events_table} IN EXCLUSIVE MODE")
    try:
        _refused_busy(env, envelope)
        # The holder was not disturbed: its transaction still works and commits.
        holder.execute(f"SELECT COUNT(*) FROM {env.app.tlog.t.leaves}").fetchone()
        holder.commit()
    finally:
        holder.close()
    assert env.app.handle(envelope)["replayed"] is False


def test_a_stuck_writer_on_one_unit_does_not_hold_up_another_units_writers(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    # PostgreSQL queues writers per aggregate; SQLite has one writer at a time,
    # so there the other unit's writer waits its bound and is told so.
    _open_cycle(env, 2)
    officer, _ = env.register("commune_officer", "province:thai-nguyen")
    _with_short_lock_timeout(env, monkeypatch)
    stuck = open_app(env.data_dir)
    try:
        score = officer.sign(
            command(
                officer, "record_self_score", cycle="c", unit="xa-00001", leaf="1.1.1", points="1"
            )
        )
        with stuck.recorder.exclusive(Assessment.create_id("c", "xa-00000")):
            if env.database_url is None:
                _refused_busy(env, score)
            else:
                assert env.app.handle(score)["replayed"] is False
    finally:
        stuck.close()


def test_a_write_that_runs_past_the_statement_timeout_fails_and_is_rolled_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    if env.database_url is None:
        pytest.skip("SQLite has no statement timeout; its bound is the lock wait above")
    # An operator's trigger makes the log insert slow; the write must give up
    # within its budget and leave nothing behind.
    schema = env.app.recorder.datastore.schema
    sql(
        env.app,
        f'CREATE FUNCTION "{schema}".slow() RETURNS trigger LANGUAGE plpgsql AS '
        "$$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$",
    )
    sql(
        env.app,
        f"CREATE TRIGGER slow BEFORE INSERT ON {env.app.tlog.t.leaves} "
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".slow()',
    )
    monkeypatch.setenv("PARINDEX_WRITE_STATEMENT_TIMEOUT_SECONDS", "1")
    env.reopen()
    before = Written.read(env.app)
    with pytest.raises(StoreUnavailable) as refused:
        env.register()
    assert refused.value.code == "store_timeout"
    assert Written.read(env.app) == before


def test_a_thread_of_the_same_server_behind_a_stuck_command_waits_its_bound_then_503(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    # The threaded HTTP worker runs commands of one server in threads that
    # share its aggregate cache, so they take turns; a turn that never ends
    # (a command stuck in a handler) must not make the others wait for ever.
    _with_short_lock_timeout(env, monkeypatch)
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    taken, done = threading.Event(), threading.Event()

    def stuck() -> None:
        with env.app._turn():
            taken.set()
            done.wait(30)

    holder = threading.Thread(target=stuck)
    holder.start()
    try:
        taken.wait(5)
        waited = _refused_busy(env, envelope)
        assert LOCK_TIMEOUT - 0.1 <= waited < LOCK_TIMEOUT + 5
    finally:
        done.set()
        holder.join()
    assert env.app.handle(envelope)["replayed"] is False


def test_callers_refused_behind_a_hung_holder_leave_at_most_one_waiting_thread(tmp_path):
    # A hung writer of another process holds the store's file lock; every
    # command of this server is refused after its bound, without leaving a
    # thread and an open file behind per refusal.
    path = str(tmp_path / "events.sqlite.write-lock")
    hung = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(hung, fcntl.LOCK_EX)
    lock = FileWriteLock(path, timeout=0.2)
    threads_before = threading.active_count()
    fds_before = len(os.listdir("/proc/self/fd"))
    try:
        for _ in range(10):
            t = time.monotonic()
            with pytest.raises(StoreUnavailable) as refused, lock.held():
                pass
            assert refused.value.code == "store_busy"
            assert time.monotonic() - t < 2
        assert threading.active_count() - threads_before <= 1
        assert len(os.listdir("/proc/self/fd")) - fds_before <= 2  # the lock's own + one waiter
    finally:
        fcntl.flock(hung, fcntl.LOCK_UN)
        os.close(hung)
    # The holder is gone: the next command gets the lock at once, and the
    # stranded waiter lets go of it.
    with lock.held():
        pass
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == threads_before
