"""C2SP tlog-cosignature, Ed25519 type (``cosignature/v1``): witness keys and cosignatures.

A cosignature is one more signature line on a checkpoint note, made by a
witness that checked the checkpoint is consistent with every earlier one it saw::

    — <witness name> base64( key_id(4) || timestamp(8, big-endian) || Ed25519 signature(64) )

The Ed25519 signature covers ``"cosignature/v1\\ntime <timestamp>\\n" + body``,
where body is the checkpoint text up to and including its last newline and the
timestamp is POSIX seconds in decimal without leading zeros. The key ID is
``SHA-256(name || 0x0A || 0x04 || public key)[:4]``; 0x04 keeps a witness key
distinct from a log key (0x01) even when the bytes of the key are the same.

Keys travel as signed-note keys with type byte 0x04::

    vkey = name+hash8+base64(0x04 || public key)
    skey = PRIVATE+KEY+name+hash8+base64(0x04 || seed)

The skey form is what transparency-dev's ``NewSignerForCosignatureV1`` reads.
A ``CosignatureVerifier`` has the shape of a note ``Verifier`` (name, key_hash,
``verify(message, signature)``), so ``note.open_note`` checks log signatures
and cosignatures of one note in one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from application.signing.keys import b64, private_raw, public_raw, unb64
from application.transparency.note import (
    NoteError,
    NoteSignature,
    OpenedNote,
    UnverifiedNoteError,
    Verifier,
    is_valid_name,
    named_public_key,
    open_note,
    parse_verifier_key,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "Cosignature",
    "CosignatureVerifier",
    "Cosigner",
    "CosignedCheckpoint",
    "cosignature_key_hash",
    "cosignature_message",
    "open_cosigned",
    "parse_cosignature_line",
    "parse_cosigner_key",
    "parse_cosignature_vkey",
]

ALG_COSIGNATURE_V1 = 0x04
#: tlog-cosignature: the timestamp MUST NOT exceed 2**63 - 1.
MAX_TIMESTAMP = 2**63 - 1
_HEADER = "cosignature/v1\n"
_SIG_PREFIX = "\u2014 "
_BLOB_LEN = 4 + 8 + 64


def cosignature_key_hash(name: str, public_key: bytes) -> int:
    """Key ID of a cosignature/v1 key: uint32 of SHA-256(name \\n 0x04 pub)[:4]."""
    if len(public_key) != 32:
        raise NoteError("an Ed25519 public key is 32 bytes")
    data = name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    return int.from_bytes(hashlib.sha256(data).digest()[:4], "big")


def cosignature_message(body: str | bytes, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, time line, checkpoint body."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    _check_timestamp(timestamp)
    if not body.endswith(b"\n") or body.count(b"\n") < 3:
        raise NoteError("a cosigned body is a checkpoint: at least three lines")
    return f"{_HEADER}time {timestamp}\n".encode("ascii") + body


@dataclass(frozen=True)
class Cosignature:
    """One cosignature: who (name, key hash), when (POSIX seconds), the 64-byte signature."""

    name: str
    key_hash: int
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """The signature line, ``— name base64(...)\\n``."""
        blob = (
            self.key_hash.to_bytes(4, "big")
            + self.timestamp.to_bytes(8, "big")
            + bytes(self.signature)
        )
        return f"{_SIG_PREFIX}{self.name} {b64(blob)}\n"


class CosignatureVerifier:
    """A witness's public key: checks cosignature/v1 signatures of checkpoint bodies."""

    def __init__(self, name: str, public_key: bytes | Ed25519PublicKey) -> None:
        self.name, self.public_key, self._key = named_public_key(name, public_key)
        self.key_hash = cosignature_key_hash(name, self.public_key)

    @property
    def vkey(self) -> str:
        """``name+hash8+base64(0x04 || public key)``."""
        raw = bytes([ALG_COSIGNATURE_V1]) + self.public_key
        return f"{self.name}+{self.key_hash:08x}+{b64(raw)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Note-verifier form: ``signature`` is timestamp(8) || Ed25519(64) over the body."""
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        try:
            signed = cosignature_message(message, timestamp)
            self._key.verify(signature[8:], signed)
        except (NoteError, InvalidSignature):
            return False
        return True

    def check(self, body: str, cosignature: Cosignature) -> bool:
        """True if ``cosignature`` is this key's valid cosignature of ``body``."""
        if (cosignature.name, cosignature.key_hash) != (self.name, self.key_hash):
            return False
        stamp = cosignature.timestamp.to_bytes(8, "big") if cosignature.timestamp >= 0 else b""
        return self.verify(body.encode("utf-8"), stamp + bytes(cosignature.signature))

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.vkey!r})"


class Cosigner:
    """A witness's private key under its name; signs cosignature/v1 lines."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._verifier = CosignatureVerifier(name, public_raw(private_key))
        self._key = private_key
        self.name = name
        self.key_hash = self._verifier.key_hash

    def cosign(self, body: str, timestamp: int) -> Cosignature:
        """Cosign the checkpoint ``body`` at ``timestamp`` (POSIX seconds, not 0)."""
        if timestamp == 0:
            raise NoteError("tlog-witness: a cosignature's timestamp must not be zero")
        signature = self._key.sign(cosignature_message(body, timestamp))
        return Cosignature(self.name, self.key_hash, timestamp, signature)

    def verifier(self) -> CosignatureVerifier:
        return self._verifier

    @property
    def skey(self) -> str:
        """``PRIVATE+KEY+name+hash8+base64(0x04 || seed)``: keep it secret."""
        raw = bytes([ALG_COSIGNATURE_V1]) + private_raw(self._key)
        return f"PRIVATE+KEY+{self.name}+{self.key_hash:08x}+{b64(raw)}"

    def __repr__(self) -> str:  # never show the private key
        return f"Cosigner({self.name!r}, key_hash={self.key_hash:08x})"


def parse_cosignature_vkey(vkey: str) -> CosignatureVerifier:
    """Parse ``name+hash8+base64(0x04 || pub)``; raise ``NoteError`` unless exact."""
    name, hash16, key = _split_key(vkey, 3)
    verifier = CosignatureVerifier(name, key)
    if verifier.key_hash != int(hash16, 16):
        raise NoteError("verifier key hash does not match the key")
    return verifier


def parse_cosigner_key(skey: str) -> Cosigner:
    """Parse ``PRIVATE+KEY+name+hash8+base64(0x04 || seed)``; raise ``NoteError`` unless exact."""
    if not skey.startswith("PRIVATE+KEY+"):
        raise NoteError("signer key must start with PRIVATE+KEY+")
    name, hash16, seed = _split_key(skey[len("PRIVATE+KEY+") :], 3)
    cosigner = Cosigner(name, Ed25519PrivateKey.from_private_bytes(seed))
    if cosigner.key_hash != int(hash16, 16):
        raise NoteError("signer key hash does not match the key")
    return cosigner


def parse_cosignature_line(line: str) -> Cosignature:
    """Parse one ``— name base64`` line (with or without its newline) as a cosignature/v1.

    Strict: canonical base64 of exactly 76 bytes, a valid key name, a timestamp
    not above 2**63 - 1. It does not check the signature (that needs a key).
    """
    text = line[:-1] if line.endswith("\n") else line
    if not text.startswith(_SIG_PREFIX) or "\n" in text:
        raise NoteError("a cosignature is one signature line")
    name, _, sig64 = text[len(_SIG_PREFIX) :].partition(" ")
    if not is_valid_name(name):
        raise NoteError("bad key name in signature line")
    try:
        blob = unb64(sig64)
    except ValueError as exc:
        raise NoteError("signature is not canonical base64") from exc
    if len(blob) != _BLOB_LEN:
        raise NoteError(f"a cosignature/v1 is {_BLOB_LEN} bytes, not {len(blob)}")
    timestamp = int.from_bytes(blob[4:12], "big")
    _check_timestamp(timestamp)
    return Cosignature(name, int.from_bytes(blob[:4], "big"), timestamp, blob[12:])


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint note opened with log keys and witness keys.

    ``log`` holds the verified log signatures, ``cosignatures`` the verified
    witness cosignatures (one per witness key), ``unknown`` the lines no given
    key matches (ignored, as signed-note requires).
    """

    text: str
    log: list[NoteSignature]
    cosignatures: list[Cosignature]
    unknown: list[NoteSignature]


def open_cosigned(
    note: str | bytes,
    log_verifiers: Iterable[Verifier | str],
    witness_verifiers: Iterable[CosignatureVerifier | str] = (),
) -> CosignedCheckpoint:
    """Open a checkpoint note signed by the log and cosigned by witnesses.

    Raises ``NoteError`` as ``open_note`` does (malformed, a known key's
    signature fails, too many lines), and ``UnverifiedNoteError`` when no
    *log* key signed it: cosignatures alone never make a note valid.
    """
    logs = [_log_verifier(v) for v in log_verifiers]
    witnesses = [parse_cosignature_vkey(v) if isinstance(v, str) else v for v in witness_verifiers]
    opened = open_note(note, [*logs, *witnesses])
    log_keys = {(v.name, v.key_hash) for v in logs}
    on_log = [s for s in opened.verified if (s.name, s.key_hash) in log_keys]
    if not on_log:
        raise UnverifiedNoteError(OpenedNote(text=opened.text, unverified=opened.unverified))
    cosigs = [
        parse_cosignature_line(f"{_SIG_PREFIX}{s.name} {s.base64}")
        for s in opened.verified
        if (s.name, s.key_hash) not in log_keys
    ]
    return CosignedCheckpoint(opened.text, on_log, cosigs, list(opened.unverified))


def _log_verifier(item: Verifier | str) -> Verifier:
    return parse_verifier_key(item) if isinstance(item, str) else item


def _split_key(text: str, parts: int) -> tuple[str, str, bytes]:
    # Split at the first two "+" only: base64 may itself contain "+".
    pieces = text.split("+", parts - 1)
    if len(pieces) != parts:
        raise NoteError("malformed key: expected name+hash+key")
    name, hash16, key64 = pieces
    if not is_valid_name(name) or len(hash16) != 8 or not _is_hex(hash16):
        raise NoteError("malformed key: bad name or hash")
    try:
        raw = unb64(key64)
    except ValueError as exc:
        raise NoteError("malformed key: bad base64") from exc
    if not raw or raw[0] != ALG_COSIGNATURE_V1:
        raise NoteError("not a cosignature/v1 key (type byte 0x04)")
    if len(raw) != 33:
        raise NoteError("malformed key: an Ed25519 key is 32 bytes")
    return name, hash16, raw[1:]


def _is_hex(text: str) -> bool:
    return all(ch in "0123456789abcdefABCDEF" for ch in text)


def _check_timestamp(timestamp: int) -> None:
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp must be an integer in [0, 2**63 - 1]")
