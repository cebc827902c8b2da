"""The deployment events a why chain rests on, gathered so a client can prove them.

Each event of a leaf's why chain carries a command signed by an actor key. Which
key was valid at that leaf, with which role and scope, which cycle the unit is
in and with which framework: all of that is in the log too, in deployment-wide
events (docs/FORMATS.md 4.6, 4.7). `ground_leaves` names the leaves a client
needs to replay it from the genesis with nothing but the log key:

- leaves 0 and 1 (the genesis and the first admin key);
- the cycle's `Cycle.Opened` (the first leaf of its `open_cycle`);
- the publication of the cycle's framework, and of each framework it supersedes;
- every event of every key that signed any of these or an event of the chain,
  each with its whole command run (a rotation is two leaves), closed over the
  keys that signed those and over the key a rotated key came from.

The server chooses these leaves; the client trusts none of them (each comes with
its inclusion proof and is replayed). What the client cannot see is a key event
the server leaves out, such as a revocation: see docs/API.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from application.app import ParIndex
from domain.cycle import Cycle
from domain.framework_record import framework_aggregate_id
from domain.keys import key_aggregate_id

GENESIS_LEAVES = (0, 1)


def _state(app: ParIndex, index: int) -> dict:
    """The stored event state at leaf `index`, parsed ({} if missing or unreadable)."""
    for e in app.tlog.iter_events(start=index, batch=1):
        if e.leaf_index != index or e.state is None:
            break
        try:
            body = json.loads(e.state)
        except (ValueError, UnicodeDecodeError):
            break
        return body if isinstance(body, dict) else {}
    return {}


def _signed(body: dict) -> tuple[str | None, dict]:
    """(signing key id, signed command) of an event, (None, {}) if it has none."""
    signed = body.get("signed")
    if not isinstance(signed, dict):
        return None, {}
    try:
        command = json.loads(signed.get("command") or "")
    except (ValueError, TypeError):
        command = {}
    key_id = signed.get("key_id")
    return (key_id if isinstance(key_id, str) else None), (
        command if isinstance(command, dict) else {}
    )


def _run(app: ParIndex, index: int, command: dict) -> list[int]:
    """The leaves of the command whose event sits at `index` (just it if unknown)."""
    found = app.tlog.command(command["id"]) if isinstance(command.get("id"), str) else None
    leaves = [leaf.leaf_index for leaf in found[1]] if found else []
    return leaves if index in leaves else [index]


def ground_leaves(app: ParIndex, cycle: str, chain_leaves: Iterable[int]) -> list[int]:
    leaves: set[int] = set()
    keys: list[str] = []
    seen_keys: set[str] = set()

    def need_key(key_id: Any) -> None:
        if isinstance(key_id, str) and key_id not in seen_keys:
            seen_keys.add(key_id)
            keys.append(key_id)

    def add(index: int, *, whole_run: bool = True) -> dict:
        body = _state(app, index)
        key_id, command = _signed(body)
        for i in _run(app, index, command) if whole_run else [index]:
            if i in leaves:
                continue
            leaves.add(i)
            b = body if i == index else _state(app, i)
            need_key(_signed(b)[0])
            need_key(b.get("rotated_from"))
        return body

    for i in chain_leaves:
        need_key(_signed(_state(app, i))[0])
    for i in GENESIS_LEAVES:
        if i < app.tlog.size():
            add(i, whole_run=False)

    opened = app.tlog.leaf_of_event(Cycle.create_id(cycle), 1)
    framework_id = None
    if opened is not None:
        # Only the cycle's own event: the assessments it opens are not needed.
        framework_id = add(opened.leaf_index, whole_run=False).get("framework")
    seen_frameworks: set[str] = set()
    while isinstance(framework_id, str) and framework_id not in seen_frameworks:
        seen_frameworks.add(framework_id)
        published = app.tlog.leaf_of_event(framework_aggregate_id(framework_id), 1)
        if published is None:
            break
        framework = add(published.leaf_index).get("framework")
        framework_id = framework.get("supersedes") if isinstance(framework, dict) else None

    while keys:
        key_id = keys.pop()
        oid = key_aggregate_id(key_id)
        for stored in app.recorder.select_events(oid):
            leaf = app.tlog.leaf_of_event(oid, stored.originator_version)
            if leaf is not None:
                add(leaf.leaf_index)
    return sorted(leaves)
