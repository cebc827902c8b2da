"""The snapshot store: a cache of aggregate states beside the event store.

A snapshot is what an aggregate's events up to one version yield, stored so
that a server just started loads an assessment from its last snapshot and the
few events after it instead of from its ~120 events (docs/FORMATS.md 9.4). It
is derived data: not a leaf of the log, never read by `verify`, and anything
wrong with it only costs time. A snapshot that cannot be read (a missing
table, an undecodable row, a topic that is not one of the snapshotted
aggregates) is passed over: the aggregate is loaded from an older one, or from its events
alone.

Each snapshot names the leaf hash of the last event it covers, and is used only
while the log holds that leaf for that event (read in the same query): after a
restore that cut the log back, a snapshot of an event the log lost, or of one
written again differently at the same version, is passed over too.

Only the newest snapshot of an aggregate is kept (`put` replaces the others),
so the table holds one row per assessment whatever the interval.

A store made before snapshots existed has no table: reads miss until the first
snapshot a server takes creates it, so opening a store (as `verify --data-dir`
does) never writes to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Recording,
    StoredEvent,
)

from application.store.damage import STORE_ERRORS, as_bytes
from application.transparency.log_store import LogStore
from domain.snapshot import AggregateSnapshot

log = logging.getLogger(__name__)


class SnapshotStore(EventStore[UUID]):
    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: AggregateRecorder,
        topics: frozenset[str],
        log: LogStore,
    ):
        super().__init__(mapper, recorder)
        self.topics = topics  # the aggregates whose snapshots may be used
        self.log = log
        self.postgres = log.t.dialect == "postgres"
        self.table = (
            f'"{log.datastore.schema}".{recorder.events_table_name}'
            if self.postgres
            else recorder.events_table_name
        )
        self.table_ready = self._table_exists()

    def _table_exists(self) -> bool:
        try:
            self.recorder.select_events(UUID(int=0), limit=1)
        except STORE_ERRORS:
            return False
        return True

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        """Stores each snapshot in place of its aggregate's earlier ones: one
        row per aggregate, however long its history (and a row a restore left
        behind at the same version is replaced, not a conflict)."""
        if not self.table_ready:
            self.recorder.create_table()  # CREATE TABLE IF NOT EXISTS
            self.table_ready = True
        ids = {e.originator_id for e in domain_events}
        with self.log.datastore.transaction(commit=True) as cur:
            for oid in ids:
                cur.execute(
                    self.log.t.q(f"DELETE FROM {self.table} WHERE originator_id = ?"),
                    (oid if self.postgres else oid.hex,),
                )
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
            rows = self._select(originator_id, gt, lte, desc)
        except Exception as e:  # a cache: whatever fails to read is a miss
            log.warning("snapshots of %s unreadable, loading from events: %r", originator_id, e)
            return iter(())
        found: list[AggregateSnapshot] = []
        for stored, leaf_hash in rows:  # a few a unit; the newest usable is taken
            try:
                snapshot = self.mapper.to_domain_event(stored)
            except Exception as e:
                snapshot = e
            if not self._usable(snapshot, leaf_hash, originator_id, gt, lte):
                log.warning(
                    "snapshot of %s v%d not usable: %r",
                    originator_id,
                    stored.originator_version,
                    snapshot if isinstance(snapshot, Exception) else "not of the logged event",
                )
                continue
            found.append(snapshot)
            if limit is not None and len(found) >= limit:
                break
        return iter(found)

    def _select(
        self, originator_id: UUID, gt: int | None, lte: int | None, desc: bool
    ) -> list[tuple[StoredEvent, bytes | None]]:
        """The snapshot rows, each with the leaf hash the log holds for the
        event at its version (None when the log has no such leaf)."""
        statement = (
            f"SELECT s.originator_version, s.topic, s.state, l.leaf_hash FROM {self.table} s "
            f"LEFT JOIN {self.log.t.leaves} l ON l.originator_id = ? "
            "AND l.originator_version = s.originator_version WHERE s.originator_id = ?"
        )
        params: list[Any] = [
            originator_id.hex,
            originator_id if self.postgres else originator_id.hex,
        ]
        if gt is not None:
            statement += " AND s.originator_version > ?"
            params.append(gt)
        if lte is not None:
            statement += " AND s.originator_version <= ?"
            params.append(lte)
        statement += " ORDER BY s.originator_version" + (" DESC" if desc else "")
        return [
            (
                StoredEvent(
                    originator_id=originator_id,
                    originator_version=int(r["originator_version"]),
                    topic=r["topic"],
                    state=bytes(r["state"]),
                ),
                as_bytes(r["leaf_hash"]),
            )
            for r in self.log._rows(statement, params)
        ]

    def _usable(
        self, s: Any, leaf_hash: bytes | None, oid: UUID, gt: int | None, lte: int | None
    ) -> bool:
        return (
            isinstance(s, AggregateSnapshot)
            and s.originator_id == oid
            and isinstance(s.originator_version, int)
            and s.originator_version >= 1
            and (gt is None or s.originator_version > gt)
            and (lte is None or s.originator_version <= lte)
            and s.topic in self.topics
            and isinstance(s.state, dict)
            and leaf_hash is not None
            and s.event_hash == leaf_hash.hex()
        )
