"""The client with a quorum of witnesses (`--witness VKEY --min-witnesses K`) against a
real `parindex serve`: `why` and `watch` accept a checkpoint only with K cosignatures of
the given witnesses; `watch` keeps the witnesses in its state file and alerts (exit 3)
when no checkpoint the server shows carries them; a fork the witness refused is not
accepted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.config import Settings
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.witness_client import ask_for_latest
from application.transparency.witness_home import init_witness, open_witness
from interfaces.client import Client
from interfaces.witness.app import create_witness_app
from tests.e2e.http_support import CYCLE, UNITS, Served, World, make_world, run_cli
from tests.e2e.test_cli_watch import adjust, backup, restore
from tests.support import command, sql

UNIT = UNITS[0]


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    w = make_world(tmp_path / "site")
    if w.env.database_url is not None:
        pytest.skip("the older copy is the SQLite file here; PostgreSQL: test_verify_witnesses")
    scored = {"cycle": CYCLE, "unit": UNIT, "leaf": "1.1.1", "points": "1"}
    w.env.send(command(w.officer, "record_self_score", **scored), w.officer)
    w.env.submit_unit(UNIT, w.officer, w.key("commune_chair", f"commune:{UNIT}"), cycle=CYCLE)
    try:
        yield w
    finally:
        w.env.app.close()


def witness_of(world: World, tmp_path: Path):
    home = tmp_path / "witness"
    init_witness(home, "mttq.example.vn/witness", [world.env.log_key])
    witness = open_witness(home)
    client = create_witness_app(witness).test_client()

    def post(_url: str, body: bytes) -> tuple[int, bytes]:
        r = client.post("/add-checkpoint", data=body)
        return r.status_code, r.get_data()

    settings = Settings.load(world.env.data_dir)
    vkey = witness.cosigner.verifier().vkey
    settings.witnesses = [{"url": "http://witness.test", "vkey": vkey}]
    settings.save()
    world.env.reopen()
    return vkey, post


def cli(capsys, world: World, url: str, *args: str) -> tuple[int, str, str]:
    root = world.env.data_dir.parent
    key = world.key_file(world.officer, root / "officer.key")
    code = run_cli([*args, "--url", url, "--key", str(key)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_why_needs_the_witnesses_cosignature_on_its_checkpoint(world, tmp_path, capsys):
    vkey, post = witness_of(world, tmp_path)
    server = Served(world.env.data_dir, workers=1)
    try:
        why = ["why", "--cycle", CYCLE, "--unit", UNIT, "--leaf", "1.1.1", "--json"]
        code, _out, err = cli(capsys, world, server.url, *why, "--witness", vkey)
        assert code == 1 and "witness_missing" in err
        assert cli(capsys, world, server.url, *why)[0] == 0  # without a quorum, as before
        _, answers = ask_for_latest(world.env.app, post)
        assert answers[0].status == "cosigned"
        code, out, err = cli(capsys, world, server.url, *why, "--witness", vkey)
        assert code == 0, err
        assert json.loads(out)["verified"] is True
        assert cli(capsys, world, server.url, *why, "--witness", world.env.log_key)[0] == 1
    finally:
        server.stop()


def test_watch_keeps_its_witnesses_and_alerts_when_no_checkpoint_carries_them(
    world, tmp_path, capsys
):
    vkey, post = witness_of(world, tmp_path)
    state = world.env.data_dir.parent / "watch.json"
    watch = ["watch", "--cycle", CYCLE, "--unit", UNIT, "--once", "--state", str(state)]
    ask_for_latest(world.env.app, post)
    server = Served(world.env.data_dir, workers=1)
    try:
        code, _out, err = cli(capsys, world, server.url, *watch, "--witness", vkey)
        assert code == 0, err
        assert json.loads(state.read_text())["witnesses"] == [vkey]
        # A change, signed into a newer checkpoint the witness has not seen: the monitor
        # stays on the last witnessed checkpoint and does not show it yet.
        adjust(world, "1.1.1", "0", "Thiếu kế hoạch")
        world.env.checkpoint()
        code, out, err = cli(capsys, world, server.url, *watch)  # the witness is remembered
        assert code == 0 and "[vị trí nhật ký" not in out, err
        ask_for_latest(world.env.app, post)
        code, out, err = cli(capsys, world, server.url, *watch)
        assert code == 0 and "thẩm định điều chỉnh 1.1.1" in out, err
        # The server drops every cosignature: nothing it shows carries the quorum.
        sql(world.env.app, f"DELETE FROM {CosignatureStore(world.env.app.tlog).table}")
        code, _out, err = cli(capsys, world, server.url, *watch)
        assert code == 3 and "witness_missing" in err
    finally:
        server.stop()


def test_a_fork_the_witness_refused_is_not_accepted_by_a_client_with_a_quorum(
    world, tmp_path, capsys
):
    vkey, post = witness_of(world, tmp_path)
    _, answers = ask_for_latest(world.env.app, post)
    common = answers[0].size
    world.env.app.close()
    copy = backup(world)
    world.env.reopen()
    adjust(world, "1.1.1", "0.5", "Nhánh A")
    _, answers = ask_for_latest(world.env.app, post)
    assert answers[0].status == "cosigned"
    # The operator shows another history to someone else: the older copy, grown apart.
    restore(world, copy)
    fork_index = adjust(world, "1.1.1", "0", "Nhánh B")["log_index"]
    _, answers = ask_for_latest(world.env.app, post)
    assert answers[0].status == "failed" and "422" in answers[0].detail
    server = Served(world.env.data_dir, workers=1)
    try:
        plain = Client(server.url)
        assert plain.checkpoint()["size"] > fork_index  # shown to anyone without a quorum
        witnessed = Client(server.url, witnesses=[vkey], min_witnesses=1)
        assert witnessed.checkpoint()["size"] == common  # only the shared, witnessed prefix
        why = ["why", "--cycle", CYCLE, "--unit", UNIT, "--leaf", "1.1.1"]
        code, _out, err = cli(capsys, world, server.url, *why, "--witness", vkey)
        assert code == 1 and "witness_missing" in err
    finally:
        server.stop()
