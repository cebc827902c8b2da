"""A client's quorum of witnesses (interfaces/witness_quorum.py): K valid cosignatures of
the given keys, from flags or the environment; bad keys and K out of range refused."""

from __future__ import annotations

import pytest

from application.transparency.cosignature import Cosigner
from application.transparency.note import NoteError
from domain.errors import DomainError
from interfaces.witness_quorum import Quorum, WitnessMissing
from tests.witness_support import TestLog, fixed_key


def _cosigned(log: TestLog, *witnesses: Cosigner) -> str:
    note = log.checkpoint()
    body = note.split("\n\n", 1)[0] + "\n"
    return note + "".join(w.cosign(body, 1764000000).line() for w in witnesses)


def test_k_valid_cosignatures_of_the_given_witnesses_are_required():
    log = TestLog().grow(5)
    a = Cosigner("a.example/w", fixed_key("a"))
    b = Cosigner("b.example/w", fixed_key("b"))
    quorum = Quorum.of([a.verifier().vkey, b.verifier().vkey], 2)
    assert quorum.check(_cosigned(log, a, b), log.vkey) == ["a.example/w", "b.example/w"]
    with pytest.raises(WitnessMissing) as e:
        quorum.check(_cosigned(log, a), log.vkey, 5)
    assert e.value.code == "witness_missing" and (e.value.found, e.value.needed) == (1, 2)
    stranger = Cosigner("a.example/w", fixed_key("not a"))  # same name, another key: ignored
    with pytest.raises(WitnessMissing):
        Quorum.of([a.verifier().vkey]).check(_cosigned(log, stranger), log.vkey)
    # A given witness's line that does not verify refuses the note (the client: proof_invalid).
    line = _cosigned(log, a).rsplit("\n", 2)[1]
    blob = line.rsplit(" ", 1)[1]
    bad = blob[:40] + ("A" if blob[40] != "A" else "B") + blob[41:]
    with pytest.raises(NoteError):
        Quorum.of([a.verifier().vkey]).check(
            log.checkpoint() + line.replace(blob, bad) + "\n", log.vkey
        )


def test_keys_and_k_come_from_the_environment_and_are_checked(monkeypatch):
    a = Cosigner("a.example/w", fixed_key("a")).verifier().vkey
    b = Cosigner("b.example/w", fixed_key("b")).verifier().vkey
    assert Quorum.of().minimum == 0
    monkeypatch.setenv("PARINDEX_WITNESSES", f"{a}, {b}")
    assert (Quorum.of().vkeys, Quorum.of().minimum) == ([a, b], 1)
    monkeypatch.setenv("PARINDEX_MIN_WITNESSES", "2")
    assert Quorum.of().minimum == 2
    assert Quorum.of([a], 1).vkeys == [a]  # flags win over the environment
    with pytest.raises(DomainError) as e:
        Quorum.of([a], 2)
    assert e.value.code == "bad_min_witnesses"
    with pytest.raises(DomainError) as e:
        Quorum.of([TestLog().vkey])  # a log key (type 0x01) is not a witness key
    assert e.value.code == "bad_witness_key"
