"""Signed command envelopes: parse, canonicalize, check the signature.

An envelope is `{"command": {...}, "signature": "<base64 Ed25519>"}`. The
signature covers `b"parindex-command/v1\\n" + JCS(command)`. Every command has
`type`, `id`, `issued_at` (RFC 3339 UTC with Z) and `actor` (a key id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.errors import CommandRejected
from application.signing.jcs import COMMAND_CONTEXT, canonicalize_command

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


@dataclass(frozen=True)
class SignedCommand:
    command: dict
    canonical: bytes  # JCS(command), the exact bytes signed after the context line
    signature: bytes
    issued_at: datetime

    @property
    def type(self) -> str:
        return self.command["type"]

    @property
    def id(self) -> str:
        return self.command["id"]

    @property
    def actor(self) -> str:
        return self.command["actor"]

    @property
    def digest(self) -> str:
        """Identifies the exact command and signature, for idempotency."""
        return hashlib.sha256(self.canonical + b"\n" + self.signature).hexdigest()

    def stored(self) -> dict:
        """What every event keeps so anyone can re-check the signature later."""
        return {
            "command": self.canonical.decode("utf-8"),
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "key_id": self.actor,
        }

    def reference(self) -> dict:
        """What an event that does not carry `signed` keeps instead: the id and
        digest of the command whose `signed` copy is in an earlier event of the
        same run of leaves (docs/FORMATS.md 4.4)."""
        return {"id": self.id, "digest": self.digest}

    def verify(self, public_key: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                self.signature, COMMAND_CONTEXT + self.canonical
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def _malformed(vi: str, en: str, field: str | None = None) -> CommandRejected:
    return CommandRejected("malformed_command", vi, en, field=field)


def parse_timestamp(value: object, field: str = "issued_at") -> datetime:
    if not isinstance(value, str) or not _TS.fullmatch(value):
        raise _malformed(
            f"'{field}' phải là thời điểm UTC dạng RFC 3339 kết thúc bằng Z",
            f"'{field}' must be an RFC 3339 UTC timestamp ending in Z",
            field,
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise _malformed(f"'{field}' không phải ngày giờ hợp lệ",
                         f"'{field}' is not a valid date-time", field) from None


def parse_envelope(envelope: object) -> SignedCommand:
    """Checks the envelope's shape and canonicalizes the command. No key lookup."""
    if not isinstance(envelope, dict) or set(envelope) != {"command", "signature"}:
        raise _malformed(
            "phong bì phải là đối tượng JSON có đúng hai trường 'command' và 'signature'",
            "the envelope must be a JSON object with exactly 'command' and 'signature'",
        )
    command, sig = envelope["command"], envelope["signature"]
    if not isinstance(command, dict):
        raise _malformed("'command' phải là đối tượng JSON", "'command' must be an object",
                         "command")
    for name in ("type", "id", "actor"):
        if not isinstance(command.get(name), str) or not command[name]:
            raise _malformed(f"thiếu trường '{name}' (chuỗi)",
                             f"missing string field '{name}'", name)
    if not _ID.fullmatch(command["id"]):
        raise _malformed("'id' chỉ gồm chữ, số và . _ : - (tối đa 128 ký tự)",
                         "'id' must be 1-128 letters, digits or . _ : -", "id")
    issued_at = parse_timestamp(command.get("issued_at"))
    try:
        signature = base64.b64decode(sig, validate=True) if isinstance(sig, str) else b""
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise _malformed("'signature' phải là chữ ký Ed25519 64 byte mã hóa base64",
                         "'signature' must be a base64 64-byte Ed25519 signature", "signature")
    try:
        canonical = canonicalize_command(command)
    except ValueError as e:
        raise _malformed(f"không chuẩn hóa được JSON ({e})",
                         f"cannot canonicalize ({e})", "command") from None
    return SignedCommand(command, canonical, signature, issued_at)


def sign_command(command: dict, private_key) -> dict:
    """Client side: the envelope for a command signed with an Ed25519 private key."""
    sig = private_key.sign(COMMAND_CONTEXT + canonicalize_command(command))
    return {"command": command, "signature": base64.b64encode(sig).decode("ascii")}


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
