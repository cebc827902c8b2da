"""verify --data-dir compares the served read model with one rebuilt from the log."""

from __future__ import annotations

import sqlite3

from interfaces.cli.main import main
from projections.follower import Follower
from projections.store import ReadModel
from tests.support import make_env


def _served(tmp_path):
    env = make_env(tmp_path, None)
    env.register("observer", "*")
    path = env.data_dir / "readmodel.sqlite"
    model = ReadModel(str(path))
    Follower(env.app, model).catch_up()
    model.close()
    return env, path


def test_a_read_model_equal_to_the_log_verifies_clean(tmp_path, capsys):
    env, _path = _served(tmp_path)
    assert main(["verify", "--data-dir", str(env.data_dir)]) == 0


def test_an_edited_read_model_row_is_read_model_differs(tmp_path, capsys):
    env, path = _served(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE keys SET role = 'admin' WHERE role = 'observer'")
    assert main(["verify", "--data-dir", str(env.data_dir)]) == 1
    assert "[read_model_differs] table=keys" in capsys.readouterr().out
