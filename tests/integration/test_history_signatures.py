"""A leaf's history says, per change, whether the actor's registered key signed
exactly that command: checked when read, from the stored bytes."""

from __future__ import annotations

import sqlite3

from projections.follower import Follower
from projections.queries import Queries
from projections.store import ReadModel
from tests.support import command, make_env


def _history(tmp_path):
    env = make_env(tmp_path, None)
    env.open_cycle()
    officer, _ = env.register("commune_officer", "commune:xa-a")
    env.send(
        command(officer, "record_self_score", cycle="c", unit="xa-a", leaf="1.1.1", points="1"),
        officer,
    )
    path = tmp_path / "rm.sqlite"
    model = ReadModel(str(path))
    Follower(env.app, model).catch_up()
    env.app.close()
    return model, path


def statuses(model):
    return [
        e["signature_status"] for e in Queries(model).leaf_history("c", "xa-a", "1.1.1")["entries"]
    ]


def test_an_honest_change_reads_as_validly_signed(tmp_path):
    model, _path = _history(tmp_path)
    assert statuses(model) == ["valid"]


def test_a_changed_signature_or_signer_shows_in_the_history(tmp_path):
    model, path = _history(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE history SET command = replace(command, '\"1\"', '\"0\"')")
    assert statuses(model) == ["invalid"]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE history SET actor_key_id = 'pk_nobody'")
    assert statuses(model) == ["unknown_key"]
