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
_PARAM = re.compile(r'\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)')


@dataclass(frozen=True)
class RequestSignature:
    key_id: str
    created: str
    signature: bytes


def request_message(method: str, target: str, created: str, body: bytes = b"") -> bytes:
    """The exact bytes a request signature covers."""
    digest = hashlib.sha256(body).hexdigest()
    text = "\n".join((method.upper(), target, created, digest))
    return REQUEST_CONTEXT + text.encode("utf-8")


def created_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def authorization(key_id: str, private_key: Ed25519PrivateKey, method: str, target: str,
                  body: bytes = b"", created: str | None = None) -> str:
    """The Authorization header value for one request (client side)."""
    created = created or created_now()
    sig = private_key.sign(request_message(method, target, created, body))
    return (f'{SCHEME} keyId="{key_id}", created="{created}", '
            f'signature="{base64.b64encode(sig).decode("ascii")}"')


def parse_authorization(value: str) -> RequestSignature:
    """Splits the header into its parts; ValueError when it is not one of ours."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SCHEME:
        raise ValueError("not a Parindex-Sig header")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.group(1) in params:
            raise ValueError("malformed parameters")
        params[m.group(1)] = m.group(2)
        pos = m.end()
    if set(params) != {"keyId", "created", "signature"}:
        raise ValueError("keyId, created and signature are required")
    try:
        sig = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("signature is not base64") from None
    if len(sig) != 64:
        raise ValueError("signature is not 64 bytes")
    return RequestSignature(params["keyId"], params["created"], sig)


def verify(public_key: bytes, sig: RequestSignature, method: str, target: str,
           body: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            sig.signature, request_message(method, target, sig.created, body))
    except (InvalidSignature, ValueError):
        return False
    return True
