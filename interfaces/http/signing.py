"""Signed read requests: the `Authorization: Parindex-Sig ...` header (docs/API.md).

    Authorization: Parindex-Sig keyId="pk_...", created="2026-11-25T10:00:00Z",
                   signature="<base64 Ed25519 signature>"

The signature covers, as UTF-8 bytes joined by "\\n":

    b"parindex-request/v1\\n" + METHOD + "\\n" + TARGET + "\\n" + CREATED + "\\n"
    + lowercase hex SHA-256 of the body (of b"" when there is none)

METHOD is upper case; TARGET is the path as the server sees it after percent-
decoding, followed by "?" and the query string exactly as sent when there is
one. This module holds no Flask: clients import it to sign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

REQUEST_CONTEXT = b"parindex-request/v1\n"
SCHEME = "Parindex-Sig"
MAX_HEADER = 512  # a well-formed header is about 190 characters
_PARAM = re.compile(r'\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)')
_KEY_ID = re.compile(r"pk_[a-z2-7]{32}")
_CREATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")


class MalformedHeader(ValueError):
    """The header is not a well-formed Parindex-Sig header; says why in both languages
    and never echoes the header."""

    def __init__(self, vi: str, en: str):
        super().__init__(en)
        self.vi, self.en = vi, en


@dataclass(frozen=True)
class RequestSignature:
    key_id: str
    created: str  # as sent: the signature covers these exact characters
    created_at: datetime
    signature: bytes


def request_message(method: str, target: str, created: str, body: bytes = b"") -> bytes:
    """The exact bytes a request signature covers."""
    digest = hashlib.sha256(body).hexdigest()
    text = "\n".join((method.upper(), target, created, digest))
    return REQUEST_CONTEXT + text.encode("utf-8")


def created_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def authorization(
    key_id: str,
    private_key: Ed25519PrivateKey,
    method: str,
    target: str,
    body: bytes = b"",
    created: str | None = None,
) -> str:
    """The Authorization header value for one request (client side)."""
    created = created or created_now()
    sig = private_key.sign(request_message(method, target, created, body))
    return (
        f'{SCHEME} keyId="{key_id}", created="{created}", '
        f'signature="{base64.b64encode(sig).decode("ascii")}"'
    )


def parse_created(text: str) -> datetime:
    """`created` as a UTC time; ValueError unless it is RFC 3339 UTC with Z and a real time."""
    if not _CREATED.fullmatch(text):
        raise MalformedHeader(
            "created phải là giờ UTC dạng RFC 3339 kết thúc bằng Z",
            "created must be an RFC 3339 UTC time ending in Z",
        )
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00").astimezone(UTC)
    except ValueError:
        raise MalformedHeader(
            "created không phải ngày giờ có thật", "created is not a real date and time"
        ) from None


def parse_authorization(value: str) -> RequestSignature:
    """Splits and checks the header's parts; ValueError (saying what is wrong, never
    echoing the header) when it is not a well-formed Parindex-Sig header."""
    if len(value) > MAX_HEADER:
        raise MalformedHeader(
            f"tiêu đề dài quá {MAX_HEADER} ký tự",
            f"the header is longer than {MAX_HEADER} characters",
        )
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SCHEME:
        raise MalformedHeader("không phải tiêu đề Parindex-Sig", "not a Parindex-Sig header")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.group(1) in params:
            raise MalformedHeader(
                'các tham số phải có dạng keyId="...", created="...", signature="..."',
                "malformed parameters",
            )
        params[m.group(1)] = m.group(2)
        pos = m.end()
    if set(params) != {"keyId", "created", "signature"}:
        raise MalformedHeader(
            "cần đủ keyId, created và signature", "keyId, created and signature are required"
        )
    if not _KEY_ID.fullmatch(params["keyId"]):
        raise MalformedHeader(
            "keyId là pk_ và 32 ký tự a-z, 2-7", "keyId must be pk_ and 32 characters a-z, 2-7"
        )
    created_at = parse_created(params["created"])
    try:
        sig = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedHeader("signature không phải base64", "signature is not base64") from None
    if len(sig) != 64:
        raise MalformedHeader("signature không phải 64 byte", "signature is not 64 bytes")
    return RequestSignature(params["keyId"], params["created"], created_at, sig)


def verify(public_key: bytes, sig: RequestSignature, method: str, target: str, body: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            sig.signature, request_message(method, target, sig.created, body)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
