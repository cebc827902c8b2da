"""Aggregates folded from the log's own events, up to a tree size.

A document states what the log says at one signed tree head: the events of
leaves 0 .. size-1. Its figures are computed here from those events alone,
decoded with the store's own transcoding and applied with the domain's own
event handlers (eventsourcing's `mutate`), never read from the read model a
server keeps (which its operator can edit). The events come from a store
(`from_store`: an aggregate's events and their leaves, a few queries: what an
export reads) or from a stream of log records hashed as they are read
(recompute.RecordsLog: what verify-document reads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from domain.errors import DomainError

# leaf index, version, topic, state bytes: one event as the log holds it
Event = tuple[int, int, str, bytes]


def _mapper() -> Mapper:
    transcoder = JSONTranscoder()  # what eventsourcing's Application registers
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


MAPPER = _mapper()


class Unreadable(DomainError):
    """An event of the log cannot be decoded or applied: the document cannot be
    recomputed (verify names the leaf)."""

    def __init__(self, index: int, detail: str):
        super().__init__(
            "log_unreadable",
            f"Không đọc được sự kiện ở vị trí {index} của nhật ký ({detail}); "
            "hãy chạy `parindex verify`.",
            f"The log's event at leaf {index} cannot be read ({detail}); run `parindex verify`.",
            status=409,
        )


def from_store(app: Any, oid: UUID, size: int) -> list[Event]:
    """The events of aggregate `oid` at leaves below `size`, in version order."""
    leaves = {
        leaf.originator_version: leaf.leaf_index
        for leaf in app.tlog.aggregate_leaves(oid, size - 1)
    }
    if not leaves:
        return []
    out = []
    for stored in app.recorder.select_events(oid, lte=max(leaves)):
        index = leaves.get(stored.originator_version)
        if index is not None:  # an event outside the log is not part of any checkpoint
            out.append((index, stored.originator_version, stored.topic, bytes(stored.state)))
    return out


def fold(
    oid: UUID, events: list[Event], watch: Callable[[Any, Any, int], None] | None = None
) -> Any:
    """The aggregate the events make (None for none); `watch(event, aggregate,
    leaf index)` is called after each is applied."""
    aggregate = None
    for index, version, topic, state in events:
        try:
            domain_event = MAPPER.to_domain_event(StoredEvent(oid, version, topic, state))
            aggregate = domain_event.mutate(aggregate)
        except Exception as e:  # a forged or damaged event: nothing to compute from
            raise Unreadable(index, type(e).__name__) from None
        if watch is not None:
            watch(domain_event, aggregate, index)
    return aggregate
