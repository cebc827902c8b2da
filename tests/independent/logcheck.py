"""Leaf hashes, Merkle roots, consistency proofs, log keys and checkpoints.

Written from docs/FORMATS.md sections 2.3, 5 and 6 alone: nothing of the project
is imported, only hashlib, base64, struct and `cryptography`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LEAF_CONTEXT = b"parindex-event/v1\n"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def unb64(text: str, *, canonical: bool = True) -> bytes:
    """Section 1: standard alphabet with padding; canonical unless told otherwise."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError("not base64") from e
    if canonical and base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


# -- 5.1, 5.2 ---------------------------------------------------------------------
def leaf_hash(originator_id: uuid.UUID, version: int, topic: str, state: bytes) -> bytes:
    t = topic.encode("utf-8")
    leaf = (
        LEAF_CONTEXT
        + originator_id.bytes
        + struct.pack(">Q", version)
        + struct.pack(">I", len(t))
        + t
        + struct.pack(">I", len(state))
        + state
    )
    return sha256(b"\x00" + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def mth(hashes: list[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two below n
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def consistency_ok(m: int, n: int, root1: bytes, root2: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2, with the size-0 rule of FORMATS.md 5.5."""
    if any(len(h) != 32 for h in [root1, root2, *proof]) or m > n:
        return False
    if m == 0:
        return not proof and root1 == EMPTY_ROOT and (n > 0 or root2 == EMPTY_ROOT)
    if m == n:
        return not proof and root1 == root2
    if not proof:
        return False
    if m & (m - 1) == 0:  # a power of two: the old root is the first node
        proof = [root1, *proof]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


# -- 2.3 the log key ------------------------------------------------------------------
@dataclass(frozen=True)
class LogKey:
    name: str
    key_hash: bytes  # 4 bytes
    public: bytes  # 32 bytes


def key_name_ok(name: str) -> bool:
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name)
    )


def parse_vkey(vkey: str) -> LogKey:
    parts = vkey.split("+", 2)
    if len(parts) != 3 or not key_name_ok(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise ValueError("not a vkey")
    raw = unb64(parts[2])
    if len(raw) != 33 or raw[0] != 0x01:
        raise ValueError("not an Ed25519 vkey")
    kh = sha256(parts[0].encode("utf-8") + b"\n" + raw)[:4]
    if kh.hex() != parts[1]:
        raise ValueError("key hash differs")
    return LogKey(parts[0], kh, raw[1:])


# -- 6 checkpoints --------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: bytes


def parse_checkpoint(note: str) -> Checkpoint:
    """6.1 and the split rule of 6.2; raises ValueError when the body does not parse."""
    at = note.rfind("\n\n")
    if at < 0:
        raise ValueError("no signature block")
    body = note[: at + 1]
    lines = body.split("\n")[:-1]
    if len(lines) < 3 or not key_name_ok(lines[0]):
        raise ValueError("short body")
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]) or int(lines[1]) >= 1 << 64:
        raise ValueError("size")
    root = unb64(lines[2])
    if len(root) != 32 or any(not x for x in lines[3:]):
        raise ValueError("root")
    return Checkpoint(lines[0], int(lines[1]), root, body.encode("utf-8"))


def checkpoint_signed(note: str, cp: Checkpoint, key: LogKey) -> bool:
    sigs = note[note.rfind("\n\n") + 2 :]
    for line in sigs.split("\n"):
        if not line.startswith("\u2014 "):
            continue
        name, _, b64 = line[2:].rpartition(" ")
        if name != key.name:
            continue
        try:
            raw = unb64(b64)
        except ValueError:
            continue
        if len(raw) != 68 or raw[:4] != key.key_hash:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public).verify(raw[4:], cp.body)
            return True
        except InvalidSignature:
            continue
    return False
