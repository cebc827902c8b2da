"""Witness keys and cosignature/v1 lines on parindex checkpoints."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.transparency.cosignature import (
    Cosigner,
    cosignature_key_hash,
    cosignature_message,
    open_cosigned,
    parse_cosignature_line,
    parse_cosignature_vkey,
    parse_cosigner_key,
)
from application.transparency.note import (
    BadSignatureError,
    Checkpoint,
    NoteError,
    Signer,
    UnverifiedNoteError,
    sign_note,
)

ORIGIN = "parindex.local/par-index"
BODY = Checkpoint(ORIGIN, 4, bytes(range(32))).format()


def _key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)


LOG = Signer(ORIGIN, _key(1))
W1, W2 = Cosigner("mttq.example/w1", _key(2)), Cosigner("inspector.example/w2", _key(3))


def _cosigned(*witnesses: Cosigner, t: int = 1_764_000_000) -> str:
    note = sign_note(BODY, [LOG])
    return note + "".join(w.cosign(BODY, t).line() for w in witnesses)


def test_a_witness_key_id_uses_type_0x04_so_it_differs_from_the_same_key_as_a_log_key():
    same = Signer(W1.name, _key(2))
    assert W1.key_hash != same.key_hash
    assert W1.key_hash == cosignature_key_hash(W1.name, W1.verifier().public_key)


def test_skey_and_vkey_round_trip():
    again = parse_cosignature_vkey(W1.verifier().vkey)
    assert again.vkey == W1.verifier().vkey
    assert parse_cosigner_key(W1.skey).verifier().vkey == W1.verifier().vkey
    assert "PRIVATE" not in repr(W1)


def test_the_signed_message_is_header_time_line_then_the_body():
    assert cosignature_message(BODY, 7) == b"cosignature/v1\ntime 7\n" + BODY.encode()


def test_a_note_with_the_log_signature_and_two_cosignatures_opens_with_all_three_keys():
    opened = open_cosigned(_cosigned(W1, W2), [LOG.verifier()], [W1.verifier(), W2.verifier()])
    assert opened.text == BODY
    assert [s.name for s in opened.log] == [ORIGIN]
    assert {c.name for c in opened.cosignatures} == {W1.name, W2.name}
    assert all(c.timestamp == 1_764_000_000 for c in opened.cosignatures)


def test_a_cosignature_from_an_unconfigured_witness_is_ignored():
    opened = open_cosigned(_cosigned(W1, W2), [LOG.verifier()], [W1.verifier().vkey])
    assert [c.name for c in opened.cosignatures] == [W1.name]
    assert [s.name for s in opened.unknown] == [W2.name]


def test_cosignatures_alone_never_make_a_checkpoint_valid():
    note = BODY + "\n" + W1.cosign(BODY, 5).line()
    with pytest.raises(UnverifiedNoteError):
        open_cosigned(note, [LOG.verifier()], [W1.verifier()])


def test_a_cosignature_over_another_body_is_a_bad_signature():
    other = Checkpoint(ORIGIN, 5, bytes(32)).format()
    note = sign_note(BODY, [LOG]) + W1.cosign(other, 5).line()
    with pytest.raises(BadSignatureError):
        open_cosigned(note, [LOG.verifier()], [W1.verifier()])


@pytest.mark.parametrize(
    "line",
    [
        "\u2014 w AAAA",  # too short
        "\u2014 w " + "A" * 100 + "==",  # not 76 bytes
        "\u2014 bad name " + "A" * 100,
        "- w " + "A" * 100,  # not an em dash
        "\u2014 w " + "/" * 101 + "x==",  # 76 bytes, spare bits set: not canonical
    ],
)
def test_malformed_cosignature_lines_are_refused(line):
    with pytest.raises(NoteError):
        parse_cosignature_line(line)


def test_a_timestamp_above_2_63_minus_1_is_refused_and_zero_is_never_signed():
    blob_line = W1.cosign(BODY, 2**63 - 1).line()
    assert parse_cosignature_line(blob_line).timestamp == 2**63 - 1
    with pytest.raises(NoteError):
        W1.cosign(BODY, 2**63)
    with pytest.raises(NoteError):
        W1.cosign(BODY, 0)


def test_non_canonical_base64_in_a_cosignature_is_refused():
    line = W1.cosign(BODY, 9).line().rstrip("\n")
    # "==" padding: the last data character carries 4 spare bits; set one.
    last = line[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    bumped = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(NoteError):
        parse_cosignature_line(line[:-3] + bumped + "==")
