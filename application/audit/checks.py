"""Per-event checks, pure and picklable so they run in worker processes.

A record is `(leaf_index, claimed_leaf_hash | None, originator_id_hex, version,
topic | None, state | None)`. The key registry maps key id to
`(public_key, role, registered_leaf, revoked_leaf | None)` by log position.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.signing.jcs import COMMAND_CONTEXT
from application.signing.keys import actor_key_id
from application.transparency.leaf import event_leaf_hash
from domain.actors import PERMISSIONS

Record = tuple[int, bytes | None, str, int, str | None, bytes | None]
KeyInfo = tuple[bytes, str, int, int | None]

GENESIS_TOPICS = ("domain.deployment:Deployment.Initialised",)
KEY_TOPIC_PREFIX = "domain.keys:ActorKey."
# Fields the library adds to every event; they are not part of any command.
LIBRARY_FIELDS = {"timestamp", "originator_topic", "signed", "class_version"}

_registry: dict[str, KeyInfo] = {}
_pub_cache: dict[bytes, Ed25519PublicKey] = {}


def set_registry(registry: dict[str, KeyInfo]) -> None:
    global _registry
    _registry = registry
    _pub_cache.clear()


def _public(raw: bytes) -> Ed25519PublicKey:
    key = _pub_cache.get(raw)
    if key is None:
        key = _pub_cache[raw] = Ed25519PublicKey.from_public_bytes(raw)
    return key


_readers: dict[str, sqlite3.Connection] = {}


def read_range(spec: tuple[str, str, str], start: int, stop: int) -> list[Record]:
    """Leaves [start, stop) with their events, read by the worker itself from a
    SQLite store (read only), so the main process neither reads nor ships them."""
    path, leaves, events = spec
    conn = _readers.get(path)
    if conn is None:
        conn = _readers[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = conn.execute(
        f"SELECT l.leaf_index, l.leaf_hash, l.originator_id, l.originator_version, e.topic, "
        f"e.state FROM {leaves} l LEFT JOIN {events} e ON e.originator_id = l.originator_id "
        f"AND e.originator_version = l.originator_version "
        f"WHERE l.leaf_index >= ? AND l.leaf_index < ? ORDER BY l.leaf_index", (start, stop))
    return [(i, bytes(h), oid, v, topic, bytes(state) if state is not None else None)
            for i, h, oid, v, topic, state in rows]


def check_range(spec: tuple[str, str, str], start: int, stop: int
                ) -> tuple[list[tuple], list[tuple]]:
    return check_chunk(read_range(spec, start, stop))


def check_chunk(records: list[Record]) -> tuple[list[tuple], list[tuple]]:
    """Returns (per-record (index, fold_hash, recomputed, oid, version), findings)."""
    out: list[tuple] = []
    findings: list[tuple] = []
    for rec in records:
        index, claimed, oid, version, topic, state = rec
        if topic is None or state is None:
            findings.append(("event_missing", {"leaf_index": index}, f"{oid} v{version}"))
            out.append((index, claimed, None, oid, version))
            continue
        try:
            recomputed = event_leaf_hash(oid, version, topic, state)
        except (ValueError, TypeError, OverflowError) as e:
            # A damaged leaf row (id not a UUID, negative version): a finding, not a crash.
            findings.append(("event_unreadable", {"leaf_index": index}, f"leaf row: {e}"))
            out.append((index, claimed if claimed is not None and len(claimed) == 32
                        else b"\x00" * 32, None, str(oid), version))
            continue
        if claimed is not None and claimed != recomputed:
            findings.append(("event_altered", {"leaf_index": index}, f"{oid} v{version}"))
        out.append((index, claimed if claimed is not None else recomputed, recomputed, oid,
                    version))
        findings.extend(check_signature(index, topic, state))
    return out, findings


def check_signature(index: int, topic: str, state: bytes) -> list[tuple]:
    pos = {"leaf_index": index}
    try:
        body: dict[str, Any] = json.loads(state)
        signed = body["signed"]
        command_text = signed["command"]
        command = json.loads(command_text)
        signature = base64.b64decode(signed["signature"], validate=True)
        key_id = signed["key_id"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        if (topic == "domain.assessment:Assessment.Opened" and isinstance(locals().get("body"),
                                                                           dict)
                and isinstance(body.get("command"), dict) and "signed" not in body):
            return []  # bound to its open_cycle run by replay (next commit)
        if isinstance(locals().get("body"), dict) and "signed" not in body:
            return [("unsigned_event", pos, topic)]
        return [("event_unreadable", pos, topic)]
    findings: list[tuple] = []
    if command.get("actor") != key_id:
        findings.append(("command_mismatch", pos, "actor differs from signing key"))
    ctype = command.get("type")
    if ctype == "init_deployment":
        info = _registry.get(key_id)
        if info is None or info[2] > index:
            # The genesis is self-signed by the key it registers.
            try:
                pub = base64.b64decode(command.get("public_key", ""), validate=True)
            except (ValueError, binascii.Error):
                pub = b""
            info = (pub, "admin", index, None)
    else:
        info = _registry.get(key_id)
    if info is None or info[2] > index:
        findings.append(("unknown_key", pos, key_id))
        return findings
    pub, role, _registered, revoked = info
    if revoked is not None and revoked < index:
        findings.append(("key_revoked", pos, key_id))
    try:
        _public(pub).verify(signature, COMMAND_CONTEXT + command_text.encode("utf-8"))
    except (InvalidSignature, ValueError):
        findings.append(("bad_signature", pos, key_id))
        return findings
    if ctype != "init_deployment" and role not in PERMISSIONS.get(str(ctype), frozenset()):
        findings.append(("not_permitted", pos, f"{role} -> {ctype}"))
    for name, value in body.items():
        if name in LIBRARY_FIELDS or name not in command:
            continue
        if command[name] != value:
            findings.append(("command_mismatch", pos, f"field '{name}'"))
    return findings


def build_registry(key_records: Iterable[Record]) -> tuple[dict[str, KeyInfo], dict | None, list]:
    """The key registry by log position, from the genesis and key events in order.

    A registration counts only when signed by an admin key valid at that point;
    a forged one is left out (and pass 2 reports its signature).
    """
    registry: dict[str, KeyInfo] = {}
    genesis: dict | None = None
    findings: list[tuple] = []
    # One command may write several leaves (a rotation writes two): a key stops
    # after the last leaf of the command that revoked it, not in its middle. A
    # command's leaves are contiguous, so remembering the last revoking command
    # is enough; the registry is built in one pass over a stream.
    revoking: tuple[str, list[str]] | None = None
    seen = False
    for index, _claimed, _oid, _version, topic, state in key_records:
        seen = True
        if topic is None or state is None:
            continue
        try:
            body = json.loads(state)
            command_text = body["signed"]["command"]
            command = json.loads(command_text)
            signer = body["signed"]["key_id"]
        except (ValueError, KeyError, TypeError):
            continue
        if revoking is not None and revoking[0] == command_text:
            for key_id in revoking[1]:  # still the revoking command: stop after this leaf
                pub, role, reg, _revoked = registry[key_id]
                registry[key_id] = (pub, role, reg, index)
        elif revoking is not None:
            revoking = None
        if topic in GENESIS_TOPICS:
            if index != 0 or genesis is not None:
                findings.append(("bad_genesis", {"leaf_index": index}, "genesis not at leaf 0"))
                continue
            genesis = body
            try:
                admin_pub = base64.b64decode(command.get("public_key", ""), validate=True)
            except (ValueError, binascii.Error):
                admin_pub = b""
            if not (body.get("admin_key_id") == signer == command.get("actor")
                    == actor_key_id(admin_pub)):
                findings.append(("bad_genesis", {"leaf_index": index},
                                 "first admin key id does not match its public key"))
            continue
        name = topic[len(KEY_TOPIC_PREFIX):]
        signer_info = registry.get(signer)
        signer_ok = (
            signer_info is not None and signer_info[1] == "admin"
            and (signer_info[3] is None or signer_info[3] >= index)
        ) or (command.get("type") == "init_deployment" and genesis is not None
              and genesis.get("admin_key_id") == signer)
        if not signer_ok:
            continue
        if name == "Registered":
            try:
                pub = base64.b64decode(body["public_key"], validate=True)
            except (ValueError, KeyError, binascii.Error):
                continue
            registry.setdefault(body["key_id"], (pub, body["role"], index, None))
        elif name in ("Revoked", "Rotated"):
            key_id = command.get("key_id") if name == "Revoked" else command.get("old_key_id")
            if key_id in registry and registry[key_id][3] is None:
                pub, role, reg, _revoked = registry[key_id]
                registry[key_id] = (pub, role, reg, index)
                if revoking is None:
                    revoking = (command_text, [])
                revoking[1].append(key_id)
    if genesis is None and seen:
        findings.append(("bad_genesis", {"leaf_index": 0}, "no genesis event"))
    return registry, genesis, findings
