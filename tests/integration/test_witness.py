"""`parindex witness`: add-checkpoint per c2sp.org/tlog-witness, state that survives, hostile input.

Through the HTTP app (Flask test client) over a real witness directory, so the
state file, its lock and its checks are the ones `parindex witness serve` uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from application.signing.keys import b64
from application.transparency.cosignature import open_cosigned, parse_cosignature_line
from application.transparency.note import format_verifier_key
from application.transparency.witness_home import init_witness, open_witness
from domain.errors import DomainError
from interfaces.cli.main import main as cli
from interfaces.witness.app import create_witness_app
from tests.vectors import load
from tests.witness_support import TestLog, fixed_key

NOW = 1_764_000_000


@pytest.fixture
def log() -> TestLog:
    return TestLog()


@pytest.fixture
def home(tmp_path, log):
    path = tmp_path / "w"
    init_witness(path, "mttq.example.vn/witness", [log.vkey])
    return path


def client(home, *logs: str):
    witness = open_witness(home, logs)
    witness.clock = lambda: NOW
    return create_witness_app(witness).test_client(), witness


def post(c, body: bytes):
    return c.post("/add-checkpoint", data=body, content_type="text/plain")


def test_init_makes_a_0600_key_and_prints_the_vkey(tmp_path, capsys):
    assert cli(["witness", "init", "--data-dir", str(tmp_path / "w"), "--name", "a.example/w"]) == 0
    out = capsys.readouterr().out
    vkey = out.strip().splitlines()[-1]
    assert vkey.startswith("a.example/w+") and "PRIVATE" not in out
    assert stat.S_IMODE(os.stat(tmp_path / "w" / "witness.key").st_mode) == 0o600
    assert cli(["witness", "key", "--data-dir", str(tmp_path / "w")]) == 0
    assert capsys.readouterr().out.strip() == vkey
    # A second init never replaces a witness (its state is its memory).
    assert cli(["witness", "init", "--data-dir", str(tmp_path / "w"), "--name", "b"]) != 0


def test_a_growing_log_is_cosigned_and_each_cosignature_verifies(home, log):
    c, witness = client(home)
    old = 0
    for grow in (3, 1, 4, 8):
        log.grow(grow)
        r = post(c, log.request(old))
        assert r.status_code == 200, r.text
        line = r.get_data(as_text=True)
        cosigned = log.checkpoint() + line
        opened = open_cosigned(cosigned, [log.vkey], [witness.cosigner.verifier()])
        assert [x.timestamp for x in opened.cosignatures] == [NOW]
        old = log.size
    # The monitor read: the stored note carries the log's signature and the witness's.
    origin_hash = hashlib.sha256(log.origin.encode()).hexdigest()
    stored = c.get(f"/{origin_hash}/checkpoint").get_data(as_text=True)
    assert open_cosigned(stored, [log.vkey], [witness.cosigner.verifier()]).cosignatures
    assert c.get(f"/{'0' * 64}/checkpoint").status_code == 404


def test_a_stale_old_size_gets_409_with_the_stored_size(home, log):
    c, _ = client(home)
    assert post(c, log.grow(5).request(0)).status_code == 200
    r = post(c, log.grow(2).request(3, proof=log.proof(3)))
    assert r.status_code == 409
    assert r.headers["Content-Type"] == "text/x.tlog.size"
    assert r.get_data() == b"5\n"
    assert post(c, log.request(5)).status_code == 200


def test_rollback_to_a_smaller_checkpoint_is_refused(home, log):
    c, _ = client(home)
    post(c, log.grow(8).request(0))
    # The log's operator restores an older copy: size 5 after size 8.
    assert post(c, log.request(8, size=5, proof=[])).status_code == 400
    assert post(c, log.request(0, size=5)).status_code == 409
    assert post(c, log.request(5, size=5)).status_code == 409


def test_a_fork_is_refused_by_a_witness_that_saw_the_other_branch(home, log):
    c, _ = client(home)
    log.grow(6)
    assert post(c, log.request(0)).status_code == 200
    other = log.fork(keep=4).grow(3)  # same key, leaves 4.. differ
    assert other.size == 7 and other.root(6) != log.root(6)
    # Same size, different root: 422.
    assert post(c, other.request(6, size=6, proof=[])).status_code == 422
    # Larger, with the other branch's own proof from 6: 422 (it proves the other root).
    assert post(c, other.request(6, size=7)).status_code == 422
    # The honest branch still grows.
    assert post(c, log.grow(1).request(6)).status_code == 200


def test_same_size_same_root_is_cosigned_again(home, log):
    c, witness = client(home)
    post(c, log.grow(4).request(0))
    witness.clock = lambda: NOW + 60
    r = post(c, log.request(4))
    assert r.status_code == 200
    assert parse_cosignature_line(r.get_data(as_text=True)).timestamp == NOW + 60


def test_restart_keeps_state(home, log):
    c, _ = client(home)
    post(c, log.grow(9).request(0))
    c2, _ = client(home)  # a new process reading the same directory
    assert post(c2, log.request(0)).get_data() == b"9\n"
    assert post(c2, log.grow(1).request(9)).status_code == 200


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:40]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: p.unlink(), id="missing"),
        pytest.param(lambda p: p.write_bytes(b"\xff\xfe" + p.read_bytes()), id="not-utf8"),
        pytest.param(
            lambda p: p.write_text(p.read_text().replace('"size": 7', '"size": 3')),
            id="size-edited",
        ),
        pytest.param(
            lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "witness": "x"})),
            id="another-witness",
        ),
    ],
)
def test_a_damaged_state_file_stops_the_witness_instead_of_starting_empty(home, log, damage):
    c, _ = client(home)
    post(c, log.grow(7).request(0))
    damage(home / "state.json")
    with pytest.raises(DomainError) as raised:
        open_witness(home)
    assert raised.value.code == "witness_state"
    # A running witness that finds its state damaged stops cosigning (503), never 200.
    r = post(c, log.grow(1).request(7))
    assert r.status_code == 503


def test_the_cli_refuses_to_serve_a_damaged_state(home, log, capsys):
    (home / "state.json").write_bytes(b'{"format": "parindex-witness-state/v1", "witn')
    assert cli(["witness", "serve", "--data-dir", str(home), "--listen", "127.0.0.1:1"]) == 2
    assert "witness_state" in capsys.readouterr().err


def test_an_unknown_log_is_404_and_a_forged_signature_403(home, log):
    c, _ = client(home)
    stranger = TestLog(origin="other.example/log")
    assert post(c, stranger.grow(2).request(0)).status_code == 404
    impostor = TestLog(origin=log.origin, key=fixed_key("impostor"))
    assert post(c, impostor.grow(2).request(0)).status_code == 403
    # Nothing was stored by either refusal.
    assert post(c, log.grow(2).request(0)).status_code == 200


HOSTILE = {
    "huge": b"old 0\n\n" + b"A" * (70 * 1024),
    "not-utf8": b"old 0\n\n\xff\xfe\n",
    "no-empty-line": b"old 0\n",
    "bad-old": b"old 01\n\n",
    "negative-old": b"old -1\n\n",
    "old-too-big": b"old 99999999999999999999999\n\n",
    "bad-base64-proof": b"old 1\nnot base64!\n\n",
    "short-proof-hash": b"old 1\nAAAA\n\n",
    "64-proof-lines": b"old 1\n" + (b64(bytes(32)).encode() + b"\n") * 64 + b"\n",
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bodies_get_a_clean_4xx(home, name):
    c, _ = client(home)
    r = post(c, HOSTILE[name])
    assert 400 <= r.status_code < 500, (name, r.status_code)
    assert r.status_code == (413 if name == "huge" else 400)


def test_a_thousand_signature_lines_and_bad_base64_signatures_get_4xx(home, log):
    c, _ = client(home)
    body = log.grow(3).request(0).decode()
    junk = "".join(f"\u2014 junk{i}.example/k {b64(bytes(68))}\n" for i in range(1000))
    assert post(c, (body + junk).encode()).status_code == 413  # over 64 KiB
    # Within the size limit but over 100 signature lines: malformed.
    junk = "".join(f"\u2014 junk{i}.example/k {b64(bytes(68))}\n" for i in range(150))
    assert len(body + junk) < 64 * 1024
    assert post(c, (body + junk).encode()).status_code == 400
    bad = body + "\u2014 junk.example/k !!!notbase64\n"
    assert post(c, bad.encode()).status_code == 400
    # Undecodable base64, even under the log's own name: malformed.
    bad = body + f"\u2014 {log.origin} !!!notbase64\n"
    assert post(c, bad.encode()).status_code == 400
    # Decodable but not canonical, with the log key's ID: that key's signature fails.
    sig = body.rstrip("\n").rsplit(" ", 1)[1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    bumped = sig[:-2] + alphabet[alphabet.index(sig[-2]) ^ 1] + sig[-1]
    assert post(c, body.replace(sig, bumped).encode()).status_code == 403
    assert post(c, log.request(0)).status_code == 200


def test_a_size_zero_checkpoint_needs_the_empty_root(home, log):
    from application.transparency.note import Checkpoint, sign_note

    c, _ = client(home)
    bogus = sign_note(Checkpoint(log.origin, 0, bytes(32)).format(), [log.signer])
    assert post(c, b"old 0\n\n" + bogus.encode()).status_code == 422
    assert post(c, log.request(0, size=0)).status_code == 200
    assert post(c, log.grow(3).request(0)).status_code == 200
    assert post(c, log.grow(1).request(3)).status_code == 200
    assert post(c, log.request(4, size=4, proof=[bytes(32)])).status_code == 422


# -- the published request sequence (sunlight / litewitness) ---------------------------

VECTORS = load("tlog_witness_vectors.json")


def test_the_published_add_checkpoint_sequence_gets_the_published_statuses(tmp_path):
    vkey = format_verifier_key(VECTORS["log_origin"], bytes.fromhex(VECTORS["log_public_key_hex"]))
    path = tmp_path / "w"
    init_witness(path, VECTORS["witness_name"], [vkey])
    c, witness = client(path)
    for step in VECTORS["steps"]:
        r = post(c, step["body"].encode("utf-8"))
        assert r.status_code == step["want_status"], (step["id"], r.get_data(as_text=True))
        if r.status_code == 409:
            assert r.get_data(as_text=True) == step["want_body_contains"]
        if r.status_code == 200:
            note = step["body"].split("\n\n", 1)[1] + r.get_data(as_text=True)
            opened = open_cosigned(note, [vkey], [witness.cosigner.verifier()])
            assert [x.name for x in opened.cosignatures] == [VECTORS["witness_name"]]


def test_racing_requests_from_the_same_old_size_cosign_only_one(home, log):
    """The check of `old` and the write are one step: no rollback between two requests."""
    from concurrent.futures import ThreadPoolExecutor

    from application.transparency.witness import Refused

    _, witness = client(home)
    witness.add_checkpoint(log.grow(4).request(0))
    bodies = [log.grow(1).request(4, size=size) for size in range(5, 13)]

    def attempt(body: bytes) -> int:
        try:
            witness.add_checkpoint(body)
            return 200
        except Refused as refused:
            return refused.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, bodies))
    assert statuses.count(200) == 1 and statuses.count(409) == len(bodies) - 1
    winner = 5 + statuses.index(200)
    assert witness.state.load()[log.origin].size == winner


def test_a_forged_line_in_the_witness_s_own_name_is_neither_stored_nor_served(home, log):
    """The sunlight regression (ANT-2026-SAPGR4D6): a client appends a line with the
    witness's name and key ID that cannot verify. It must not poison the state."""
    c, witness = client(home)
    me = witness.cosigner
    forged = f"\u2014 {me.name} {b64(me.key_hash.to_bytes(4, 'big') + bytes(72))}\n"
    body = log.grow(3).request(0).decode() + forged
    assert post(c, body.encode()).status_code == 200
    stored = witness.checkpoint_of(log.origin)
    assert forged not in stored
    assert stored.count("\u2014 ") == 2  # the log's line and the witness's own
    c2, _ = client(home)  # the state still loads after a restart
    assert post(c2, log.grow(1).request(3)).status_code == 200


def test_a_key_file_readable_by_others_is_refused(home):
    os.chmod(home / "witness.key", 0o644)
    with pytest.raises(DomainError) as raised:
        open_witness(home)
    assert raised.value.code == "witness_key_mode"
    assert "PRIVATE" not in raised.value.message("en")
