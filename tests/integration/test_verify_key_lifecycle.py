"""Verify follows keys through rotation and revocation by log position."""

from __future__ import annotations

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from tests.support import command, make_env, new_key, register_command


def kinds(report):
    return [(f.kind, f.position) for f in report.findings]


def test_an_admin_who_rotates_its_own_key_leaves_an_honest_log_that_verifies(tmp_path):
    env = make_env(tmp_path, None)
    successor = new_key()
    env.send(
        command(
            env.admin,
            "rotate_key",
            old_key_id=env.admin.key_id,
            key_id=successor.key_id,
            public_key=successor.public_key,
        )
    )
    # The new key acts from the next command on; the old one is refused.
    receipt = env.send(register_command(successor, new_key()), successor)
    assert receipt["log_index"] > 0
    report = verify(StoreSource(env.app.tlog), log_key=env.log_key)
    assert kinds(report) == []
