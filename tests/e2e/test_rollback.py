"""The event store goes back in time while the read model does not.

SQLite: the store file is restored from an older copy. PostgreSQL: the tail
rows are deleted (events, leaves, nodes, the stored frontier, checkpoints).
Either way the read model still holds what the log lost, and the server must
not serve it as current: every read and write route answers 503 with a stable
code until the operator runs `parindex rebuild-read-model`, which keeps the
old read model for the auditor and exits 1. The log routes and /healthz still
answer (they say what happened).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from application.config import Settings
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.e2e.http_support import PROBLEM, Http, assert_problem, run_cli
from tests.support import Env, command, new_key, register_command, sql, truncate_log

CYCLE, UNIT, LEAF = "tn-2025", "xa-01", "1.1.1"


def _open_season(env: Env):
    framework = to_dict(load_bundled("thai-nguyen-2021-commune"))
    env.send(command(env.admin, "publish_framework", framework=framework))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=CYCLE,
            name="Kỳ 2025",
            framework=framework["id"],
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": UNIT, "name": "Xã 01"}],
        )
    )
    officer = new_key()
    env.send(register_command(env.admin, officer, "commune_officer", f"commune:{UNIT}"))
    return framework["id"], officer


def _save(env: Env) -> object:
    """What the operator will restore later: a copy of the SQLite file, or the PG size."""
    if env.database_url is None:
        copy = env.data_dir.parent / "events.backup.sqlite"
        src = sqlite3.connect(Settings.load(env.data_dir).sqlite_path)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        dst.close()
        src.close()
        return copy
    return env.app.tlog.size()


def _restore(env: Env, saved: object) -> None:
    if env.database_url is None:
        env.app.close()
        store = Settings.load(env.data_dir).sqlite_path
        for suffix in ("-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        Path(store).write_bytes(Path(saved).read_bytes())
        env.reopen()
        return
    truncate_log(env.app, saved)
    sql(env.app, f"DELETE FROM {env.app.tlog.t.checkpoints} WHERE size > ?", (saved,))


def _client(env: Env, **kw):
    from interfaces.http.app import create_app

    return create_app(env.data_dir, follow=False, rollback_check_interval=0, **kw)


def _read_everything(env: Env) -> int:
    """A server follows the whole log into its read model, then stops."""
    from interfaces.http.app import services_of

    flask = _client(env)
    try:
        head = env.app.position()
        assert flask.test_client().get(f"/api/v1/frameworks?position={head}").status_code == 200
        return services_of(flask).follower.position()
    finally:
        services_of(flask).close()


def _routes(framework_id: str) -> list[str]:
    unit = f"/api/v1/cycles/{CYCLE}/units/{UNIT}"
    return [
        "/api/v1/frameworks",
        f"/api/v1/frameworks/{framework_id}",
        "/api/v1/cycles",
        f"/api/v1/cycles/{CYCLE}/ranking",
        f"{unit}/scores",
        f"{unit}/evidence",
        f"{unit}/leaves/{LEAF}/history",
        f"{unit}/leaves/{LEAF}/why",
    ]


@pytest.fixture
def rolled_back(env):
    """A season whose last three commands (two self-scores, one key) the store lost
    after the read model had seen them."""
    framework_id, officer = _open_season(env)
    saved = _save(env)
    env.send(
        command(officer, "record_self_score", cycle=CYCLE, unit=UNIT, leaf=LEAF, points="0.5"),
        officer,
    )
    env.send(
        command(officer, "record_self_score", cycle=CYCLE, unit=UNIT, leaf=LEAF, points="1"),
        officer,
    )
    env.send(register_command(env.admin, new_key()))
    env.checkpoint()
    seen = _read_everything(env)
    _restore(env, saved)
    assert env.app.position() < seen
    return env, framework_id, officer


def test_every_read_and_write_route_refuses_a_read_model_ahead_of_its_log(rolled_back):
    from interfaces.http.app import services_of

    env, framework_id, officer = rolled_back
    flask = _client(env)
    try:
        http = Http(flask.test_client())
        for route in _routes(framework_id):
            body = assert_problem(http.get(route, officer), 503, "read_model_ahead")
            assert "kho sự kiện đã bị khôi phục từ bản cũ" in body["detail"], body
            assert "parindex rebuild-read-model" in body["detail"]
            en = assert_problem(http.get(route, officer, lang="en"), 503, "read_model_ahead")
            assert "restored from an older copy" in en["detail"]
        write = http.send(
            officer, "record_self_score", cycle=CYCLE, unit=UNIT, leaf=LEAF, points="0.25"
        )
        assert_problem(write, 503, "read_model_ahead")
        assert_problem(
            http.put_blob(b"%PDF-1.4 x", "application/pdf", officer), 503, "read_model_ahead"
        )
        # What an auditor needs to see what happened is still served.
        for route in ("/api/v1/log/checkpoint", "/api/v1/log/key", "/openapi.json"):
            assert http.get(route).status_code == 200, route
        health = http.get("/healthz").get_json()
        assert health["status"] == "read_model_ahead"
        assert health["rollback"]["position"] > health["rollback"]["log_position"]
    finally:
        services_of(flask).close()


def test_the_follower_applies_nothing_onto_a_rolled_back_log(rolled_back):
    from interfaces.http.app import services_of

    env, _framework_id, officer = rolled_back
    before = _read_model_position(env)
    # A write made around the server (the operator's own tools) after the restore.
    env.send(
        command(officer, "record_self_score", cycle=CYCLE, unit=UNIT, leaf=LEAF, points="0.25"),
        officer,
    )
    flask = _client(env)
    services = services_of(flask)
    try:
        services.follower.start(interval=0.05)
        time.sleep(0.5)
        assert _read_model_position(env) == before
        assert services.follower.last_error is not None
    finally:
        services.follower.stop()
        services.close()


def _read_model_position(env: Env) -> int:
    from interfaces.http.app import READ_MODEL_FILE
    from projections.store import ReadModel

    model = ReadModel(env.data_dir / READ_MODEL_FILE)
    try:
        return model.position()
    finally:
        model.close()


def test_a_same_length_log_with_other_events_is_read_model_diverged(rolled_back):
    from interfaces.http.app import services_of

    env, framework_id, officer = rolled_back
    # The operator writes as many other events as were lost: sizes agree again.
    for _ in range(3):
        env.send(register_command(env.admin, new_key()))
    flask = _client(env)
    try:
        http = Http(flask.test_client())
        for route in _routes(framework_id):
            body = assert_problem(http.get(route, officer), 503, "read_model_diverged")
            assert "kho sự kiện đã bị thay thế" in body["detail"]
        assert http.get("/healthz").get_json()["status"] == "read_model_diverged"
    finally:
        services_of(flask).close()


def test_verify_reports_the_read_model_ahead(rolled_back, capsys):
    env, _framework_id, _officer = rolled_back
    code = run_cli(["verify", "--data-dir", str(env.data_dir), "--json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert any(f["kind"] == "read_model_ahead" for f in findings), findings


def test_serve_startup_says_it_will_not_serve_and_keeps_the_read_model(rolled_back, capsys):
    from interfaces.http.server import prepare_read_model

    env, _framework_id, _officer = rolled_back
    before = _read_model_position(env)
    rollback = prepare_read_model(str(env.data_dir))
    err = capsys.readouterr().err
    assert rollback is not None and rollback.code == "read_model_ahead"
    assert "KHÔNG PHỤC VỤ [read_model_ahead]" in err and "NOT SERVING [read_model_ahead]" in err
    assert _read_model_position(env) == before  # not rebuilt behind the auditor's back


def test_rebuild_read_model_keeps_the_old_one_says_why_and_serving_resumes(rolled_back, capsys):
    from interfaces.http.app import READ_MODEL_FILE, services_of

    env, framework_id, officer = rolled_back
    code = run_cli(["rebuild-read-model", "--data-dir", str(env.data_dir), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["rollback"]["code"] == "read_model_ahead"
    kept = Path(out["kept"])
    assert kept.exists() and kept.name.startswith(f"{READ_MODEL_FILE}.read_model_ahead-")
    assert os.stat(kept).st_mode & 0o077 == 0
    flask = _client(env)
    try:
        http = Http(flask.test_client())
        resp = http.get(f"/api/v1/cycles/{CYCLE}/units/{UNIT}/leaves/{LEAF}/history", officer)
        assert resp.status_code == 200
        assert resp.get_json()["entries"] == []  # the lost self-scores are gone from reads
    finally:
        services_of(flask).close()
    assert run_cli(["rebuild-read-model", "--data-dir", str(env.data_dir)]) == 0


def test_a_position_beyond_the_log_is_refused_at_once_not_after_the_wait(env):
    from interfaces.http.app import services_of

    framework_id, officer = _open_season(env)
    flask = _client(env, read_wait=5.0)
    try:
        http = Http(flask.test_client())
        beyond = env.app.position() + 1
        for route in _routes(framework_id):
            started = time.monotonic()
            resp = http.get(f"{route}?position={beyond}", officer)
            assert time.monotonic() - started < 2.0, route
            assert resp.mimetype == PROBLEM
            assert_problem(resp, 409, "position_beyond_log")
    finally:
        services_of(flask).close()
