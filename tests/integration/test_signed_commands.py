"""The signed command write path: receipts, every refusal, idempotency.

Every refusal is checked for what a user would notice afterwards: the log did
not grow, no event was stored, the tree head and the checkpoints are the same,
and the command id was not used up.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from datetime import timedelta

import pytest

from application.commands import sign_command
from application.deployment import open_app
from application.errors import CommandRejected
from domain.errors import DomainError
from tests.support import (
    Env,
    Written,
    command,
    flip_signature_byte,
    new_key,
    register_command,
    register_fields,
    timestamp,
)


@contextmanager
def refused(env: Env, code: str):
    """Expects CommandRejected(code) and that nothing at all was written."""
    before = Written.read(env.app)
    with pytest.raises(CommandRejected) as info:
        yield info
    assert info.value.code == code, info.value
    assert Written.read(env.app) == before


def refuse(env: Env, envelope: object, code: str) -> CommandRejected:
    with refused(env, code) as info:
        env.app.handle(envelope)
    if isinstance(envelope, dict) and isinstance(envelope.get("command"), dict):
        cid = envelope["command"].get("id")
        if isinstance(cid, str):
            assert env.app.tlog.command(cid) is None or code == "idempotency_conflict"
    return info.value


# -- the happy path ------------------------------------------------------------
def test_register_key_returns_a_receipt_that_points_at_its_leaf(env: Env):
    before = Written.read(env.app)
    key = new_key()
    cmd = register_command(env.admin, key, role="admin")
    receipt = env.send(cmd)

    assert receipt["command_id"] == cmd["id"]
    assert receipt["replayed"] is False
    assert receipt["log_index"] == before.size
    assert receipt["tree_size"] == before.size + 1
    [event] = receipt["events"]
    leaf = env.app.tlog.leaf(receipt["log_index"])
    assert event["leaf_index"] == receipt["log_index"]
    assert event["leaf_hash"] == leaf.leaf_hash.hex()
    assert event["originator_id"] == str(leaf.originator_id)
    after = Written.read(env.app)
    assert (after.size, after.events) == (before.size + 1, before.events + 1)
    assert after.checkpoints == before.checkpoints  # writing does not sign checkpoints


def test_a_registered_key_can_sign_a_later_command(env: Env):
    admin2, _ = env.register(role="admin")
    observer, receipt = env.register(role="observer", signer=admin2)
    assert receipt["log_index"] == env.app.tlog.size() - 1
    assert env.app.find_key(observer.key_id).role == "observer"
    assert env.app.find_key(observer.key_id).active


def test_revoke_and_rotate_each_append_their_events(env: Env):
    victim, _ = env.register(role="admin")
    size = env.app.tlog.size()
    r = env.send(command(env.admin, "revoke_key", key_id=victim.key_id, reason="lost laptop"))
    assert r["log_index"] == size and r["tree_size"] == size + 1
    old, _ = env.register(role="admin")
    new = new_key()
    r = env.send(
        command(
            env.admin,
            "rotate_key",
            old_key_id=old.key_id,
            key_id=new.key_id,
            public_key=new.public_key,
        )
    )
    # Rotation writes two events in one command: the old key stops, the new one starts.
    assert [e["leaf_index"] for e in r["events"]] == [size + 2, size + 3]
    assert r["tree_size"] == size + 4
    assert env.app.find_key(new.key_id).role == "admin"
    env.register(signer=new)  # the successor works at once


# -- malformed_command ---------------------------------------------------------
def _valid(env: Env) -> dict:
    return env.admin.sign(register_command(env.admin, new_key()))


def _fake_signature() -> str:
    return base64.b64encode(bytes(range(64))).decode()


MALFORMED: dict[str, Callable[[Env], object]] = {
    "envelope is a list": lambda env: [_valid(env)],
    "envelope is a string": lambda env: "register_key please",
    "envelope is null": lambda env: None,
    "envelope has an extra field": lambda env: {**_valid(env), "note": "x"},
    "envelope lacks the signature": lambda env: {"command": _valid(env)["command"]},
    "command is not an object": lambda env: {"command": "{}", "signature": _fake_signature()},
    "command lacks type": lambda env: {
        "command": {k: v for k, v in _valid(env)["command"].items() if k != "type"},
        "signature": _fake_signature(),
    },
    "command lacks actor": lambda env: {
        "command": {k: v for k, v in _valid(env)["command"].items() if k != "actor"},
        "signature": _fake_signature(),
    },
    "command lacks id": lambda env: {
        "command": {k: v for k, v in _valid(env)["command"].items() if k != "id"},
        "signature": _fake_signature(),
    },
    "id has a space": lambda env: {
        "command": {**_valid(env)["command"], "id": "two words"},
        "signature": _fake_signature(),
    },
    "a float in the command": lambda env: {
        "command": {**_valid(env)["command"], "weight": 1.5},
        "signature": _fake_signature(),
    },
    "a float nested in a list": lambda env: {
        "command": {**_valid(env)["command"], "weights": [1, 2.0]},
        "signature": _fake_signature(),
    },
    "an integer beyond 2**53": lambda env: {
        "command": {**_valid(env)["command"], "count": 2**53 + 1},
        "signature": _fake_signature(),
    },
    "type is a number": lambda env: {
        "command": {**_valid(env)["command"], "type": 7},
        "signature": _fake_signature(),
    },
    "signature is not base64": lambda env: {**_valid(env), "signature": "not*base64!"},
    "signature is 63 bytes": lambda env: {
        **_valid(env),
        "signature": base64.b64encode(b"x" * 63).decode(),
    },
    "signature is a number": lambda env: {**_valid(env), "signature": 42},
    "issued_at without Z": lambda env: env.admin.sign(
        register_command(env.admin, new_key(), issued_at="2026-01-01T10:00:00+07:00")
    ),
    "issued_at with a space": lambda env: env.admin.sign(
        register_command(env.admin, new_key(), issued_at="2026-01-01 10:00:00Z")
    ),
    "issued_at month 13": lambda env: env.admin.sign(
        register_command(env.admin, new_key(), issued_at="2026-13-01T10:00:00Z")
    ),
    "issued_at is a number": lambda env: env.admin.sign(
        register_command(env.admin, new_key(), issued_at=1767225600)
    ),
    "issued_at is missing": lambda env: env.admin.sign(
        {k: v for k, v in register_command(env.admin, new_key()).items() if k != "issued_at"}
    ),
}


@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_command_is_refused_and_writes_nothing(env: Env, shape: str):
    refuse(env, MALFORMED[shape](env), "malformed_command")


def test_a_non_integer_expected_version_is_malformed_and_writes_nothing(env: Env):
    victim, _ = env.register()
    cmd = command(env.admin, "revoke_key", key_id=victim.key_id, reason="r", expected_version="1")
    refuse(env, env.admin.sign(cmd), "malformed_command")


# -- bad_signature -------------------------------------------------------------
def test_a_flipped_signature_byte_is_a_bad_signature_and_writes_nothing(env: Env):
    envelope = env.admin.sign(register_command(env.admin, new_key(), role="admin"))
    refuse(env, flip_signature_byte(envelope), "bad_signature")
    assert env.app.handle(envelope)["replayed"] is False  # the honest one still goes in


def test_a_command_changed_after_signing_is_a_bad_signature_and_writes_nothing(env: Env):
    envelope = env.admin.sign(register_command(env.admin, new_key(), role="observer"))
    tampered = {
        "command": {**envelope["command"], "role": "admin"},
        "signature": envelope["signature"],
    }
    refuse(env, tampered, "bad_signature")


def test_a_signature_by_another_key_is_a_bad_signature(env: Env):
    cmd = register_command(env.admin, new_key())
    refuse(env, sign_command(cmd, new_key().private), "bad_signature")


# -- unknown_key, key_revoked, not_permitted ------------------------------------
def test_a_command_from_an_unregistered_key_is_refused_and_writes_nothing(env: Env):
    stranger = new_key()
    refuse(env, stranger.sign(register_command(stranger, new_key(), role="admin")), "unknown_key")


def test_a_revoked_key_is_refused_and_writes_nothing(env: Env):
    admin2, _ = env.register(role="admin")
    env.register(signer=admin2)
    env.send(command(env.admin, "revoke_key", key_id=admin2.key_id, reason="left office"))
    refuse(env, admin2.sign(register_command(admin2, new_key())), "key_revoked")


def test_a_key_rotated_away_is_refused_and_its_successor_is_accepted(env: Env):
    old, _ = env.register(role="admin")
    new = new_key()
    env.send(
        command(
            env.admin,
            "rotate_key",
            old_key_id=old.key_id,
            key_id=new.key_id,
            public_key=new.public_key,
        )
    )
    refuse(env, old.sign(register_command(old, new_key())), "key_revoked")
    env.register(signer=new)


def test_a_revoked_key_is_refused_even_by_a_second_app_server(env: Env):
    # A second server on the same store had the key cached as active.
    admin2, _ = env.register(role="admin")
    other = open_app(env.data_dir)
    try:
        assert other.find_key(admin2.key_id).active
        env.send(command(env.admin, "revoke_key", key_id=admin2.key_id, reason="r"))
        before = Written.read(other)
        with pytest.raises(CommandRejected) as info:
            other.handle(admin2.sign(register_command(admin2, new_key())))
        assert info.value.code == "key_revoked"
        assert Written.read(other) == before
    finally:
        other.close()


@pytest.mark.parametrize("role", ["observer", "auditor", "commune_officer", "appraiser"])
def test_a_role_without_the_right_is_not_permitted_and_writes_nothing(env: Env, role: str):
    key, _ = env.register(
        role=role, scope="*" if role in ("observer", "auditor") else "commune:xa-an-binh"
    )
    refuse(env, key.sign(register_command(key, new_key(), role="admin")), "not_permitted")
    victim, _ = env.register()
    refuse(
        env, key.sign(command(key, "revoke_key", key_id=victim.key_id, reason="x")), "not_permitted"
    )


def test_an_unknown_command_type_is_refused_and_writes_nothing(env: Env):
    refuse(env, env.admin.sign(command(env.admin, "delete_everything")), "unknown_command")


# -- timestamp_out_of_window -----------------------------------------------------
@pytest.mark.parametrize("minutes", [-11, 11], ids=["11-min-in-the-past", "11-min-in-the-future"])
def test_a_command_issued_outside_the_default_skew_is_refused(env: Env, minutes: int):
    cmd = register_command(env.admin, new_key(), issued_at=timestamp(timedelta(minutes=minutes)))
    refuse(env, env.admin.sign(cmd), "timestamp_out_of_window")


@pytest.mark.parametrize("minutes", [-9, 9])
def test_a_command_issued_inside_the_default_skew_is_accepted(env: Env, minutes: int):
    cmd = register_command(env.admin, new_key(), issued_at=timestamp(timedelta(minutes=minutes)))
    assert env.send(cmd)["replayed"] is False


def test_the_clock_skew_is_configurable(env: Env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PARINDEX_CLOCK_SKEW_SECONDS", "60")
    env.reopen()
    two_minutes_old = register_command(
        env.admin, new_key(), issued_at=timestamp(timedelta(minutes=-2))
    )
    refuse(env, env.admin.sign(two_minutes_old), "timestamp_out_of_window")

    monkeypatch.setenv("PARINDEX_CLOCK_SKEW_SECONDS", "900")
    env.reopen()
    eleven_minutes_old = register_command(
        env.admin, new_key(), issued_at=timestamp(timedelta(minutes=-11))
    )
    assert env.send(eleven_minutes_old)["replayed"] is False


# -- version_conflict --------------------------------------------------------------
def test_an_expected_version_that_does_not_match_is_a_conflict_and_writes_nothing(env: Env):
    victim, _ = env.register()
    stale = command(env.admin, "revoke_key", key_id=victim.key_id, reason="r", expected_version=7)
    refuse(env, env.admin.sign(stale), "version_conflict")
    assert env.app.find_key(victim.key_id).active
    fresh = command(env.admin, "revoke_key", key_id=victim.key_id, reason="r", expected_version=1)
    assert env.send(fresh)["replayed"] is False
    assert not env.app.find_key(victim.key_id).active


def test_an_expected_version_on_a_new_key_must_be_zero(env: Env):
    cmd = register_command(env.admin, new_key(), expected_version=1)
    refuse(env, env.admin.sign(cmd), "version_conflict")
    assert env.send(register_command(env.admin, new_key(), expected_version=0))


# -- idempotency -------------------------------------------------------------------
def test_the_same_envelope_twice_returns_the_first_receipt_and_appends_nothing(env: Env):
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    first = env.app.handle(envelope)
    before = Written.read(env.app)
    again = env.app.handle(envelope)
    assert again == {**first, "replayed": True}
    assert Written.read(env.app) == before


def test_a_replay_is_recognised_by_a_second_app_server(env: Env):
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    first = env.app.handle(envelope)
    before = Written.read(env.app)
    other = open_app(env.data_dir)
    try:
        assert other.handle(envelope) == {**first, "replayed": True}
    finally:
        other.close()
    assert Written.read(env.app) == before


def test_the_same_id_with_other_content_is_an_idempotency_conflict(env: Env):
    key = new_key()
    cmd = register_command(env.admin, key, name="Trần Thị Bình")
    first = env.send(cmd)
    other = {**cmd, **register_fields(key, name="Lê Văn Cường")}
    refuse(env, env.admin.sign(other), "idempotency_conflict")
    other_key = {**cmd, **register_fields(new_key())}
    refuse(env, env.admin.sign(other_key), "idempotency_conflict")
    assert env.app.handle(env.admin.sign(cmd)) == {**first, "replayed": True}


def test_the_same_id_from_another_actor_is_an_idempotency_conflict(env: Env):
    admin2, _ = env.register(role="admin")
    cmd = register_command(env.admin, new_key())
    env.send(cmd)
    stolen_id = register_command(admin2, new_key(), id=cmd["id"])
    refuse(env, admin2.sign(stolen_id), "idempotency_conflict")


def _skips_the_queue(app, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers of one aggregate queue (the store's write lock, or a per-aggregate
    lock on PostgreSQL), so these races only happen to a server whose turn timed
    out. Server A plays that server: it writes without waiting for its turn."""
    monkeypatch.setattr(app.recorder, "exclusive", lambda *_: nullcontext())


def test_a_command_that_loses_the_race_at_the_store_gets_the_winners_receipt(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    # Server B has decided the command; server A stores the same command just
    # before B writes. B's write collides in the store and B answers with A's
    # receipt instead of an error or a second copy.
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    _skips_the_queue(env.app, monkeypatch)
    b = open_app(env.data_dir)
    try:
        real_save = b.save
        won = []

        def save_after_a(*aggregates, **kwargs):
            if not won:
                won.append(env.app.handle(envelope))
            return real_save(*aggregates, **kwargs)

        monkeypatch.setattr(b, "save", save_after_a)
        size = env.app.tlog.size()
        assert b.handle(envelope) == {**won[0], "replayed": True}
        assert Written.read(env.app).size == size + 1
    finally:
        b.close()


def test_a_command_that_loses_the_race_before_deciding_gets_the_winners_receipt(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    # Server B has looked up the signer; server A stores the same command before
    # B's handler decides. That is still the same command: B must answer with
    # A's receipt, not key_exists or a second copy.
    envelope = env.admin.sign(register_command(env.admin, new_key()))
    _skips_the_queue(env.app, monkeypatch)
    b = open_app(env.data_dir)
    try:
        real = b.find_key
        won = []

        def a_wins_meanwhile(key_id, **kw):
            found = real(key_id, **kw)
            if not won:
                won.append(env.app.handle(envelope))
            return found

        monkeypatch.setattr(b, "find_key", a_wins_meanwhile)
        size = env.app.tlog.size()
        assert b.handle(envelope) == {**won[0], "replayed": True}
        assert Written.read(env.app).size == size + 1
    finally:
        b.close()


def test_registering_a_key_twice_under_two_ids_is_refused_and_writes_nothing(env: Env):
    key = new_key()
    env.send(register_command(env.admin, key))
    before = Written.read(env.app)
    with pytest.raises(DomainError) as info:
        env.send(register_command(env.admin, key))
    assert info.value.code == "key_exists"
    assert Written.read(env.app) == before
