"""A running `parindex serve` asks its witnesses itself: after a proposal, approval or
publication, after the first command past a deadline, and on a schedule
(`--witness-interval`); best effort, never holding a command, the last outcome in
`/healthz`. Against a real `parindex witness serve`."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from application.transparency.cosignature import open_cosigned
from application.transparency.witness_home import init_witness
from interfaces.cli.main import main as cli
from interfaces.client import Client
from interfaces.http.witness_asking import WitnessAsker
from tests.e2e.http_support import AUTHORITY, PROVINCE, Served, World, make_world
from tests.e2e.test_witness_serve import WitnessServed

CYCLE = "kt-2025"


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    w = make_world(tmp_path / "site")
    try:
        yield w
    finally:
        w.env.app.close()


def use_witness(world: World, tmp_path) -> tuple[str, WitnessServed]:
    home = tmp_path / "witness"
    vkey = init_witness(home, "mttq.example.vn/witness", [world.env.log_key])
    served = WitnessServed(home, world.env.log_key)
    d = str(world.env.data_dir)
    assert cli(["witness", "use", "--data-dir", d, "--url", served.url, "--vkey", vkey]) == 0
    world.env.reopen()
    return vkey, served


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def cosigned_size(server: Served, world: World, vkey: str) -> int | None:
    note = get(server.url + "/api/v1/log/checkpoint")["note"]
    opened = open_cosigned(note, [world.env.log_key], [vkey])
    return int(opened.text.split("\n")[1]) if opened.cosignatures else None


def wait_for(check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    return None


def test_after_a_publication_the_served_checkpoint_carries_the_witness_cosignature(world, tmp_path):
    vkey, witness = use_witness(world, tmp_path)
    world.cycle_up_to(CYCLE, "approved")
    approver = world.key("approver", f"province:{PROVINCE}")
    key_file = world.key_file(approver, tmp_path / "approver.key")
    server = Served(world.env.data_dir, workers=2, extra=("--witness-interval", "0"))
    try:
        assert cosigned_size(server, world, vkey) is None  # nothing asked yet
        client = Client(server.url, key_file)
        receipt = client.send({"type": "publish_ranking", "cycle": CYCLE, "version": 1})
        head = get(server.url + "/healthz")["log_size"]
        assert head >= receipt["position"]
        assert wait_for(lambda: cosigned_size(server, world, vkey) == head), (
            get(server.url + "/healthz"),
            cosigned_size(server, world, vkey),
            head,
        )
        health = get(server.url + "/healthz")["witnesses"]
        assert [a["status"] for a in health["answers"]] == ["cosigned"]
        assert health["size"] == head and health["error"] is None
        # A client requiring the witness now accepts the server's checkpoint.
        assert Client(server.url, witnesses=[vkey]).checkpoint()["size"] == head
    finally:
        server.stop()
        witness.stop()


def test_the_schedule_asks_and_a_dead_witness_never_holds_a_command(world, tmp_path):
    vkey, witness = use_witness(world, tmp_path)
    server = Served(world.env.data_dir, workers=1, extra=("--witness-interval", "1"))
    try:
        world.key("observer", "*")  # a command the server did not see: only the schedule
        head = world.env.app.tlog.size()
        assert wait_for(lambda: (cosigned_size(server, world, vkey) or 0) >= head)
        witness.stop()
        world.cycle_up_to(CYCLE, "closed")
        council = world.key("council_chair", f"authority:{AUTHORITY}")
        key_file = world.key_file(council, tmp_path / "council.key")
        started = time.monotonic()
        manifest_doc = Client(server.url, key_file).ranking_draft(CYCLE)
        Client(server.url, key_file).send(
            {"type": "propose_ranking", "cycle": CYCLE, "manifest": manifest_doc["manifest"]}
        )
        assert time.monotonic() - started < 5  # the dead witness is asked after, elsewhere
        failed = wait_for(
            lambda: [
                a
                for a in (get(server.url + "/healthz")["witnesses"] or {}).get("answers", [])
                if a["status"] == "failed"
            ]
        )
        assert failed and failed[0]["witness"] == "mttq.example.vn/witness"
    finally:
        server.stop()
        witness.stop()


def test_the_first_command_past_a_deadline_asks_once(world):
    asked: list[int] = []
    now = time.time()
    deadlines = [now + 0.5]
    asker = WitnessAsker(world.env.app, world.env.data_dir, lambda: deadlines, 0)
    asker.request = lambda: asked.append(1)  # type: ignore[method-assign]
    asker.after_command("record_self_score")  # the deadline has not passed
    assert asked == []
    time.sleep(0.6)
    asker.after_command("record_self_score")  # the first command past it
    asker.after_command("record_self_score")
    assert asked == [1]
    asker.after_command("approve_ranking")
    assert asked == [1, 1]
