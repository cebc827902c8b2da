"""C2SP signed notes and checkpoints against the Go reference and published examples.

Vectors: tests/data/vectors/signed_note_vectors.json (golang.org/x/mod
sumdb/note tests, transparency-dev/formats, the C2SP spec's own examples).
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.transparency.note import (
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    Signer,
    UnverifiedNoteError,
    format_signer_key,
    format_verifier_key,
    open_note,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)
from tests.vectors import load

VECTORS = load("signed_note_vectors.json")


def _cases(key: str) -> list:
    """Each vector case as a pytest param, with the case's own id where it has one."""
    return [
        pytest.param(case, id=case["id"] if isinstance(case, dict) else case)
        for case in VECTORS[key]
    ]


def _private_key_of(skey: str) -> Ed25519PrivateKey:
    # PRIVATE+KEY+name+hash+base64: the base64 part may itself contain "+".
    key64 = skey.split("+", 4)[4]
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(key64)[1:])


# -- Signing: byte for byte what Go produces ---------------------------------------


@pytest.mark.parametrize("case", _cases("sign_exact"))
def test_sign_produces_the_go_note_byte_for_byte(case):
    signer = parse_signer_key(case["skey"])
    assert signer.verifier().vkey == case["vkey"]
    note = sign_note(case["text"], [signer])
    assert note == case["want_note"]
    opened = open_note(note, [case["vkey"]])
    assert opened.text == case["text"]
    assert [s.name for s in opened.verified] == [signer.name]


@pytest.mark.parametrize("case", _cases("sign_exact"))
def test_signer_key_formats_back_to_the_go_skey(case):
    signer = parse_signer_key(case["skey"])
    assert format_signer_key(signer.name, _private_key_of(case["skey"])) == case["skey"]


# -- Opening: Go's note.Open outcomes ----------------------------------------------


@pytest.mark.parametrize("case", _cases("open"))
def test_open_matches_the_reference_outcome(case):
    verifiers = [parse_verifier_key(vkey) for vkey in case["vkeys"]]
    if case["want_error"]:
        with pytest.raises(NoteError):
            open_note(case["note"], verifiers)
        return
    opened = open_note(case["note"], verifiers)
    assert [s.name for s in opened.verified] == case["want_verified"]
    assert [s.name for s in opened.unverified] == case["want_unverified"]
    assert case["note"].startswith(opened.text) and opened.text.endswith("\n")


@pytest.mark.parametrize("case", _cases("sign_exact"))
def test_every_bit_flip_of_the_go_note_is_rejected(case):
    # Deterministic companion to the hypothesis property below: each byte of
    # the reference note, text and signature line alike, XORed with several masks.
    note = case["want_note"].encode("utf-8")
    survivors = []
    for index in range(len(note)):
        for mask in (0x01, 0x02, 0x20, 0x80, 0xFF):
            mutated = bytearray(note)
            mutated[index] ^= mask
            try:
                open_note(bytes(mutated), [case["vkey"]])
            except NoteError:
                continue
            survivors.append((index, mask))
    assert survivors == []


def test_open_accepts_bytes_like_go():
    case = next(c for c in VECTORS["open"] if not c["want_error"])
    opened = open_note(case["note"].encode("utf-8"), case["vkeys"])
    assert [s.name for s in opened.verified] == case["want_verified"]


def test_unverified_note_error_carries_the_unknown_signers():
    case = next(c for c in VECTORS["open"] if c["id"] == "x/mod none known")
    with pytest.raises(UnverifiedNoteError) as info:
        open_note(case["note"], [])
    assert [s.name for s in info.value.note.unverified] == ["PeterNeumann", "EnochRoot"]


def test_exactly_max_signatures_is_still_accepted():
    case = next(c for c in VECTORS["open"] if c["id"] == "x/mod 101 signatures")
    text, block = case["note"].rsplit("\n\n", 1)
    lines = block.splitlines(keepends=True)
    assert len(lines) == MAX_SIGNATURES + 1
    trimmed = text + "\n\n" + "".join(lines[:MAX_SIGNATURES])
    assert [s.name for s in open_note(trimmed, case["vkeys"]).verified] == ["PeterNeumann"]


def test_repeat_of_a_known_key_with_different_bytes_is_verified_not_skipped():
    # Deliberately stricter than Go (which skips it): C2SP says signatures
    # from known keys MUST be verified, and this is what tampering looks like.
    case = next(c for c in VECTORS["open"] if c["id"] == "x/mod peter only known")
    good = case["note"].split("\n\n", 1)[1].splitlines()[0]
    forged = good[:-6] + ("AAAA" if good[-6:-2] != "AAAA" else "BBBB") + good[-2:]
    note = case["note"] + forged + "\n"
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note, case["vkeys"])


# -- Keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("vkey", _cases("vkeys_valid"))
def test_valid_verifier_key_parses_and_formats_back(vkey):
    verifier = parse_verifier_key(vkey)
    assert format_verifier_key(verifier.name, verifier.public_key) == vkey
    assert verifier.vkey == vkey
    assert f"{verifier.key_hash:08x}" == vkey.split("+")[1]


@pytest.mark.parametrize("vkey", _cases("vkeys_invalid"))
def test_invalid_verifier_key_is_rejected(vkey):
    with pytest.raises(NoteError):
        parse_verifier_key(vkey)


def _mangled(key: str):
    """Go's TestNewVerifier/TestNewSigner: every proper substring, every byte + 1."""
    for i in range(len(key) + 1):
        for j in range(i + 1, len(key) + 1):
            if i != 0 or j != len(key):
                yield key[i:j]
        if i < len(key):
            yield key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]


def test_every_mangled_verifier_key_is_rejected():
    accepted = []
    for bad in _mangled(VECTORS["vkey_mangle_base"]):
        try:
            parse_verifier_key(bad)
        except NoteError:
            continue
        accepted.append(bad)
    assert accepted == []


def test_every_mangled_signer_key_is_rejected():
    accepted = []
    for skey in [c["skey"] for c in VECTORS["sign_exact"]] + VECTORS["extra_go_skeys"]:
        for bad in _mangled(skey):
            try:
                parse_signer_key(bad)
            except NoteError:
                continue
            accepted.append(bad)
    assert accepted == []


@pytest.mark.parametrize("index", range(len(VECTORS["extra_go_skeys"]) if VECTORS else 0))
def test_go_generated_key_pairs_agree(index):
    skey, vkey = VECTORS["extra_go_skeys"][index], VECTORS["extra_go_vkeys"][index]
    signer = parse_signer_key(skey)
    assert signer.verifier().vkey == vkey
    assert format_signer_key(signer.name, _private_key_of(skey)) == skey
    note = sign_note("hello\n", [signer])
    assert [s.name for s in open_note(note, [vkey]).verified] == [signer.name]


# -- Checkpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("checkpoint_parse"))
def test_checkpoint_parse_is_strict(case):
    if case["want_error_strict"]:
        with pytest.raises(NoteError):
            parse_checkpoint(case["text"])
    else:
        checkpoint = parse_checkpoint(case["text"])
        assert checkpoint.format() == case["text"]


@pytest.mark.parametrize("case", _cases("checkpoint_parse"))
def test_checkpoints_only_lenient_parsers_accept_fail_for_a_strictness_we_chose(case):
    # transparency-dev/formats accepts any root length and empty extension
    # lines; C2SP requires an RFC 6962 (32-byte) root, non-empty extension lines
    # and no leading zeros. Pin that our refusals are exactly those reasons.
    assert case["want_error_strict"] or not case["want_error_lenient"]
    if case["want_error_lenient"] or not case["want_error_strict"]:
        return
    with pytest.raises(NoteError) as info:
        parse_checkpoint(case["text"])
    assert any(
        reason in str(info.value) for reason in ("not 32", "canonical decimal", "extension lines")
    )


def test_real_sum_golang_org_checkpoint_opens_and_parses():
    case = next(c for c in VECTORS["open"] if c["id"] == "formats: real sum.golang.org checkpoint")
    opened = open_note(case["note"], case["vkeys"])
    checkpoint = parse_checkpoint(opened.text)
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 6476701)
    assert checkpoint.extensions == ()


@pytest.mark.parametrize(
    "text",
    [
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # empty extension line
        "o\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1 \n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n\u0661\n" + base64.b64encode(bytes(32)).decode() + "\n",  # Arabic-Indic one
        "o\n18446744073709551616\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",
    ],
    ids=["empty-extension", "plus-sign", "trailing-space", "non-ascii-digit", "2^64", "no-pad"],
)
def test_checkpoint_parse_rejects_non_canonical_forms(text):
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_checkpoint_largest_size_and_zero_are_accepted():
    root = base64.b64encode(bytes(32)).decode()
    assert parse_checkpoint(f"o\n18446744073709551615\n{root}\n").size == 2**64 - 1
    assert parse_checkpoint(f"o\n0\n{root}\n").size == 0


# -- Properties --------------------------------------------------------------------------

_name_chars = st.characters(
    exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="+"
)
_names = st.text(_name_chars, min_size=1, max_size=20)
_line_chars = st.characters(exclude_categories=("Cs", "Cc"))
_lines = st.text(_line_chars, max_size=30).filter(lambda line: not line.startswith("\u2014 "))
_texts = st.lists(_lines, min_size=1, max_size=5).map(lambda lines: "\n".join(lines) + "\n")
_seeds = st.binary(min_size=32, max_size=32)


def _signer(name: str, seed: bytes) -> Signer:
    return Signer(name, Ed25519PrivateKey.from_private_bytes(seed))


@given(text=_texts, names=st.lists(_names, min_size=1, max_size=3, unique=True), seed=_seeds)
def test_signed_note_opens_with_all_signers_verified(text, names, seed):
    signers = [_signer(name, seed) for name in names]
    note = sign_note(text, signers)
    opened = open_note(note, [s.verifier() for s in signers])
    assert opened.text == text
    assert [s.name for s in opened.verified] == names
    assert opened.unverified == []


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, name=_names, seed=_seeds, data=st.data())
def test_any_single_byte_change_makes_open_fail(text, name, seed, data):
    signer = _signer(name, seed)
    note = bytearray(sign_note(text, [signer]).encode("utf-8"))
    index = data.draw(st.integers(0, len(note) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != note[index]), label="byte")
    note[index] = byte
    with pytest.raises(NoteError):
        open_note(bytes(note), [signer.verifier()])


_ext_chars = st.characters(exclude_categories=("Cs", "Cc"))


@given(
    origin=st.text(_ext_chars, min_size=1, max_size=40),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.text(_ext_chars, min_size=1, max_size=20), max_size=3),
)
def test_checkpoint_format_parse_round_trip(origin, size, root, extensions):
    checkpoint = Checkpoint(origin, size, root, extensions)
    text = checkpoint.format()
    assert parse_checkpoint(text) == checkpoint
    assert text.startswith(f"{origin}\n{size}\n")


@given(name=_names, seed=_seeds, size=st.integers(0, 2**64 - 1), root=_seeds)
def test_signed_checkpoint_round_trip(name, seed, size, root):
    signer = _signer(name, seed)
    note = sign_note(Checkpoint(name, size, root).format(), [signer])
    opened = open_note(note, [signer.verifier()])
    assert parse_checkpoint(opened.text) == Checkpoint(name, size, root)
