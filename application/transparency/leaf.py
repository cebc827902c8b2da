"""The leaf encoding: the exact bytes of a stored event that enter the Merkle log.

    leaf_bytes = b"parindex-event/v1\\n"
                 || originator_id            (16 bytes, the UUID's raw bytes)
                 || originator_version       (8 bytes, unsigned big-endian)
                 || len(topic)               (4 bytes, unsigned big-endian)
                 || topic                    (UTF-8)
                 || len(state)               (4 bytes, unsigned big-endian)
                 || state                    (the stored state bytes, as stored)

    leaf_hash = SHA-256(0x00 || leaf_bytes)       (RFC 6962 section 2.1)

Length prefixes make the encoding injective: no two different events share leaf
bytes. docs/FORMATS.md is the contract; this module is one implementation of it.
"""

from __future__ import annotations

import struct
from uuid import UUID

from application.transparency.merkle import leaf_hash

LEAF_CONTEXT = b"parindex-event/v1\n"


def leaf_bytes(originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """Canonical bytes of one stored event (see module docstring)."""
    topic_b = topic.encode("utf-8")
    return b"".join(
        (
            LEAF_CONTEXT,
            _id_bytes(originator_id),
            struct.pack(">Q", version),
            struct.pack(">I", len(topic_b)),
            topic_b,
            struct.pack(">I", len(state)),
            bytes(state),
        )
    )


def _id_bytes(originator_id: UUID | str) -> bytes:
    """UUID(str(originator_id)).bytes; 32 hex digits (as verify reads ids) are
    converted directly, everything else goes through UUID."""
    if isinstance(originator_id, UUID):
        return originator_id.bytes
    if isinstance(originator_id, str) and len(originator_id) == 32:
        try:
            raw = bytes.fromhex(originator_id)
        except ValueError:
            raw = b""
        if len(raw) == 16:  # then every character was a hex digit
            return raw
    return UUID(str(originator_id)).bytes


def event_leaf_hash(originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """RFC 6962 leaf hash of one stored event."""
    return leaf_hash(leaf_bytes(originator_id, version, topic, state))
