"""The Merkle log's tables, written in the same transaction as the events.

Tables (prefix `parindex_`):
- `log_leaves(leaf_index, originator_id, originator_version, leaf_hash, notification_id)`:
  one row per stored event, indices 0..n-1 with no gaps (the writer holds the
  store's write lock while it reads the frontier and assigns the next index).
- `log_nodes(level, idx, hash)`: every perfect subtree of the tree, level >= 1;
  level 0 is `log_leaves.leaf_hash`. Proofs read O(log n) of these rows.
- `log_state(id=1, size, frontier)`: the compact range after the last append,
  so an append reads one row instead of walking the tree.
- `commands(command_id, digest, first_leaf, leaf_count)`: the idempotency index.
  Its primary key makes a second command with the same id fail the whole
  transaction, so a replay never appends.
- `checkpoints(id, size, root, note, issued_at)`: every checkpoint ever issued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.store.pg_columns import column_params, unnest_select
from application.transparency.leaf import event_leaf_hash
from application.transparency.merkle import CompactRange

# Rows per INSERT statement of the log tables on PostgreSQL (about 100 bytes each).
ROWS_PER_STATEMENT = 5000


def batches(
    items: Sequence[Any],
    max_items: int,
    max_bytes: int | None = None,
    size: Callable[[Any], int] | None = None,
) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most max_items items and (when given) max_bytes."""
    start = 0
    while start < len(items):
        end, total = start, 0
        while end < len(items) and end - start < max_items:
            if max_bytes is not None and size is not None:
                total += size(items[end])
                if total > max_bytes and end > start:
                    break
            end += 1
        yield items[start:end]
        start = end


@dataclass(frozen=True)
class AppendedLeaf:
    leaf_index: int
    originator_id: UUID
    originator_version: int
    leaf_hash: bytes
    notification_id: int | None


class LogTables:
    """SQL for the log tables in one dialect ('sqlite' or 'postgres')."""

    def __init__(self, dialect: str, schema: str | None = None):
        assert dialect in ("sqlite", "postgres")
        self.dialect = dialect
        prefix = f'"{schema}".' if (schema and dialect == "postgres") else ""
        self.leaves = f"{prefix}parindex_log_leaves"
        self.nodes = f"{prefix}parindex_log_nodes"
        self.state = f"{prefix}parindex_log_state"
        self.commands = f"{prefix}parindex_commands"
        self.checkpoints = f"{prefix}parindex_checkpoints"

    def q(self, sql: str) -> str:
        """Turns '?' placeholders into the dialect's."""
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def create_statements(self) -> list[str]:
        blob = "BLOB" if self.dialect == "sqlite" else "BYTEA"
        big = "INTEGER" if self.dialect == "sqlite" else "BIGINT"
        serial = "INTEGER PRIMARY KEY" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        # SQLite: one B-tree instead of table + index, so a commit writes fewer pages.
        clustered = " WITHOUT ROWID" if self.dialect == "sqlite" else ""
        return [
            f"CREATE TABLE IF NOT EXISTS {self.leaves} (leaf_index {big} PRIMARY KEY, "
            f"originator_id TEXT NOT NULL, originator_version {big} NOT NULL, "
            f"leaf_hash {blob} NOT NULL, notification_id {big})",
            f"CREATE INDEX IF NOT EXISTS parindex_log_leaves_event "
            f"ON {self.leaves} (originator_id, originator_version)",
            f"CREATE TABLE IF NOT EXISTS {self.nodes} (level INTEGER NOT NULL, "
            f"idx {big} NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx)){clustered}",
            f"CREATE TABLE IF NOT EXISTS {self.state} (id INTEGER PRIMARY KEY, "
            f"size {big} NOT NULL, frontier {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.commands} (command_id TEXT PRIMARY KEY, "
            f"digest TEXT NOT NULL, first_leaf {big} NOT NULL, leaf_count INTEGER NOT NULL)"
            f"{clustered}",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints} (id {serial}, "
            f"size {big} NOT NULL, root {blob} NOT NULL, note TEXT NOT NULL, "
            f"issued_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS parindex_checkpoints_size ON {self.checkpoints} (size)",
        ]

    def append(
        self,
        cur: Any,
        stored_events: Sequence[Any],
        notification_ids: Sequence[int] | None,
        command_id: str | None = None,
        command_digest: str | None = None,
        **_: Any,
    ) -> list[AppendedLeaf]:
        """Adds one leaf per stored event; call with the store's write lock held."""
        if not stored_events:
            return []
        cur.execute(self.q(f"SELECT size, frontier FROM {self.state} WHERE id = 1"))
        row = cur.fetchone()
        frontier = CompactRange.from_bytes(bytes(row["frontier"])) if row else CompactRange()
        ids = list(notification_ids) if notification_ids else [None] * len(stored_events)
        leaves: list[AppendedLeaf] = []
        node_rows: list[tuple[int, int, bytes]] = []
        for stored, nid in zip(stored_events, ids, strict=True):
            oid = stored.originator_id
            oid = oid if isinstance(oid, UUID) else UUID(str(oid))
            h = event_leaf_hash(oid, stored.originator_version, stored.topic, stored.state)
            leaves.append(AppendedLeaf(frontier.size, oid, stored.originator_version, h, nid))
            node_rows.extend(n for n in frontier.append(h) if n[0] > 0)
        self._insert(
            cur,
            self.leaves,
            ("bigint", "text", "bigint", "bytea", "bigint"),
            [
                (
                    x.leaf_index,
                    x.originator_id.hex,
                    x.originator_version,
                    x.leaf_hash,
                    x.notification_id,
                )
                for x in leaves
            ],
        )
        self._insert(cur, self.nodes, ("integer", "bigint", "bytea"), node_rows)
        if row is None:
            cur.execute(
                self.q(f"INSERT INTO {self.state} VALUES (1, ?, ?)"),
                (frontier.size, frontier.to_bytes()),
            )
        else:
            cur.execute(
                self.q(f"UPDATE {self.state} SET size = ?, frontier = ? WHERE id = 1"),
                (frontier.size, frontier.to_bytes()),
            )
        if command_id is not None:
            cur.execute(
                self.q(f"INSERT INTO {self.commands} VALUES (?, ?, ?, ?)"),
                (command_id, command_digest or "", leaves[0].leaf_index, len(leaves)),
            )
        return leaves

    def _insert(self, cur: Any, table: str, pg_types: tuple[str, ...], rows: list) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(pg_types))
            cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            return
        # psycopg runs executemany in pipeline mode, which can stall on a large
        # batch (see recorders.py); one unnest() statement per bounded slice
        # does not, and columns sent as array literals are cheap to encode.
        select = unnest_select(pg_types)
        for batch in batches(rows, ROWS_PER_STATEMENT):
            cur.execute(f"INSERT INTO {table} {select}", column_params(pg_types, batch))
