"""cosignature/v1 against published cases: sigsum-go, transparency-dev/formats, the C2SP text.

Vectors: tests/data/vectors/cosignature_vectors.json (sources in the file and
in tests/data/vectors/README.md).
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.transparency.cosignature import (
    Cosigner,
    parse_cosignature_line,
    parse_cosignature_vkey,
)
from application.transparency.note import NoteError, parse_verifier_key
from tests.vectors import load

VECTORS = load("cosignature_vectors.json")


def _cosigner(case: dict) -> Cosigner:
    seed = bytes.fromhex(case["seed_hex"])
    return Cosigner(case["name"], Ed25519PrivateKey.from_private_bytes(seed))


@pytest.mark.parametrize("case", VECTORS["cosign_exact"], ids=lambda c: c["id"])
def test_cosigning_the_sigsum_checkpoint_gives_the_published_line_byte_for_byte(case):
    cosigner = _cosigner(case)
    assert f"{cosigner.key_hash:08x}" == case["want_key_hash"]
    cosignature = cosigner.cosign(case["body"], case["timestamp"])
    assert cosignature.line() == case["want_line"]
    parsed = parse_cosignature_line(case["want_line"])
    assert parsed == cosignature
    assert cosigner.verifier().check(case["body"], parsed)


def test_only_the_line_of_the_right_name_and_key_id_verifies():
    case = VECTORS["lines_by_key"]
    verifier = _cosigner(case).verifier()
    for item in case["lines"]:
        if item["want"] == "malformed":
            with pytest.raises(NoteError):
                parse_cosignature_line(item["line"])
            continue
        cosignature = parse_cosignature_line(item["line"])
        valid = verifier.check(case["body"], cosignature)
        assert valid == (item["want"] == "valid"), item
        if valid:
            assert cosignature.timestamp == item["timestamp"]


def test_a_changed_timestamp_no_longer_verifies():
    case = VECTORS["lines_by_key"]
    verifier = _cosigner(case).verifier()
    good = parse_cosignature_line(case["lines"][1]["line"])
    moved = type(good)(good.name, good.key_hash, good.timestamp + 1, good.signature)
    assert not verifier.check(case["body"], moved)


@pytest.mark.parametrize("case", VECTORS["vkeys"], ids=lambda c: c["id"])
def test_cosignature_vkeys_parse_only_when_exact_and_of_type_0x04(case):
    if case["want"] == "valid":
        verifier = parse_cosignature_vkey(case["vkey"])
        assert verifier.vkey == case["vkey"]
        return
    with pytest.raises(NoteError):
        parse_cosignature_vkey(case["vkey"])
    if case["want"] == "not_cosignature_type":
        # It is a fine log key (type 0x01), just not a witness key.
        assert parse_verifier_key(case["vkey"]).vkey == case["vkey"]


@pytest.mark.parametrize("case", VECTORS["timestamps"], ids=lambda c: c["id"])
def test_the_timestamp_is_the_eight_bytes_after_the_key_id(case):
    line = "\u2014 example.com/w " + case["base64"]
    if case["want_timestamp"] is None:
        with pytest.raises(NoteError):
            parse_cosignature_line(line)
        return
    cosignature = parse_cosignature_line(line)
    assert cosignature.timestamp == case["want_timestamp"]
    assert f"{cosignature.key_hash:08x}" == case["want_key_hash"]
    assert len(base64.b64decode(case["base64"])) == 76
