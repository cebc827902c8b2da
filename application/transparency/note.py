"""C2SP signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint).

Byte-compatible with golang.org/x/mod/sumdb/note, so any Go (or other C2SP)
tool can check our checkpoints. A signed note is::

    <text, ending in "\\n">
    <blank line>
    — <key name> <base64(4-byte big-endian key hash || 64-byte Ed25519 signature)>
    ...one such line per signature

The signature covers the text including its final newline. Keys travel as
``name+hash8+base64(0x01 || public key)`` (verifier keys) and
``PRIVATE+KEY+name+hash8+base64(0x01 || seed)`` (signer keys).

`open_note` applies Go's ``note.Open`` rules, plus two strictnesses, both of
which only reject notes no honest signer produces:

* base64 must be canonical (Go ignores the spare low bits of the last
  character), so changing any character of a signature line changes its bytes;
* a repeated signature line from a known key that is not byte-identical to
  the first is verified too (C2SP: signatures from known keys MUST be
  verified); Go skips every repeat of a known key unverified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from application.signing.keys import b64, note_key_hash, private_raw, public_raw, unb64

__all__ = [
    "MAX_SIGNATURES",
    "BadSignatureError",
    "Checkpoint",
    "NoteError",
    "NoteSignature",
    "OpenedNote",
    "Signer",
    "UnverifiedNoteError",
    "Verifier",
    "format_signer_key",
    "format_verifier_key",
    "is_valid_name",
    "open_note",
    "parse_checkpoint",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
]

#: Go's limit; C2SP asks verifiers to accept at least 16.
MAX_SIGNATURES = 100
_SIG_PREFIX = "\u2014 "  # em dash, space
_ALG_ED25519 = 1
_HASH8 = re.compile(r"[0-9A-Fa-f]{8}\Z")
_TREE_SIZE = re.compile(r"(?:0|[1-9][0-9]*)\Z")
# Go's unicode.IsSpace (the Unicode White_Space property).
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class NoteError(ValueError):
    """A note, key or checkpoint is malformed, or its signatures do not check out."""


class BadSignatureError(NoteError):
    """A signature line names a known key (name and key hash) but does not verify."""


class UnverifiedNoteError(NoteError):
    """The note is well formed but no known key signed it; ``note`` holds what was parsed."""

    def __init__(self, note: OpenedNote) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key hash, and the base64 exactly as written."""

    name: str
    key_hash: int
    base64: str


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures were checked: text plus verified and unknown signers."""

    text: str
    verified: list[NoteSignature] = field(default_factory=list)
    unverified: list[NoteSignature] = field(default_factory=list)


def is_valid_name(name: str) -> bool:
    """C2SP key name: non-empty, no Unicode space, no ``+``, no control character."""
    if not isinstance(name, str) or not name or "+" in name:
        return False
    if any(ch in _SPACES or ch < " " for ch in name):
        return False
    return _is_unicode(name)


def named_public_key(
    name: str, public_key: bytes | Ed25519PublicKey
) -> tuple[str, bytes, Ed25519PublicKey]:
    """(name, 32 raw bytes, key) of a valid key name and Ed25519 public key;
    NoteError otherwise. What a note verifier and a cosignature verifier share."""
    if not is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}")
    raw = public_key if isinstance(public_key, bytes) else public_raw(public_key)
    if len(raw) != 32:
        raise NoteError("an Ed25519 public key is 32 bytes")
    try:
        return name, raw, Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise NoteError("invalid Ed25519 public key") from exc


class Verifier:
    """An Ed25519 public key under a key name, able to check note signatures."""

    def __init__(self, name: str, public_key: bytes | Ed25519PublicKey) -> None:
        self.name, self.public_key, self._key = named_public_key(name, public_key)
        self.key_hash = note_key_hash(name, self.public_key)

    @property
    def vkey(self) -> str:
        """This key in verifier-key form ``name+hash8+base64(0x01||pub)``."""
        return format_verifier_key(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if ``signature`` is a valid Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier({self.vkey!r})"


class Signer:
    """An Ed25519 private key under a key name, able to sign notes."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not is_valid_name(name):
            raise NoteError(f"invalid key name {name!r}")
        self.name = name
        self._key = private_key
        self.public_key = public_raw(private_key)
        self.key_hash = note_key_hash(name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)

    def verifier(self) -> Verifier:
        """The matching verifier."""
        return Verifier(self.name, self.public_key)

    def __repr__(self) -> str:  # never show the private key
        return f"Signer({self.name!r}, key_hash={self.key_hash:08x})"


def format_verifier_key(name: str, public_key: bytes | Ed25519PublicKey) -> str:
    """Return ``name+hash8+base64(0x01 || public key)``."""
    verifier = Verifier(name, public_key)
    raw = bytes([_ALG_ED25519]) + verifier.public_key
    return f"{name}+{verifier.key_hash:08x}+{b64(raw)}"


def format_signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return ``PRIVATE+KEY+name+hash8+base64(0x01 || seed)``; keep it secret."""
    signer = Signer(name, private_key)
    raw = bytes([_ALG_ED25519]) + private_raw(private_key)
    return f"PRIVATE+KEY+{name}+{signer.key_hash:08x}+{b64(raw)}"


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse a verifier key; raise ``NoteError`` unless it is exactly well formed."""
    name, rest = _chop(vkey, "+")
    hash16, key64 = _chop(rest, "+")
    key = _key_material(name, hash16, key64)
    verifier = Verifier(name, key)
    if verifier.key_hash != int(hash16, 16):
        raise NoteError("verifier key hash does not match the key")
    return verifier


def parse_signer_key(skey: str) -> Signer:
    """Parse a signer key; raise ``NoteError`` unless it is exactly well formed."""
    priv1, rest = _chop(skey, "+")
    priv2, rest = _chop(rest, "+")
    name, rest = _chop(rest, "+")
    hash16, key64 = _chop(rest, "+")
    if priv1 != "PRIVATE" or priv2 != "KEY":
        raise NoteError("signer key must start with PRIVATE+KEY+")
    seed = _key_material(name, hash16, key64)
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    # The hash is of the public key; only now that it is derived can it be checked.
    if signer.key_hash != int(hash16, 16):
        raise NoteError("signer key hash does not match the key")
    return signer


def _key_material(name: str, hash16: str, key64: str) -> bytes:
    if not is_valid_name(name) or not _HASH8.match(hash16):
        raise NoteError("malformed key: bad name or hash")
    try:
        key = unb64(key64)
    except ValueError as exc:
        raise NoteError("malformed key: bad base64") from exc
    if not key:
        raise NoteError("malformed key: empty")
    if key[0] != _ALG_ED25519:
        raise NoteError(f"unknown key algorithm {key[0]}")
    if len(key) != 33:
        raise NoteError("malformed key: an Ed25519 key is 32 bytes")
    return key[1:]


def sign_note(text: str, signers: Iterable[Signer]) -> str:
    """Sign ``text`` with every signer and return the signed note.

    ``text`` must end in a newline, be valid Unicode without control
    characters other than newline, and contain no line that starts like a
    signature line ("— "), so nobody reading it can mistake text for a
    signature. Each (name, key hash) may sign once.
    """
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("note text must end in a newline")
    if not _is_clean(text):
        raise NoteError("note text must be valid Unicode with no control character but newline")
    if any(line.startswith(_SIG_PREFIX) for line in text.split("\n")):
        raise NoteError("note text must not contain signature lines")
    message = text.encode("utf-8")
    lines: list[str] = []
    seen: set[tuple[str, int]] = set()
    for signer in signers:
        if (signer.name, signer.key_hash) in seen:
            raise NoteError(f"key {signer.name}+{signer.key_hash:08x} listed twice")
        seen.add((signer.name, signer.key_hash))
        blob = signer.key_hash.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"{_SIG_PREFIX}{signer.name} {b64(blob)}\n")
    if not lines:
        raise NoteError("a note needs at least one signer")
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, verifiers: Iterable[Verifier | str]) -> OpenedNote:
    """Parse ``note`` and check its signatures against the known ``verifiers``.

    Raises ``NoteError`` if the note is malformed, has more than
    ``MAX_SIGNATURES`` signature lines, carries a signature from a known key
    that fails, or names two different known keys with the same name and hash;
    ``UnverifiedNoteError`` (a ``NoteError``) if no known key signed it.
    Signatures by unknown keys are returned as ``unverified``. A known key's
    failing signature raises ``BadSignatureError``. A verifier is anything with
    ``name``, ``key_hash``, ``public_key`` and ``verify(message, signature)``:
    a ``Verifier`` here, or a witness's ``CosignatureVerifier`` (cosignature.py).
    """
    if isinstance(note, (bytes, bytearray, memoryview)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("malformed note: not UTF-8") from exc
    if not _is_clean(note):
        raise NoteError("malformed note: control character or invalid Unicode")
    known = _index(verifiers)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before signatures")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs.endswith("\n"):
        raise NoteError("malformed note: signature block must end in a newline")
    message = text.encode("utf-8")
    opened = OpenedNote(text=text)
    seen_lines: set[str] = set()
    seen_keys: set[tuple[str, int]] = set()
    for count, line in enumerate(sigs[:-1].split("\n"), start=1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError("malformed note: line after the blank line is not a signature")
        body = line[len(_SIG_PREFIX) :]
        name, sig64 = _chop(body, " ")
        try:
            blob = unb64(sig64)
        except ValueError:
            blob = b""
        if not is_valid_name(name) or not sig64 or len(blob) < 5:
            raise NoteError("malformed note: bad signature line")
        if count > MAX_SIGNATURES:
            raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
        key_hash = int.from_bytes(blob[:4], "big")
        entry = NoteSignature(name=name, key_hash=key_hash, base64=sig64)
        # Byte-identical repeats carry no information; drop them (as Go does).
        if body in seen_lines:
            continue
        seen_lines.add(body)
        candidates = known.get((name, key_hash))
        if candidates is None:
            opened.unverified.append(entry)
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {name}+{key_hash:08x}")
        if not candidates[0].verify(message, blob[4:]):
            raise BadSignatureError(f"invalid signature for key {name}+{key_hash:08x}")
        if (name, key_hash) not in seen_keys:
            seen_keys.add((name, key_hash))
            opened.verified.append(entry)
    if not opened.verified:
        raise UnverifiedNoteError(opened)
    return opened


def _index(verifiers: Iterable[Verifier | str]) -> dict[tuple[str, int], list[Verifier]]:
    known: dict[tuple[str, int], list[Verifier]] = {}
    for item in verifiers:
        verifier = parse_verifier_key(item) if isinstance(item, str) else item
        same = known.setdefault((verifier.name, verifier.key_hash), [])
        # The same key listed twice is harmless; two different keys under one
        # (name, hash) are ambiguous and only fail if a note names them.
        if all(v.public_key != verifier.public_key for v in same):
            same.append(verifier)
    return known


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, RFC 6962 root, extension lines.

    Construction validates everything, so a ``Checkpoint`` always formats.
    ``extensions`` may be given as a list; it is stored as a tuple.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if not isinstance(self.origin, str) or not self.origin or not _is_line(self.origin):
            raise NoteError("checkpoint origin must be one non-empty line")
        if type(self.size) is not int or not 0 <= self.size < 2**64:
            raise NoteError("checkpoint size must be an integer in [0, 2**64)")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise NoteError("checkpoint root must be 32 bytes (SHA-256)")
        for line in self.extensions:
            if not isinstance(line, str) or not line or not _is_line(line):
                raise NoteError("checkpoint extension lines must be non-empty single lines")

    def format(self) -> str:
        """Return the note text: ``origin\\nsize\\nbase64(root)\\n`` then extension lines."""
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body strictly (C2SP tlog-checkpoint).

    Rejects: a missing final newline, fewer than three lines, an empty origin,
    a size that is not canonical decimal (no sign, no leading zero unless
    ``0``) or does not fit 64 bits, a root that is not canonical base64 of
    exactly 32 bytes, an empty extension line.
    """
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("checkpoint must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not _TREE_SIZE.match(size_text) or len(size_text) > 20:
        raise NoteError(f"checkpoint size {size_text!r} is not a canonical decimal")
    try:
        root = unb64(root_text)
    except ValueError as exc:
        raise NoteError("checkpoint root is not canonical base64") from exc
    if len(root) != 32:
        raise NoteError(f"checkpoint root is {len(root)} bytes, not 32")
    return Checkpoint(origin=origin, size=int(size_text), root=root, extensions=extensions)


def _chop(text: str, sep: str) -> tuple[str, str]:
    before, found, after = text.partition(sep)
    return (before, after) if found else (text, "")


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_clean(text: str) -> bool:
    return _is_unicode(text) and not any(ch < " " and ch != "\n" for ch in text)


def _is_line(text: str) -> bool:
    return _is_unicode(text) and not any(ch < " " for ch in text)
