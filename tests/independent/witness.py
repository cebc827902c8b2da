"""A tlog witness written from the C2SP texts alone, to check parindex's witness against.

Sources, nothing else: c2sp.org/tlog-witness (add-checkpoint),
c2sp.org/tlog-cosignature (cosignature/v1), c2sp.org/signed-note,
c2sp.org/tlog-checkpoint and RFC 6962 / RFC 9162 (Merkle consistency). It
imports no project code: hashlib, base64 and ``cryptography`` only. It keeps
its state in memory, or in a JSON file if one is given.

Where the texts leave a choice, the choice made here is written next to it;
the parindex witness made the same ones or the tests would disagree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DASH = "\u2014 "
EMPTY = hashlib.sha256(b"").digest()
# signed-note: verifiers must accept at least 16 signatures; the limit is ours.
MAX_SIGNATURES = 64
# Not in the texts: a bound so a witness cannot be made to read without end.
MAX_BODY = 64 * 1024


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """signed-note: SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def _b64(text: str) -> bytes | None:
    """Standard base64 (RFC 4648 section 4), padded; None if it does not decode."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def _b64_canonical(text: str) -> bytes | None:
    """As ``_b64``, refusing non-zero pad bits (RFC 4648 section 3.5 allows that).

    Choice: proof lines and roots must be canonical, so a changed character
    always changes the hash (a 400, not a 422). Signature lines are decoded
    leniently, as Go does: a mangled signature of a known key then fails to
    verify and gets the 403 the published vectors expect.
    """
    raw = _b64(text)
    return raw if raw is not None and base64.b64encode(raw).decode() == text else None


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Key:
    name: str
    kind: int  # 0x01 log (Ed25519 note signature), 0x04 witness (cosignature/v1)
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)


def parse_vkey(vkey: str) -> Key:
    """signed-note "Verifier keys": name+hex(key ID)+base64(type || key)."""
    name, _, rest = vkey.partition("+")
    hex_id, _, key64 = rest.partition("+")
    raw = _b64(key64) or b""
    if len(raw) != 33 or raw[0] not in (1, 4):
        raise ValueError("not an Ed25519 vkey")
    key = Key(name, raw[0], raw[1:])
    if key.id.hex() != hex_id.lower():
        raise ValueError("key ID does not match")
    return key


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """tlog-cosignature: "cosignature/v1\\n", "time <t>\\n", then the note body."""
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body


def signature_ok(key: Key, body: bytes, sig: bytes) -> bool:
    """Check the bytes after the key ID of a signature line, for either key type."""
    public = Ed25519PublicKey.from_public_bytes(key.public)
    if key.kind == 4:
        if len(sig) != 8 + 64:
            return False
        timestamp = int.from_bytes(sig[:8], "big")
        if timestamp > 2**63 - 1:
            return False
        message, sig = cosigned_message(body, timestamp), sig[8:]
    else:
        message = body
    try:
        public.verify(sig, message)
    except InvalidSignature:
        return False
    return True


class Malformed(Exception):
    pass


class BadSignature(Exception):
    pass


def open_note(note: str, keys: list[Key]) -> tuple[str, list[str]]:
    """signed-note: (text, the lines of known keys that verified).

    Malformed -> ``Malformed``; a known key (name and ID) whose signature
    fails, or no known key at all -> ``BadSignature``. Unknown keys are ignored.
    """
    if any(ch < " " and ch != "\n" for ch in note):
        raise Malformed("control character")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise Malformed("no signatures")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Malformed("too many signatures")
    good = []
    for line in lines:
        if not line.startswith(DASH):
            raise Malformed("not a signature line")
        name, _, sig64 = line[len(DASH) :].partition(" ")
        blob = _b64(sig64)
        if not name or "+" in name or any(c.isspace() for c in name) or not blob or len(blob) < 5:
            raise Malformed("bad signature line")
        for key in keys:
            if key.name == name and key.id == blob[:4]:
                if not signature_ok(key, text.encode(), blob[4:]):
                    raise BadSignature(name)
                good.append(line + "\n")
    if not good:
        raise BadSignature("no known key signed")
    return text, good


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """tlog-checkpoint: origin, size (decimal, no leading zero), base64 root; extensions ignored."""
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise Malformed("checkpoint lines")
    origin, size, root64 = lines[:3]
    if not size.isascii() or not size.isdigit() or (size != "0" and size[0] == "0"):
        raise Malformed("tree size")
    root = _b64_canonical(root64)
    if root is None or len(root) != 32 or int(size) >= 2**64:
        raise Malformed("root hash")
    return origin, int(size), root


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def consistent(m: int, n: int, old: bytes, new: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2, for 0 < m <= n (m == n: empty proof, equal roots)."""
    if m == n:
        return not proof and old == new
    if not proof:
        return False
    if m & (m - 1) == 0:
        proof = [old, *proof]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old and sr == new


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


class SpecWitness:
    """tlog-witness add-checkpoint, one Ed25519 cosignature/v1 key, logs by origin."""

    def __init__(self, name: str, seed: bytes, log_vkeys: list[str], state_file: str = ""):
        self.name = name
        self.private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = _raw(self.private.public_key())
        self.logs: dict[str, list[Key]] = {}
        for vkey in log_vkeys:
            key = parse_vkey(vkey)
            self.logs.setdefault(key.name, []).append(key)
        self.state_file = state_file
        self.latest: dict[str, tuple[int, bytes]] = {}
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as f:
                saved = json.load(f)  # a broken file raises: never start empty
            self.latest = {o: (s, bytes.fromhex(r)) for o, (s, r) in saved.items()}
        self.clock = time.time

    @property
    def vkey(self) -> str:
        key = Key(self.name, 4, self.public)
        return f"{self.name}+{key.id.hex()}+{base64.b64encode(bytes([4]) + self.public).decode()}"

    def cosign(self, text: str, timestamp: int) -> str:
        sig = self.private.sign(cosigned_message(text.encode(), timestamp))
        blob = Key(self.name, 4, self.public).id + timestamp.to_bytes(8, "big") + sig
        return f"{DASH}{self.name} {base64.b64encode(blob).decode()}\n"

    def add_checkpoint(self, body: bytes) -> Answer:
        if len(body) > MAX_BODY:
            return Answer(413, "text/plain", b"too large\n")
        try:
            return self._add(body.decode("utf-8"))
        except UnicodeDecodeError:
            return Answer(400, "text/plain", b"not UTF-8\n")
        except Malformed as exc:
            return Answer(400, "text/plain", f"{exc}\n".encode())

    def _add(self, body: str) -> Answer:
        # "a sequence of an old size line, proof lines, an empty line, a checkpoint"
        head, sep, note = body.partition("\n\n")
        if not sep:
            raise Malformed("no empty line")
        lines = head.split("\n")
        old = lines[0].removeprefix("old ")
        if lines[0] == old or not old.isascii() or not old.isdigit():
            raise Malformed("old line")
        if old != "0" and old.startswith("0"):
            raise Malformed("old line: leading zero")
        if int(old) >= 2**64:
            raise Malformed("old line: size")
        if len(lines) - 1 > 63:  # "the client MUST NOT send more than 63"
            raise Malformed("too many proof lines")
        proof = [_b64_canonical(line) for line in lines[1:]]
        if any(p is None or len(p) != 32 for p in proof):
            raise Malformed("proof line")
        origin = note.split("\n", 1)[0]
        if origin not in self.logs:
            return Answer(404, "text/plain", b"unknown log\n")
        try:
            text, log_lines = open_note(note, self.logs[origin])
        except BadSignature:
            return Answer(403, "text/plain", b"invalid signature\n")
        _, size, root = parse_checkpoint(text)
        old_size = int(old)
        if old_size > size:
            raise Malformed("old size above checkpoint size")
        stored_size, stored_root = self.latest.get(origin, (0, EMPTY))
        if old_size != stored_size:
            return Answer(409, "text/x.tlog.size", f"{stored_size}\n".encode())
        if size == 0 and root != EMPTY:
            return Answer(422, "text/plain", b"empty tree, wrong root\n")
        if old_size == 0:
            if proof:
                return Answer(422, "text/plain", b"proof from size 0 must be empty\n")
        elif not consistent(old_size, size, stored_root, root, proof):
            return Answer(422, "text/plain", b"consistency proof\n")
        self.latest[origin] = (size, root)
        self._save()
        return Answer(200, "text/plain", self.cosign(text, int(self.clock())).encode())

    def _save(self) -> None:
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({o: [s, r.hex()] for o, (s, r) in self.latest.items()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)


def verify_cosignature(checkpoint_note: str, line: str, witness_vkey: str) -> int:
    """Check one cosignature line against a checkpoint note; return its timestamp.

    Raises ``ValueError`` if the line is not a valid cosignature/v1 by that key.
    """
    key = parse_vkey(witness_vkey)
    if key.kind != 4:
        raise ValueError("not a cosignature/v1 key")
    cut = checkpoint_note.rfind("\n\n")
    body = (checkpoint_note[: cut + 1] if cut >= 0 else checkpoint_note).encode()
    name, _, sig64 = line.rstrip("\n").removeprefix(DASH).partition(" ")
    blob = _b64(sig64)
    if name != key.name or not blob or blob[:4] != key.id or not signature_ok(key, body, blob[4:]):
        raise ValueError("cosignature does not verify")
    return int.from_bytes(blob[4:12], "big")
