"""parindex's witness against one written from the C2SP texts alone (tests/independent/witness.py).

Both get the same requests in the same order and must give the same status
(and, for a 409, the same body); each one's cosignatures must verify with the
other's code.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.signing.keys import b64
from application.transparency.cosignature import open_cosigned, parse_cosignature_vkey
from application.transparency.note import Checkpoint, format_verifier_key, sign_note
from application.transparency.witness import Refused
from application.transparency.witness_home import init_witness, open_witness
from tests.independent import witness as spec
from tests.vectors import load
from tests.witness_support import TestLog, fixed_key

NAME = "mttq.example.vn/witness"


def ours(tmp_path, log_vkeys):
    init_witness(tmp_path / "ours", NAME, log_vkeys)
    return open_witness(tmp_path / "ours")


def status_of(witness, body: bytes) -> tuple[int, bytes]:
    try:
        return 200, witness.add_checkpoint(body).encode()
    except Refused as refused:
        return refused.status, (f"{refused.size}\n".encode() if refused.status == 409 else b"")


def scenario(log: TestLog) -> list[bytes]:
    """A log's life as a witness sees it: growth, mistakes, rollback, a fork, junk."""
    other = TestLog(origin="other.example/log")
    impostor = TestLog(origin=log.origin, key=fixed_key("impostor"))
    bodies = [
        log.request(0, size=0),
        b"old 0\n\n"
        + sign_note(Checkpoint(log.origin, 0, bytes(32)).format(), [log.signer]).encode(),
        log.grow(3).request(0),
        log.grow(2).request(0),  # stale: 409 with 3
        log.request(3, proof=[bytes(32)] * 3),  # wrong proof
        log.request(3, proof=[]),  # missing proof
        log.request(3),
        log.request(5, size=3, proof=[]),  # rollback: old above size
        log.request(0, size=3),  # rollback: 409
        log.fork(keep=4).grow(1).request(5, size=5, proof=[]),  # fork, same size
        log.fork(keep=2, tag="f2 ").grow(6).request(5, size=8),  # fork, its own proof
        other.grow(2).request(0),  # unknown log
        impostor.grow(6).request(5),  # not the log's key
        log.grow(3).request(5),
        log.request(8),  # same size, same root
        b"old 8\n\n" + log.checkpoint().encode()[:-3] + b"\n",  # truncated signature
        b"old 08\n\n" + log.checkpoint().encode(),
        b"old 8\n" + (b64(bytes(32)) + "\n").encode() * 64 + b"\n" + log.checkpoint().encode(),
        b"old 8\n\n" + log.checkpoint().encode() + b"\xff",
        b"",
        b"old 8",
        b"old 8\n\n" + b"x" * (70 * 1024),
        log.checkpoint().encode(),
    ]
    junk = "".join(f"\u2014 junk{i}.example/k {b64(bytes(68))}\n" for i in range(150))
    bodies.append((log.request(8).decode() + junk).encode())
    bodies.append(log.grow(1).request(8))
    return bodies


def test_both_witnesses_answer_a_log_s_whole_life_alike(tmp_path):
    log = TestLog()
    mine = ours(tmp_path, [log.vkey])
    theirs = spec.SpecWitness(NAME, hashlib.sha256(b"spec").digest(), [log.vkey])
    got_ours, got_theirs = [], []
    for body in scenario(log):
        status, text = status_of(mine, body)
        answer = theirs.add_checkpoint(body)
        got_ours.append((status, text if status == 409 else b""))
        got_theirs.append((answer.status, answer.body if answer.status == 409 else b""))
    assert got_ours == got_theirs
    statuses = [s for s, _ in got_ours]
    assert {200, 400, 403, 404, 409, 413, 422} <= set(statuses)


def test_the_published_sequence_gets_the_same_answers_from_both():
    vectors = load("tlog_witness_vectors.json")
    vkey = format_verifier_key(vectors["log_origin"], bytes.fromhex(vectors["log_public_key_hex"]))
    theirs = spec.SpecWitness(vectors["witness_name"], bytes(32), [vkey])
    for step in vectors["steps"]:
        answer = theirs.add_checkpoint(step["body"].encode())
        assert answer.status == step["want_status"], step["id"]


def test_each_verifies_the_other_s_cosignatures(tmp_path):
    log = TestLog().grow(5)
    mine = ours(tmp_path, [log.vkey])
    theirs = spec.SpecWitness("spec.example/w", hashlib.sha256(b"spec").digest(), [log.vkey])
    our_line = mine.add_checkpoint(log.request(0))
    their_line = theirs.add_checkpoint(log.request(0)).body.decode()
    our_vkey = mine.cosigner.verifier().vkey
    # Keys: each side computes the same key ID for the other's key.
    assert spec.parse_vkey(our_vkey).kind == 4
    assert parse_cosignature_vkey(theirs.vkey).vkey == theirs.vkey
    # Ours, checked by the spec-only code.
    assert spec.verify_cosignature(log.checkpoint(), our_line, our_vkey) > 0
    # Theirs, checked by ours, in one note with the log's signature.
    note = log.checkpoint() + our_line + their_line
    opened = open_cosigned(note, [log.vkey], [our_vkey, theirs.vkey])
    assert {c.name for c in opened.cosignatures} == {NAME, "spec.example/w"}
    # A cosignature moved to another checkpoint fails on both sides.
    other = log.grow(1).checkpoint()
    with pytest.raises(ValueError):
        spec.verify_cosignature(other, our_line, our_vkey)
    with pytest.raises(Exception):  # noqa: B017 - BadSignatureError, a NoteError
        open_cosigned(other + their_line, [log.vkey], [theirs.vkey])


def test_the_spec_witness_keeps_its_state_across_restarts_too(tmp_path):
    log = TestLog().grow(4)
    state = str(tmp_path / "spec-state.json")
    first = spec.SpecWitness(NAME, bytes(32), [log.vkey], state)
    assert first.add_checkpoint(log.request(0)).status == 200
    again = spec.SpecWitness(NAME, bytes(32), [log.vkey], state)
    assert again.add_checkpoint(log.request(0)).body == b"4\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_changed_byte_anywhere_gets_the_same_answer_from_both(data):
    """Flip one byte of an honest request (after one earlier cosignature): same status."""
    log = TestLog().grow(6)
    first, second = log.request(0, size=3), log.request(3)
    position = data.draw(st.integers(0, len(second) - 1))
    value = data.draw(st.integers(0, 255))
    changed = second[:position] + bytes([value]) + second[position + 1 :]
    with tempfile.TemporaryDirectory() as tmp:
        mine = ours(Path(tmp), [log.vkey])
        theirs = spec.SpecWitness(NAME, bytes(32), [log.vkey])
        assert status_of(mine, first)[0] == theirs.add_checkpoint(first).status == 200
        status, text = status_of(mine, changed)
        answer = theirs.add_checkpoint(changed)
        assert status == answer.status, (position, value, answer.body)
        if status == 409:
            assert text == answer.body


def test_the_spec_witness_imports_no_project_code():
    import ast

    tree = ast.parse(Path(spec.__file__).read_text("utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    project = ("application", "domain", "interfaces", "projections", "tests")
    assert not {m for m in modules if m and m.split(".")[0] in project}
