"""Signed command envelopes: parse, canonicalize, check the signature.

An envelope is `{"command": {...}, "signature": "<base64 Ed25519>"}`. The
signature covers `b"parindex-command/v1\\n" + JCS(command)`. Every command has
`type`, `id`, `issued_at` (RFC 3339 UTC with Z) and `actor` (a key id).

Every command is bounded before it is read further (docs/API.md "Limits"): an
envelope nests at most 32 levels of arrays and objects, and a command's
canonical form is at most 64 KiB (1 MiB for `publish_framework`,
`open_cycle` and `add_units`, which carry a whole framework or a province's
unit list). The log
is permanent: nobody may add megabytes to it with one signature.
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
from domain.ids import KEY_ID

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_TS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_TYPE = re.compile(r"[a-z][a-z_]{0,63}")

MAX_DEPTH = 32  # levels of arrays and objects in an envelope; the envelope is level 1
MAX_COMMAND_BYTES = 64 * 1024  # JCS(command), UTF-8
LARGE_COMMAND_BYTES = {
    "publish_framework": 1024 * 1024,
    "open_cycle": 1024 * 1024,
    "add_units": 1024 * 1024,
    "record_improvement_plan": 1024 * 1024,
    "link_previous_cycle": 1024 * 1024,
    "import_past_results": 4 * 1024 * 1024,
    "propose_ranking": 4 * 1024 * 1024,
}


def command_limit(command_type: str) -> int:
    """The most bytes JCS(command) may have for a command of this type."""
    return LARGE_COMMAND_BYTES.get(command_type, MAX_COMMAND_BYTES)


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """True when `value` nests more than `limit` arrays/objects. Iterative: the
    recursive checks that follow (canonicalization) only ever see bounded depth."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


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
        raise _malformed(
            f"'{field}' không phải ngày giờ hợp lệ", f"'{field}' is not a valid date-time", field
        ) from None


def parse_envelope(envelope: object) -> SignedCommand:
    """Checks the envelope's shape and canonicalizes the command. No key lookup."""
    if too_deep(envelope):
        raise CommandRejected(
            "json_too_deep",
            f"tối đa {MAX_DEPTH} cấp",
            f"at most {MAX_DEPTH} levels",
            field="command",
        )
    if not isinstance(envelope, dict) or set(envelope) != {"command", "signature"}:
        raise _malformed(
            "phong bì phải là đối tượng JSON có đúng hai trường 'command' và 'signature'",
            "the envelope must be a JSON object with exactly 'command' and 'signature'",
        )
    command, sig = envelope["command"], envelope["signature"]
    if not isinstance(command, dict):
        raise _malformed(
            "'command' phải là đối tượng JSON", "'command' must be an object", "command"
        )
    for name in ("type", "id", "actor"):
        if not isinstance(command.get(name), str) or not command[name]:
            raise _malformed(
                f"thiếu trường '{name}' (chuỗi)", f"missing string field '{name}'", name
            )
    if not _ID.fullmatch(command["id"]):
        raise _malformed(
            "'id' chỉ gồm chữ, số và . _ : - (tối đa 128 ký tự)",
            "'id' must be 1-128 letters, digits or . _ : -",
            "id",
        )
    if not _TYPE.fullmatch(command["type"]):
        raise _malformed(
            "'type' là tên lệnh chữ thường, ví dụ record_self_score",
            "'type' must be a lowercase command name such as record_self_score",
            "type",
        )
    if not KEY_ID.pattern.fullmatch(command["actor"]):
        raise _malformed(
            "'actor' là mã khóa dạng pk_ và 32 ký tự a-z, 2-7",
            "'actor' must be a key id: pk_ and 32 characters a-z, 2-7",
            "actor",
        )
    issued_at = parse_timestamp(command.get("issued_at"))
    try:
        signature = base64.b64decode(sig, validate=True) if isinstance(sig, str) else b""
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise _malformed(
            "'signature' phải là chữ ký Ed25519 64 byte mã hóa base64",
            "'signature' must be a base64 64-byte Ed25519 signature",
            "signature",
        )
    try:
        canonical = canonicalize_command(command)
    except ValueError as e:
        reason = str(e) if len(str(e)) <= 200 else str(e)[:200] + "…"
        raise _malformed(
            f"không chuẩn hóa được JSON ({reason})", f"cannot canonicalize ({reason})", "command"
        ) from None
    limit = command_limit(command["type"])
    if len(canonical) > limit:
        raise CommandRejected(
            "command_too_large",
            f"{len(canonical)} byte, tối đa {limit} byte cho lệnh {command['type']}",
            f"{len(canonical)} bytes, at most {limit} for {command['type']}",
            field="command",
        )
    return SignedCommand(command, canonical, signature, issued_at)


def sign_command(command: dict, private_key) -> dict:
    """Client side: the envelope for a command signed with an Ed25519 private key."""
    sig = private_key.sign(COMMAND_CONTEXT + canonicalize_command(command))
    return {"command": command, "signature": base64.b64encode(sig).decode("ascii")}


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
