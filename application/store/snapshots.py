"""The snapshot store: a cache of aggregate states beside the event store.

A snapshot is what an aggregate's events up to one version yield, stored so
that a server just started loads an assessment from its last snapshot and the
few events after it instead of from its ~120 events (docs/FORMATS.md 9.4). It
is derived data: not a leaf of the log, never read by `verify`, and anything
wrong with it only costs time. A snapshot that cannot be read (a missing
table, an undecodable row, a topic that is not one of the snapshotted
aggregates) is a cache miss: the aggregate is loaded from its events alone.

A store made before snapshots existed has no table: reads miss until the first
snapshot a server takes creates it, so opening a store (as `verify --data-dir`
does) never writes to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Recording

from application.store.damage import STORE_ERRORS
from domain.snapshot import AggregateSnapshot

log = logging.getLogger(__name__)


class SnapshotStore(EventStore[UUID]):
    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder, topics: frozenset[str]):
        super().__init__(mapper, recorder)
        self.topics = topics  # the aggregates whose snapshots may be used
        self.table_ready = self._table_exists()

    def _table_exists(self) -> bool:
        try:
            self.recorder.select_events(UUID(int=0), limit=1)
        except STORE_ERRORS:
            return False
        return True

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        if not self.table_ready:
            self.recorder.create_table()  # CREATE TABLE IF NOT EXISTS
            self.table_ready = True
        return super().put(domain_events, **kwargs)

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        if not self.table_ready:
            return iter(())
        try:
            stored = self.recorder.select_events(
                originator_id, gt=gt, lte=lte, desc=desc, limit=limit
            )
            found = [self.mapper.to_domain_event(s) for s in stored]
        except Exception as e:  # a cache: whatever fails to read is a miss
            log.warning("snapshot of %s unreadable, loading from events: %r", originator_id, e)
            return iter(())
        if not all(self._usable(s, originator_id, gt, lte) for s in found):
            log.warning("snapshot of %s not usable, loading from events", originator_id)
            return iter(())
        return iter(found)

    def _usable(self, s: Any, originator_id: UUID, gt: int | None, lte: int | None) -> bool:
        return (
            isinstance(s, AggregateSnapshot)
            and s.originator_id == originator_id
            and isinstance(s.originator_version, int)
            and s.originator_version >= 1
            and (gt is None or s.originator_version > gt)
            and (lte is None or s.originator_version <= lte)
            and s.topic in self.topics
            and isinstance(s.state, dict)
        )
