"""A unit's events as the log stores them (docs/API.md, "A commune's monitor"):
the exact bytes of each event of the unit's assessment after a version, with
its log index, so a monitor recomputes every leaf hash and proves it in a
checkpoint itself. Read from the event store, not the read model: a read model
that dropped an event cannot hide it here, and a store that drops one leaves a
gap in the versions the monitor counts."""

from __future__ import annotations

import base64
import json

from domain.assessment import Assessment

MAX_EVENTS = 500


def unit_events(app, cycle: str, unit: str, after: int, limit: int) -> dict:
    """{cycle, unit, aggregate_id, events: [{leaf_index, version, topic, state}],
    signers: {key_id: {public_key, name, role, scope}}}; events in version order,
    at most `limit` (<= MAX_EVENTS). The caller has checked the unit may be read."""
    aid = Assessment.create_id(cycle, unit)
    events, signers = [], {}
    for stored in app.recorder.select_events(aid, gt=after, limit=min(limit, MAX_EVENTS)):
        leaf = app.tlog.leaf_of_event(aid, stored.originator_version)
        if leaf is None:  # stored, but its leaf not yet visible to this reader
            break
        state = bytes(stored.state)
        events.append(
            {
                "leaf_index": leaf.leaf_index,
                "version": stored.originator_version,
                "topic": stored.topic,
                "state": base64.b64encode(state).decode("ascii"),
            }
        )
        key_id = _signer(state)
        if key_id and key_id not in signers:
            with app._turn():  # the aggregates are shared with the writers
                key = app.find_key(key_id, for_update=False)
            if key is not None:
                signers[key_id] = {
                    "public_key": key.public_key,
                    "name": key.display_name,
                    "role": key.role,
                    "scope": key.scope,
                }
    return {
        "cycle": cycle,
        "unit": unit,
        "aggregate_id": str(aid),
        "events": events,
        "signers": signers,
    }


def _signer(state: bytes) -> str | None:
    try:
        signed = json.loads(state).get("signed")
    except (ValueError, AttributeError):
        return None
    return signed.get("key_id") if isinstance(signed, dict) else None
