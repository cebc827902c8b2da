"""The workers of one server share a read model: one follows, the others stand by
and take over when it stops."""

from __future__ import annotations

import time

from projections.follower import Follower
from projections.store import ReadModel
from tests.support import make_env, new_key, register_command


def wait_until(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_one_follower_leads_and_another_takes_over_when_it_stops(tmp_path):
    env = make_env(tmp_path, None)
    path = str(tmp_path / "readmodel.sqlite")
    lock = path + ".follow.lock"
    first, second = (Follower(env.app, ReadModel(path)) for _ in range(2))
    first.start(interval=0.05, leader_lock=lock)
    second.start(interval=0.05, leader_lock=lock)
    try:
        receipt = env.send(register_command(env.admin, new_key()))
        assert wait_until(lambda: first.position() >= receipt["position"])
        leaders = [f for f in (first, second) if f._lock_fd is not None]
        assert len(leaders) == 1  # whichever took the lock first, and only it
        leader, standby = leaders[0], (second if leaders[0] is first else first)
        leader.stop()
        # The stand-by takes the lock within its retry interval and follows.
        assert wait_until(lambda: standby._lock_fd is not None)
        receipt = env.send(register_command(env.admin, new_key()))
        assert wait_until(lambda: standby.position() >= receipt["position"])
    finally:
        first.stop()
        second.stop()
        env.app.close()
