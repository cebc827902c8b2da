"""The server's witness asker, in process, on both backends: an ask keeps the
cosignature and writes its outcome; a scheduled ask is skipped when every witness has
cosigned the head; a failure is recorded, never raised; two servers on one PostgreSQL
database ask one at a time (advisory lock)."""

from __future__ import annotations

import threading

import pytest

from application.deployment import open_app
from interfaces.http import witness_asking
from interfaces.http.witness_asking import WitnessAsker, read_status
from tests.integration.test_verify_witnesses import _witness
from tests.support import Env


def test_an_ask_is_kept_recorded_and_skipped_when_nothing_is_new(env: Env, tmp_path):
    _witness_, post = _witness(env, tmp_path)
    env.register()
    asker = WitnessAsker(env.app, env.data_dir, lambda: [], 0, post=post)
    status = asker.ask_now()
    assert [a["status"] for a in status["answers"]] == ["cosigned"]
    assert read_status(env.data_dir) == status
    assert asker.ask_now(skip_if_seen=True) is None
    env.register()
    assert asker.ask_now(skip_if_seen=True)["size"] == env.app.tlog.size()


def test_a_failing_witness_is_recorded_never_raised(env: Env, tmp_path):
    _witness(env, tmp_path)

    def down(_url: str, _body: bytes) -> tuple[int, bytes]:
        raise OSError("connection refused")

    status = WitnessAsker(env.app, env.data_dir, lambda: [], 0, post=down).ask_now()
    assert status["answers"][0]["status"] == "failed"
    assert "connection refused" in status["answers"][0]["detail"]
    asker = WitnessAsker(env.app, env.data_dir, lambda: [], 0, post=down)
    asker.app = None  # anything at all going wrong
    assert asker.ask_now()["error"]


def test_two_servers_on_one_postgres_database_ask_one_at_a_time(env: Env, tmp_path, monkeypatch):
    if env.database_url is None:
        pytest.skip("one SQLite store is one data directory: its file lock is the test above")
    _witness_, post = _witness(env, tmp_path)
    other_dir = tmp_path / "other-server"
    other_dir.mkdir()
    other = open_app(env.data_dir)
    try:
        first = WitnessAsker(env.app, env.data_dir, lambda: [], 0, post=post)
        second = WitnessAsker(other, other_dir, lambda: [], 0, post=post)
        monkeypatch.setattr(witness_asking, "LOCK_WAIT_SECONDS", 0.5)
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with first._one_at_a_time():
                held.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        held.wait(10)
        assert "another server" in second.ask_now()["error"]
        release.set()
        t.join()
        assert second.ask_now()["answers"][0]["status"] == "cosigned"
    finally:
        other.close()
