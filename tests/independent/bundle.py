"""Reading an audit bundle (FORMATS.md section 7) into plain records.

Every malformed line becomes a `bundle_malformed` finding (8.3) and is dropped.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Event:
    leaf_index: int
    leaf_hash: bytes | None
    originator_id: uuid.UUID
    version: int
    topic: str | None
    state: bytes | None


@dataclass
class Bundle:
    header: dict | None = None
    events: list[Event] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    proofs: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)
    end: dict | None = None
    malformed: list[int] = field(default_factory=list)  # 1-based line numbers


def _nonneg_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _hash(v) -> bytes:
    if not isinstance(v, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", v):
        raise ValueError("hash")
    return bytes.fromhex(v)


def _utf8(v) -> str:
    v.encode("utf-8")  # a lone surrogate is not text
    return v


def _event(o: dict) -> Event:
    if not _nonneg_int(o.get("leaf_index")) or not _nonneg_int(o.get("version")):
        raise ValueError("index")
    lh = o.get("leaf_hash")
    oid = o.get("originator_id")
    if not isinstance(oid, str):
        raise ValueError("id")
    topic, state = o.get("topic"), o.get("state")
    if topic is not None and not isinstance(topic, str):
        raise ValueError("topic")
    if state is not None:
        if not isinstance(state, str):
            raise ValueError("state")
        state = base64.b64decode(state, validate=True)
    return Event(
        o["leaf_index"],
        None if lh is None else _hash(lh),
        uuid.UUID(oid),
        o["version"],
        None if topic is None else _utf8(topic),
        state,
    )


def _lines(path: Path):
    """(line number, text) pairs; a read error yields (line reached, None) and stops."""
    opener = gzip.open if path.name.endswith(".gz") else open
    n = 0
    try:
        with opener(path, "rb") as f:
            for raw in f:
                n += 1
                yield n, raw
    except (OSError, EOFError, zlib.error):
        yield n + 1, None


def read_bundle(path: Path) -> Bundle:
    b = Bundle()
    for n, raw in _lines(path):
        if raw is None:
            b.malformed.append(n)
            break
        if not raw.strip():
            continue
        try:
            o = json.loads(raw)
            kind = o["kind"]
        except (ValueError, KeyError, TypeError):
            b.malformed.append(n)
            continue
        try:
            if kind == "header":
                if b.header is not None or o.get("format") != "parindex-audit-bundle/v1":
                    raise ValueError("header")
                b.header = o
            elif kind == "event":
                b.events.append(_event(o))
            elif kind == "checkpoint":
                if not isinstance(o.get("note"), str):
                    raise ValueError("note")
                b.checkpoints.append(o["note"])
            elif kind == "consistency":
                s1, s2, proof = o.get("size1"), o.get("size2"), o.get("proof")
                if not (_nonneg_int(s1) and _nonneg_int(s2) and isinstance(proof, list)):
                    raise ValueError("consistency")
                b.proofs[(s1, s2)] = [_hash(h) for h in proof]
            elif kind == "end":
                b.end = o
            elif kind != "evidence":
                raise ValueError("kind")
        except (ValueError, TypeError, binascii.Error, UnicodeError):
            b.malformed.append(n)
    if b.header is None:
        b.malformed.append(1)
    if b.end is None:
        b.malformed.append(-1)
    return b
