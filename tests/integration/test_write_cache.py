"""A command that fails after its handler changed an aggregate leaves no trace:
the next command sees the stored state, not the unsaved change."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError

from domain.errors import DomainError
from tests.support import command, make_env, new_key, register_command


def test_a_failed_save_does_not_leave_the_unsaved_change_in_the_cache(tmp_path, monkeypatch):
    env = make_env(tmp_path, None)
    officer = new_key()
    env.send(register_command(env.admin, officer, "observer", "*"))
    real_save = env.app.save

    def always_conflict(*aggregates, **kwargs):
        raise IntegrityError("simulated conflict")

    monkeypatch.setattr(env.app, "save", always_conflict)
    with pytest.raises(DomainError) as info:
        env.send(command(env.admin, "revoke_key", key_id=officer.key_id, reason="thử"))
    assert info.value.code == "version_conflict"
    monkeypatch.setattr(env.app, "save", real_save)
    # The revocation was never stored, so the key still acts ...
    assert env.app.find_key(officer.key_id).active
    # ... and revoking it for real works once, from the stored version.
    receipt = env.send(command(env.admin, "revoke_key", key_id=officer.key_id, reason="thật"))
    assert receipt["events"][0]["version"] == 2
    assert not env.app.find_key(officer.key_id).active
