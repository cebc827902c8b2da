"""Reads of the Merkle log: sizes, roots, proofs, leaves, checkpoints.

Proofs read only the O(log n) perfect-subtree hashes they need, in one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from application.store.damage import as_bytes, as_int
from application.store.log_tables import LogTables
from application.transparency import merkle
from domain.errors import DomainError


@dataclass(frozen=True)
class LeafRow:
    leaf_index: int
    originator_id: UUID
    originator_version: int
    leaf_hash: bytes
    notification_id: int | None


@dataclass(frozen=True)
class LoggedEvent:
    """One leaf and the stored event it points at (topic/state None if missing)."""

    leaf_index: int
    leaf_hash: bytes
    originator_id: UUID | str  # text only when the leaf row is damaged
    originator_version: int
    topic: str | None
    state: bytes | None
    notification_id: int | None


@dataclass(frozen=True)
class StoredCheckpoint:
    id: int
    size: int
    root: bytes
    note: str
    issued_at: str


class LogIncomplete(DomainError, LookupError):
    """Rows the log needs are missing from the store: no proof can be given (503)."""

    def __init__(self, detail: str):
        super().__init__(
            "log_incomplete",
            f"Kho nhật ký thiếu dữ liệu nên không lập được bằng chứng ({detail}); "
            "hãy chạy `parindex verify` trên máy chủ.",
            f"The log store is missing rows, so no proof can be made ({detail}); "
            "run `parindex verify` on the server.",
            status=503,
        )


def _uuid(text: str) -> UUID | str:
    """The leaf's aggregate id; a damaged row's text is passed on for verify to report."""
    try:
        return UUID(hex=text)
    except (ValueError, TypeError):
        return str(text)


class LogStore:
    """The log tables of one event store (SQLite or PostgreSQL)."""

    def __init__(self, recorder: Any):
        self.recorder = recorder
        self.t: LogTables = recorder.log
        self.datastore = recorder.datastore
        self.events_table = (
            f'"{self.datastore.schema}".{recorder.events_table_name}'
            if self.t.dialect == "postgres"
            else recorder.events_table_name
        )

    def _rows(self, sql: str, params: tuple | list = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as cur:
            cur.execute(self.t.q(sql), params)
            return list(cur.fetchall())

    # -- the tree --------------------------------------------------------
    def size(self) -> int:
        rows = self._rows(f"SELECT size FROM {self.t.state} WHERE id = 1")
        return int(rows[0]["size"]) if rows else 0

    def head(self) -> tuple[int, bytes]:
        """Current size and root, read from the stored frontier in one query."""
        rows = self._rows(f"SELECT frontier FROM {self.t.state} WHERE id = 1")
        if not rows:
            return 0, merkle.EMPTY_ROOT
        frontier = merkle.CompactRange.from_bytes(bytes(rows[0]["frontier"]))
        return frontier.size, frontier.root()

    def get_nodes(self, coords: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Perfect-subtree hashes by (level, index); level 0 are leaf hashes."""
        out: dict[tuple[int, int], bytes] = {}
        leaves = sorted({i for lvl, i in coords if lvl == 0})
        inner = sorted({(lvl, i) for lvl, i in coords if lvl > 0})
        with self.datastore.transaction(commit=False) as cur:
            if leaves:
                marks = ",".join("?" * len(leaves))
                cur.execute(
                    self.t.q(
                        f"SELECT leaf_index, leaf_hash FROM {self.t.leaves} "
                        f"WHERE leaf_index IN ({marks})"
                    ),
                    leaves,
                )
                for r in cur.fetchall():
                    out[(0, int(r["leaf_index"]))] = bytes(r["leaf_hash"])
            if inner:
                cond = " OR ".join("(level = ? AND idx = ?)" for _ in inner)
                params = [x for pair in inner for x in pair]
                cur.execute(
                    self.t.q(f"SELECT level, idx, hash FROM {self.t.nodes} WHERE {cond}"), params
                )
                for r in cur.fetchall():
                    out[(int(r["level"]), int(r["idx"]))] = bytes(r["hash"])
        missing = [c for c in coords if c not in out]
        if missing:
            raise LogIncomplete(f"log nodes missing from the store: {missing[:4]}")
        return out

    def root(self, size: int) -> bytes:
        return merkle.root_at(size, self.get_nodes)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(index, size, self.get_nodes)

    def consistency_proof(self, m: int, n: int) -> list[bytes]:
        return merkle.consistency_proof(m, n, self.get_nodes)

    # -- leaves and events -----------------------------------------------
    def leaf(self, index: int) -> LeafRow | None:
        rows = self._rows(f"SELECT * FROM {self.t.leaves} WHERE leaf_index = ?", (index,))
        return self._leaf(rows[0]) if rows else None

    def leaves_range(self, first: int, count: int) -> list[LeafRow]:
        rows = self._rows(
            f"SELECT * FROM {self.t.leaves} WHERE leaf_index >= ? AND leaf_index < ? "
            "ORDER BY leaf_index",
            (first, first + count),
        )
        return [self._leaf(r) for r in rows]

    def leaf_of_event(self, originator_id: UUID, version: int) -> LeafRow | None:
        rows = self._rows(
            f"SELECT * FROM {self.t.leaves} WHERE originator_id = ? AND originator_version = ?",
            (originator_id.hex, version),
        )
        return self._leaf(rows[0]) if rows else None

    def aggregate_leaves(self, originator_id: UUID, last_leaf: int) -> list[LeafRow]:
        """The leaves of one aggregate's events up to leaf `last_leaf`, by version."""
        rows = self._rows(
            f"SELECT * FROM {self.t.leaves} WHERE originator_id = ? AND leaf_index <= ? "
            "ORDER BY originator_version",
            (originator_id.hex, last_leaf),
        )
        return [self._leaf(r) for r in rows]

    @staticmethod
    def _leaf(r: Any) -> LeafRow:
        # A damaged row (values of the wrong type) is passed on, not raised: the
        # proof built from it fails on the client, and verify names the leaf.
        return LeafRow(
            int(r["leaf_index"]),
            _uuid(r["originator_id"]),  # type: ignore[arg-type]
            as_int(r["originator_version"]),
            as_bytes(r["leaf_hash"]) or b"",
            r["notification_id"],
        )

    def iter_events(
        self,
        start: int = 0,
        batch: int = 5000,
        topic_prefixes: tuple[str, ...] = (),
        with_events: bool = True,
    ) -> Iterator[LoggedEvent]:
        """Every leaf in index order with its stored event (streamed in batches);
        with `topic_prefixes`, only events whose topic starts with one of them.
        `with_events=False` reads the leaves alone (topic and state None): what
        verify does when the events table itself is gone.

        Values a damaged row holds instead of bytes or integers are passed on
        (see application.store.damage) for verify to report, never raised."""
        join = (
            # A damaged leaf row's id must not fail the cast for the whole batch.
            "e.originator_id = CASE WHEN l.originator_id ~ '^[0-9a-f]{32}$' "
            "THEN CAST(l.originator_id AS uuid) END"
            if self.t.dialect == "postgres"
            else "e.originator_id = l.originator_id"
        )
        sql = (
            (
                f"SELECT l.leaf_index, l.leaf_hash, l.originator_id, l.originator_version, "
                f"l.notification_id, e.topic, e.state FROM {self.t.leaves} l "
                f"LEFT JOIN {self.events_table} e ON {join} "
                f"AND e.originator_version = l.originator_version "
                f"WHERE l.leaf_index >= ? "
            )
            if with_events
            else (
                f"SELECT l.leaf_index, l.leaf_hash, l.originator_id, l.originator_version, "
                f"l.notification_id, NULL AS topic, NULL AS state FROM {self.t.leaves} l "
                f"WHERE l.leaf_index >= ? "
            )
        )
        if topic_prefixes:
            sql += "AND (" + " OR ".join("e.topic LIKE ?" for _ in topic_prefixes) + ") "
        sql += "ORDER BY l.leaf_index LIMIT ?"
        likes = [p + "%" for p in topic_prefixes]
        position = start
        while True:
            rows = self._rows(sql, (position, *likes, batch))
            for r in rows:
                topic = r["topic"]
                yield LoggedEvent(
                    int(r["leaf_index"]),
                    as_bytes(r["leaf_hash"]) or b"",
                    _uuid(r["originator_id"]),
                    as_int(r["originator_version"]),
                    topic if topic is None or isinstance(topic, str) else str(topic),
                    as_bytes(r["state"]),
                    r["notification_id"],
                )
            if len(rows) < batch:
                return
            position = int(rows[-1]["leaf_index"]) + 1

    def events_outside_log(self, limit: int = 100) -> list[tuple[UUID, int]]:
        """Stored events that have no leaf: written around the log, not through it."""
        oid = "CAST(e.originator_id AS text)" if self.t.dialect == "postgres" else "e.originator_id"
        join = (
            "REPLACE(CAST(e.originator_id AS text), '-', '') = l.originator_id"
            if self.t.dialect == "postgres"
            else "e.originator_id = l.originator_id"
        )
        rows = self._rows(
            f"SELECT {oid} AS oid, e.originator_version AS v FROM {self.events_table} e "
            f"LEFT JOIN {self.t.leaves} l ON {join} "
            f"AND l.originator_version = e.originator_version "
            f"WHERE l.leaf_index IS NULL LIMIT ?",
            (limit,),
        )
        return [(UUID(str(r["oid"])), int(r["v"])) for r in rows]

    def leaf_bound(self) -> int:
        """One past the highest leaf index stored (not the stored size: a reader
        bounded by this sees every leaf row that exists now)."""
        rows = self._rows(f"SELECT MAX(leaf_index) AS m FROM {self.t.leaves}")
        return int(rows[0]["m"]) + 1 if rows and rows[0]["m"] is not None else 0

    def count_leaves(self) -> int:
        return int(self._rows(f"SELECT COUNT(*) AS n FROM {self.t.leaves}")[0]["n"])

    def count_events(self) -> int:
        return int(self._rows(f"SELECT COUNT(*) AS n FROM {self.events_table}")[0]["n"])

    # -- commands (idempotency) ------------------------------------------
    def command(self, command_id: str) -> tuple[str, list[LeafRow]] | None:
        rows = self._rows(f"SELECT * FROM {self.t.commands} WHERE command_id = ?", (command_id,))
        if not rows:
            return None
        r = rows[0]
        return r["digest"], self.leaves_range(int(r["first_leaf"]), int(r["leaf_count"]))

    # -- checkpoints -------------------------------------------------------
    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._rows(f"SELECT * FROM {self.t.checkpoints} ORDER BY size, id")
        return [self._cp(r) for r in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        rows = self._rows(f"SELECT * FROM {self.t.checkpoints} ORDER BY size DESC, id DESC LIMIT 1")
        return self._cp(rows[0]) if rows else None

    def checkpoint_for_size(self, size: int) -> StoredCheckpoint | None:
        rows = self._rows(
            f"SELECT * FROM {self.t.checkpoints} WHERE size = ? ORDER BY id DESC LIMIT 1", (size,)
        )
        return self._cp(rows[0]) if rows else None

    def add_checkpoint(self, size: int, root: bytes, note: str) -> StoredCheckpoint:
        issued_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(
                self.t.q(
                    f"INSERT INTO {self.t.checkpoints} (size, root, note, issued_at) "
                    "VALUES (?, ?, ?, ?)"
                ),
                (size, root, note, issued_at),
            )
        cp = self.checkpoint_for_size(size)
        assert cp is not None
        return cp

    @staticmethod
    def _cp(r: Any) -> StoredCheckpoint:
        return StoredCheckpoint(
            int(r["id"]), int(r["size"]), bytes(r["root"]), r["note"], r["issued_at"]
        )
