"""`parindex verify` as an auditor runs it on a store a log operator forged."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_cli_core import run
from tests.forgeries import (
    build_season,
    replay_an_old_self_score,
    score_outside_the_signers_scope,
)
from tests.support import Env


def verify_json(env: Env, cwd) -> tuple[int, dict]:
    p = run(
        "verify",
        "--data-dir",
        str(env.data_dir),
        "--log-key",
        env.log_key,
        "--json",
        cwd=cwd,
        expect=None,
    )
    return p.returncode, json.loads(p.stdout)


def test_the_command_line_verifies_the_unforged_season_clean(env: Env, tmp_path):
    build_season(env, tmp_path)
    code, report = verify_json(env, tmp_path)
    assert (code, report["ok"], report["findings"]) == (0, True, [])


@pytest.mark.parametrize(
    "forge,kind",
    [
        (replay_an_old_self_score, ("command_replayed", "event_not_derived")),
        (score_outside_the_signers_scope, ("not_permitted",)),
    ],
    ids=["replayed-self-score", "outside-scope"],
)
def test_the_command_line_names_a_forged_event_and_exits_1(env: Env, tmp_path, forge, kind):
    forged = forge(build_season(env, tmp_path))
    code, report = verify_json(env, tmp_path)
    assert code == 1 and report["ok"] is False
    # A copied command id cannot be indexed twice: the store may also name that leaf.
    named = [(f["kind"], f["position"].get("leaf_index")) for f in report["findings"]]
    assert [n for n in named if n != ("command_index_missing", forged)] == [
        (k, forged) for k in kind
    ]
