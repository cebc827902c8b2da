"""POST /api/v1/commands through the WSGI app: receipts, replays, refusals as problems."""

from __future__ import annotations

import base64

from tests.e2e.http_support import CYCLE, UNITS, World, assert_problem
from tests.support import Written, command, flip_signature_byte, new_key, register_command


def self_score(world: World, **extra) -> dict:
    return command(
        world.officer,
        "record_self_score",
        cycle=CYCLE,
        unit=UNITS[0],
        leaf="1.1.1",
        points="0.75",
        **extra,
    )


def test_a_signed_command_returns_201_and_a_receipt_pointing_at_its_leaf(world, http):
    before = Written.read(world.app)
    resp = http.post(world.officer.sign(self_score(world)))

    assert resp.status_code == 201
    receipt = resp.get_json()
    assert receipt["replayed"] is False
    assert receipt["log_index"] == before.size
    assert receipt["tree_size"] == before.size + 1
    assert receipt["position"] > 0
    leaf = world.app.tlog.leaf(receipt["log_index"])
    assert receipt["events"][0]["leaf_hash"] == leaf.leaf_hash.hex()


def test_sending_the_same_envelope_again_returns_200_replayed_and_writes_nothing(world, http):
    envelope = world.officer.sign(self_score(world))
    first = http.post(envelope).get_json()
    before = Written.read(world.app)

    again = http.post(envelope)

    assert again.status_code == 200
    assert again.get_json() == {**first, "replayed": True}
    assert Written.read(world.app) == before


def test_the_same_id_with_other_content_is_a_409_conflict(world, http):
    cmd = self_score(world)
    http.post(world.officer.sign(cmd))
    before = Written.read(world.app)

    resp = http.post(world.officer.sign({**cmd, "points": "0.5"}))

    body = assert_problem(resp, 409, "idempotency_conflict")
    assert body["errors"][0]["field"] == "id"
    assert Written.read(world.app) == before


def test_a_tampered_signature_is_401_and_writes_nothing(world, http):
    before = Written.read(world.app)
    resp = http.post(flip_signature_byte(world.officer.sign(self_score(world))))
    assert_problem(resp, 401, "bad_signature")
    assert resp.headers["WWW-Authenticate"].startswith("Parindex-Sig")
    assert Written.read(world.app) == before


def test_an_unregistered_key_is_401(world, http):
    stranger = new_key()
    resp = http.post(stranger.sign(register_command(stranger, new_key(), role="admin")))
    assert_problem(resp, 401, "unknown_key")


def test_the_endpoint_takes_only_an_envelope(world, http):
    envelope = world.officer.sign(self_score(world))
    resp = http.post({**envelope, "note": "extra"})
    body = assert_problem(resp, 422, "validation_failed")
    assert {"code": "unknown_field", "field": "note"}.items() <= body["errors"][0].items()

    resp = http.post({"command": envelope["command"]})
    body = assert_problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == "signature"
    assert body["errors"][0]["code"] == "required"


def test_a_body_that_is_not_json_is_a_problem(http):
    resp = http.client.post(
        "/api/v1/commands", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(resp, 400, "invalid_json")
    resp = http.client.post("/api/v1/commands", data=b"x", headers={"Content-Type": "text/plain"})
    assert resp.status_code in (415, 422) and resp.mimetype == "application/problem+json"


def test_domain_validation_lists_each_fault_in_vietnamese_then_english(world, http):
    cmd = self_score(world)
    cmd["points"] = "3"
    body = assert_problem(http.post(world.officer.sign(cmd)), 422, "validation_failed")
    assert body["title"] == "Dữ liệu không hợp lệ"
    assert body["errors"][0]["code"] == "points_above_max"
    assert "vượt" in body["errors"][0]["message"]

    cmd["id"] += "-en"
    resp = http.post(world.officer.sign(cmd), lang="en")
    body = assert_problem(resp, 422, "validation_failed")
    assert resp.headers["Content-Language"] == "en"
    assert body["title"] == "Invalid input"
    assert "maximum" in body["errors"][0]["message"]


def test_an_out_of_scope_command_is_403_in_the_requested_language(world, http):
    cmd = command(
        world.officer, "record_self_score", cycle=CYCLE, unit=UNITS[1], leaf="1.1.1", points="1"
    )
    body = assert_problem(http.post(world.officer.sign(cmd)), 403, "not_permitted")
    assert body["title"].startswith("Vai trò")
    body = assert_problem(
        http.post(world.officer.sign(cmd), lang="en-GB,en;q=0.8"), 403, "not_permitted"
    )
    assert body["title"].startswith("The key's role")


def test_a_command_signed_long_ago_is_refused(world, http):
    from datetime import timedelta

    from tests.support import timestamp

    cmd = self_score(world, issued_at=None)
    cmd["issued_at"] = timestamp(-timedelta(hours=2))
    body = assert_problem(http.post(world.officer.sign(cmd)), 400, "timestamp_out_of_window")
    assert body["errors"][0]["field"] == "issued_at"


def test_a_signature_that_is_not_base64_is_a_field_error(world, http):
    envelope = world.officer.sign(self_score(world))
    envelope["signature"] = base64.b64encode(b"short").decode()
    body = assert_problem(http.post(envelope), 400, "malformed_command")
    assert body["errors"][0]["field"] == "signature"


def test_a_command_behind_a_stuck_writer_is_a_503_store_busy_and_writes_nothing(world, monkeypatch):
    from application.deployment import open_app
    from domain.assessment import Assessment
    from tests.e2e.http_support import flask_client

    monkeypatch.setenv("PARINDEX_WRITE_LOCK_TIMEOUT_SECONDS", "1")
    stuck = open_app(world.env.data_dir)  # another server, stuck mid-command on this unit
    before = Written.read(world.app)
    try:
        with (
            flask_client(world) as http,
            stuck.recorder.exclusive(Assessment.create_id(CYCLE, UNITS[0])),
        ):
            resp = http.post(world.officer.sign(self_score(world)), lang="en")
    finally:
        stuck.close()

    body = assert_problem(resp, 503, "store_busy")
    assert resp.headers["Retry-After"] == "1"
    assert "nothing was written" in body["detail"] and "1 s" in body["detail"]
    assert Written.read(world.app) == before
