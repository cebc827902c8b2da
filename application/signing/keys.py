"""Ed25519 keys for people and for the log, and the files that hold them.

Two identifiers are derived from a public key, each for its own audience:

* ``note_key_hash(name, public_key)`` is the C2SP signed-note key ID:
  the first 4 bytes, big-endian, of
  ``SHA-256(name || 0x0A || 0x01 || public_key)``. It is what a signature line
  in a signed note (e.g. a checkpoint) carries. It is a hint, not a strong
  identifier: 32 bits collide easily on purpose.
* ``actor_key_id(public_key)`` is the id a person's key is registered under and
  that commands name in ``actor``: ``"pk_"`` followed by the lowercase,
  unpadded RFC 4648 base32 of the first 20 bytes of
  ``SHA-256(b"parindex-actor-key/v1\\n" || public_key)``. 160 bits keeps it
  collision-resistant (about 2**80 work for any collision), the context prefix
  keeps it from equalling any other hash of the same key, and base32 keeps it
  short (35 characters), case-insensitive and free of ``+``, ``/`` and ``=``.
  It depends on the public key only, so it never changes for a given key.

Key file (JSON, UTF-8, mode 0600)::

    {"kind": "parindex-actor-key/v1", "key_id": "pk_...",
     "public_key": "<base64 of 32 bytes>", "private_key": "<base64 of the 32-byte seed>",
     "display_name": "optional"}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ACTOR_KEY_CONTEXT",
    "ACTOR_KEY_FILE_KIND",
    "actor_key_id",
    "b64",
    "generate",
    "load_actor_key_file",
    "load_private_pem",
    "note_key_hash",
    "private_raw",
    "private_to_pem",
    "public_raw",
    "save_actor_key_file",
    "unb64",
    "write_key_file",
]

ACTOR_KEY_CONTEXT = b"parindex-actor-key/v1\n"
ACTOR_KEY_FILE_KIND = "parindex-actor-key/v1"

#: Signature type byte for Ed25519 in C2SP signed-note.
_ALG_ED25519 = b"\x01"
_B64_ALPHABET = re.compile(rb"[A-Za-z0-9+/]*={0,2}\Z")


def generate() -> Ed25519PrivateKey:
    """Return a new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the 32-byte RFC 8032 encoding of the public key of ``key``."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_raw(key: Ed25519PrivateKey) -> bytes:
    """Return the 32-byte seed of ``key`` (the RFC 8032 private key)."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def private_to_pem(key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    """Return ``key`` as PKCS#8 PEM, encrypted with ``password`` if one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_pem(data: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load a PKCS#8 PEM private key; raise ``ValueError`` if it is not Ed25519."""
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def b64(data: bytes) -> str:
    """Standard base64 (RFC 4648 section 4) with padding."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str | bytes) -> bytes:
    """Strictly decode standard padded base64; raise ``ValueError`` otherwise.

    Only the canonical encoding of a byte string is accepted (no whitespace,
    no missing padding, no non-zero spare bits), so each byte string has
    exactly one textual form and a changed character always changes the bytes.
    """
    raw = text.encode("ascii", "strict") if isinstance(text, str) else bytes(text)
    if len(raw) % 4 or not _B64_ALPHABET.match(raw):
        raise ValueError("not canonical padded base64")
    try:
        decoded = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError("not canonical padded base64") from exc
    if base64.b64encode(decoded) != raw:
        raise ValueError("not canonical padded base64")
    return decoded


def note_key_hash(name: str, public_key: bytes) -> int:
    """C2SP signed-note key ID of an Ed25519 key: uint32 of SHA-256(name\\n 0x01 pub)[:4]."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + _ALG_ED25519 + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def actor_key_id(public_key_bytes: bytes) -> str:
    """Return the registered id of a person's key (see the module docstring)."""
    if len(public_key_bytes) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    digest = hashlib.sha256(ACTOR_KEY_CONTEXT + public_key_bytes).digest()[:20]
    return "pk_" + base64.b32encode(digest).decode("ascii").lower()


def write_key_file(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> None:
    """Write secret ``data`` to ``path`` so that it is never readable by others.

    Without ``overwrite`` the file is created with O_EXCL and mode 0600 in one
    step (``FileExistsError`` if it exists), so there is no moment where the
    secret sits in a file with wider permissions. With ``overwrite`` the data
    goes to a 0600 temporary file in the same directory which then atomically
    replaces ``path``; readers see the old key or the new one, never a mix.
    """
    target = Path(path)
    if not overwrite:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            _write_all(fd, data)
        except BaseException:
            os.close(fd)
            target.unlink(missing_ok=True)
            raise
        os.close(fd)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        try:
            # mkstemp already uses 0600; say so explicitly in case that changes.
            os.fchmod(fd, 0o600)
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def save_actor_key_file(
    path: str | os.PathLike[str],
    private_key: Ed25519PrivateKey,
    display_name: str | None = None,
    *,
    overwrite: bool = False,
) -> str:
    """Save a person's key as a 0600 JSON key file and return its key id."""
    public = public_raw(private_key)
    key_id = actor_key_id(public)
    doc: dict[str, Any] = {
        "kind": ACTOR_KEY_FILE_KIND,
        "key_id": key_id,
        "public_key": b64(public),
        "private_key": b64(private_raw(private_key)),
    }
    if display_name is not None:
        doc["display_name"] = display_name
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    write_key_file(path, text.encode("utf-8"), overwrite=overwrite)
    return key_id


def load_actor_key_file(
    path: str | os.PathLike[str],
) -> tuple[str, Ed25519PrivateKey, dict[str, Any]]:
    """Load a person's key file; return ``(key_id, private_key, document)``.

    Raises ``PermissionError`` if the file is accessible to group or others
    (a leaked key must be rotated, not silently used), ``ValueError`` if the
    file is not a consistent ``parindex-actor-key/v1`` document.
    """
    # Check the mode of the file we actually read (fstat on the open fd), not
    # of whatever the path pointed to a moment earlier.
    with open(path, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise PermissionError(
                f"key file {os.fspath(path)!r} has mode {mode:04o}; it must not be readable "
                f"or writable by group or others. Run: chmod 600 {os.fspath(path)}"
            )
        raw = handle.read()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"key file {os.fspath(path)!r} is not UTF-8 JSON") from exc
    if not isinstance(doc, dict) or doc.get("kind") != ACTOR_KEY_FILE_KIND:
        raise ValueError(f"key file {os.fspath(path)!r} is not a {ACTOR_KEY_FILE_KIND} file")
    try:
        seed = unb64(doc["private_key"])
        public = unb64(doc["public_key"])
        key_id = doc["key_id"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"key file {os.fspath(path)!r} is missing or garbles a field") from exc
    if len(seed) != 32:
        raise ValueError(f"key file {os.fspath(path)!r}: private_key is not a 32-byte seed")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    # The public key and id are redundant; a mismatch means the file was
    # edited or corrupted, and using it would sign under someone else's id.
    if public_raw(private_key) != public:
        raise ValueError(f"key file {os.fspath(path)!r}: public_key does not match private_key")
    if key_id != actor_key_id(public):
        raise ValueError(f"key file {os.fspath(path)!r}: key_id does not match the key")
    return key_id, private_key, doc
