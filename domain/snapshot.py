"""A snapshot of an aggregate's state: a cache of what its events yield, never
part of the log (docs/FORMATS.md 9.4).

The library's `Snapshot.take` copies the aggregate's whole `__dict__`. Ours
keeps the aggregate's own state and the library's timestamps only: memo entries
that the domain keeps beside the state (`_ranking_totals` on an assessment, a
`Framework` object; `_unit_codes` on a cycle) are derived, may not even be
JSON, and must be recomputed from the state they describe, not restored.

A snapshot names the last event it covers by that event's hash (`event_hash`,
the application's log leaf hash): a store whose events were cut back and
written again (a restore) holds another event at that version, and the
snapshot of the lost one is then not used.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic

# The library's own members besides `_id`, `_version` and `_pending_events`
# (which a snapshot carries as its originator id and version, or not at all).
LIBRARY_MEMBERS = frozenset({"_created_on", "_modified_on"})


def state_members(aggregate: Any) -> dict[str, Any]:
    """The members a snapshot keeps: every public one and the library's timestamps."""
    return {
        name: value
        for name, value in vars(aggregate).items()
        if not name.startswith("_") or name in LIBRARY_MEMBERS
    }


class AggregateSnapshot(Snapshot):
    event_hash: str  # hex; "" names no event, and such a snapshot is never used

    @classmethod
    def take(cls, aggregate: Any, event_hash: str = "") -> AggregateSnapshot:
        state = state_members(aggregate)
        class_version = getattr(type(aggregate), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
            event_hash=event_hash,
        )
