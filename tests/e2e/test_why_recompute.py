"""`parindex why` against a real server whose read model was edited: the value
shown is recomputed from the signed commands the why chain proved, and a
difference is said plainly (Vietnamese, or English) with exit code 1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest

from interfaces.http.app import READ_MODEL_FILE
from tests.e2e.http_support import CYCLE, UNITS, Served, make_world, run_cli
from tests.support import command

LEAF = "1.1.1"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("why")
    world = make_world(root)
    officer, appraiser = world.officer, world.appraiser
    world.env.send(
        command(officer, "record_self_score", cycle=CYCLE, unit=UNITS[0], leaf=LEAF, points="1"),
        officer,
    )
    other = world.key("commune_officer", f"commune:{UNITS[1]}")
    world.env.send(
        command(other, "record_self_score", cycle=CYCLE, unit=UNITS[1], leaf=LEAF, points="1"),
        other,
    )
    world.env.submit_unit(UNITS[1], other, cycle=CYCLE)  # appraised after submission
    world.env.send(
        command(
            appraiser,
            "adjust_score",
            cycle=CYCLE,
            unit=UNITS[1],
            leaf=LEAF,
            points="0.5",
            reason="Ban hành muộn",
        ),
        appraiser,
    )
    server = Served(world.env.data_dir, workers=1)
    keys = root / "keys"
    keys.mkdir()
    try:
        yield {
            "world": world,
            "url": server.url,
            "observer": str(world.key_file(world.key("observer", "*"), keys / "observer.key")),
        }
    finally:
        server.stop()
        world.env.app.close()


def why(site: dict, capsys, unit: str, *extra: str) -> tuple[int, str]:
    code = run_cli(
        [
            "why",
            "--cycle",
            CYCLE,
            "--unit",
            unit,
            "--leaf",
            LEAF,
            "--url",
            site["url"],
            "--key",
            site["observer"],
            "--log-key",
            site["world"].env.log_key,
            *extra,
        ]
    )
    return code, capsys.readouterr().out


def tamper(site: dict, sql: str, *params) -> None:
    """The operator edits the read model behind the running server."""
    conn = sqlite3.connect(site["world"].env.data_dir / READ_MODEL_FILE)
    with conn:
        conn.execute(sql, params)
    conn.close()


def test_a_faithful_read_model_shows_the_values_the_proven_commands_give(site, capsys):
    code, out = why(site, capsys, UNITS[1])
    assert code == 0, out
    assert "khớp với các lệnh đã chứng minh" in out and "KHÔNG KHỚP" not in out


def test_a_tampered_score_beside_verified_proofs_is_called_a_mismatch(site, capsys, monkeypatch):
    tamper(
        site,
        "UPDATE node_scores SET self_score = '0.99', appraised_score = '0.99' "
        "WHERE cycle = ? AND unit = ? AND code = ?",
        CYCLE,
        UNITS[0],
        LEAF,
    )
    code, out = why(site, capsys, UNITS[0])
    assert code == 1, out
    assert "đã xác minh bằng chứng" in out  # the proofs themselves hold
    assert "KHÔNG KHỚP: Điểm tự chấm máy chủ hiển thị là 0.99" in out
    assert "cho 1." in out

    code, out = why(site, capsys, UNITS[0], "--json")
    doc = json.loads(out)
    assert code == 1
    assert {(m["field"], m["shown"], m["recomputed"]) for m in doc["recomputed"]["mismatches"]} == {
        ("self.points", "0.99", "1"),
        ("appraised.points", "0.99", "1"),
    }

    monkeypatch.setenv("PARINDEX_LANG", "en")
    code, out = why(site, capsys, UNITS[0])
    assert code == 1
    assert "MISMATCH: Self-score points shown by the server is 0.99" in out and "gives 1." in out


def test_a_tampered_appraisal_input_is_a_mismatch_too(site, capsys):
    tamper(
        site,
        "UPDATE leaf_state SET appraised_input = ? WHERE cycle = ? AND unit = ? AND leaf = ?",
        json.dumps({"points": "1"}),
        CYCLE,
        UNITS[1],
        LEAF,
    )
    code, out = why(site, capsys, UNITS[1], "--json")
    assert code == 1
    fields = {m["field"]: m for m in json.loads(out)["recomputed"]["mismatches"]}
    assert fields["appraised.input"]["recomputed"] == {"points": "0.5"}
