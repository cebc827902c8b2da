"""A forked log shown to two clients: two servers on two copies of one data directory
grow apart after a common prefix, each asking the same real witness. The witness cosigns
the first fork and refuses the second; a client requiring the witness is not shown the
second fork's checkpoint; `verify --witness` of the second copy reports it.
(PostgreSQL: the same fork, cut and regrown in one schema, in
tests/integration/test_verify_witnesses.py.)"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import urllib.request
from collections.abc import Iterator

import pytest

from application.transparency.witness_client import ask_for_latest
from interfaces.cli.main import main as cli
from interfaces.client import Client
from tests.e2e.http_support import AUTHORITY, Served, World, make_world
from tests.e2e.test_witness_asking import get, use_witness, wait_for

CYCLE = "kt-2025"


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    w = make_world(tmp_path / "site")
    if w.env.database_url is not None:
        pytest.skip("two copies of a data directory are two SQLite files here")
    try:
        yield w
    finally:
        w.env.app.close()


def propose(server: Served, key_file) -> None:
    client = Client(server.url, key_file)
    draft = client.ranking_draft(CYCLE)
    client.send({"type": "propose_ranking", "cycle": CYCLE, "manifest": draft["manifest"]})


def last_answer(server: Served) -> dict | None:
    answers = (get(server.url + "/healthz")["witnesses"] or {}).get("answers") or []
    return answers[0] if answers else None


def test_a_fork_shown_to_two_clients_is_caught_by_the_witness_and_by_verify(
    world, tmp_path, capsys
):
    vkey, witness = use_witness(world, tmp_path)
    servers: list[Served] = []
    try:
        world.cycle_up_to(CYCLE, "closed")
        council = world.key_file(
            world.key("council_chair", f"authority:{AUTHORITY}"), tmp_path / "council.key"
        )
        _, answers = ask_for_latest(world.env.app)
        assert answers[0].status == "cosigned"
        common = answers[0].size
        world.env.app.close()
        copy = tmp_path / "copy" / "data"
        shutil.copytree(world.env.data_dir, copy)
        world.env.reopen()
        a = Served(world.env.data_dir, workers=1, extra=("--witness-interval", "0"))
        servers.append(a)
        b = Served(copy, workers=1, extra=("--witness-interval", "0"))
        servers.append(b)

        propose(a, council)  # history A, seen and cosigned by the witness
        assert wait_for(lambda: (last_answer(a) or {}).get("status") == "cosigned")
        time.sleep(1.1)  # another second: B's proposal is signed apart from A's
        propose(b, council)  # history B, from the same prefix
        refused = wait_for(lambda: last_answer(b))
        assert refused["status"] in ("failed", "witness_ahead"), refused
        assert refused["status"] == "witness_ahead" or "422" in refused["detail"]

        head_a = get(a.url + "/healthz")["log_size"]
        head_b = get(b.url + "/healthz")["log_size"]
        assert head_b > common
        # Each client asks its server; the one requiring the witness is not shown B.
        assert Client(a.url, witnesses=[vkey], min_witnesses=1).checkpoint()["size"] == head_a
        assert Client(b.url).checkpoint()["size"] == head_b
        assert Client(b.url, witnesses=[vkey], min_witnesses=1).checkpoint()["size"] == common
        # What the witness saw, as an auditor keeps it (FORMATS 6.6).
        origin = world.env.log_key.split("+")[0]
        path = f"/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint"
        with urllib.request.urlopen(witness.url + path, timeout=10) as r:
            seen = tmp_path / "witness-checkpoint.txt"
            seen.write_bytes(r.read())
    finally:
        for s in servers:
            s.stop()
        witness.stop()

    world.env.app.close()
    capsys.readouterr()
    assert cli(["verify", "--data-dir", str(world.env.data_dir), "--witness", vkey]) == 0
    capsys.readouterr()
    assert cli(["verify", "--data-dir", str(copy), "--witness", vkey, "--json"]) == 1
    found = [f["kind"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert found == ["witness_missing"]
    # With what the witness saw: the log was forked after the witness saw it.
    code = cli(
        ["verify", "--data-dir", str(copy), "--witness", vkey, "--checkpoint", str(seen), "--json"]
    )
    assert code == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    conflict = [f for f in findings if f["kind"] == "witness_conflict"]
    assert conflict and conflict[0]["position"]["witness"] == "mttq.example.vn/witness"
    world.env.reopen()
