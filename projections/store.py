"""The read-model file: one SQLite database per app server, following the log.

`ReadModel(path)` opens or creates the file (WAL), its tables (sqlite-utils)
and the eventsourcing library's tracking table. Rows and the tracking position
are written in ONE transaction (`write()`), which begins IMMEDIATE so that two
processes following into the same file serialise: each re-reads the position
inside its transaction and skips what another already applied.

`path` may be a symbolic link to a generation file (`rebuild` makes it one):
SQLite names the -wal/-shm files after the link's target, so a swapped-in
generation never meets the previous generation's WAL. When the link moves,
this object reopens on the new target at its next transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlite_utils
from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from projections.schema import (
    ANCHOR_TABLE,
    SCHEMA_VERSION,
    TABLES,
    create_tables,
    primary_key,
)

APPLICATION_NAME = "parindex"
LOCK_TIMEOUT = 30


class ReadModel:
    def __init__(
        self,
        path: str | os.PathLike,
        *,
        synchronous: str = "NORMAL",
        application_name: str = APPLICATION_NAME,
    ):
        self.path = os.fspath(path)
        self.synchronous = synchronous
        self.application_name = application_name
        self._reopen_lock = threading.Lock()
        self._open()

    # -- opening ---------------------------------------------------------------
    def _open(self) -> None:
        self.target = os.path.realpath(self.path)
        for attempt in range(10):
            try:
                self._create()
                break
            except (sqlite3.OperationalError, IntegrityError, OperationalError):
                # Another process is creating the same file at this moment.
                if attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _create(self) -> None:
        conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            self.schema_version = create_tables(sqlite_utils.Database(conn))
            conn.commit()
        finally:
            conn.close()
        self.datastore = SQLiteDatastore(
            db_name=self.path, lock_timeout=LOCK_TIMEOUT, pool_timeout=float(LOCK_TIMEOUT)
        )
        self.tracking = SQLiteTrackingRecorder(self.datastore)
        self.tracking.create_table()

    @property
    def outdated(self) -> bool:
        """Made by another version of these tables: rebuild it, do not read it."""
        return self.schema_version != SCHEMA_VERSION

    def _follow_swap(self) -> None:
        if os.path.realpath(self.path) == self.target:
            return
        with self._reopen_lock:
            if os.path.realpath(self.path) != self.target:
                # The old pool is left to the garbage collector: a transaction
                # still running on it keeps it alive until it ends.
                self._open()

    def close(self) -> None:
        self.datastore.close()

    # -- transactions ----------------------------------------------------------
    @contextmanager
    def write(self, timeout: float | None = None) -> Iterator[SQLiteCursor]:
        """One IMMEDIATE write transaction; commits on success, rolls back on error.

        `timeout`: at most this many seconds waiting for another writer's lock
        (default LOCK_TIMEOUT), then sqlite3.OperationalError ("database is locked")."""
        self._follow_swap()
        with self.datastore.get_connection(commit=True) as conn:
            cur = conn.cursor()
            cur.execute(f"PRAGMA synchronous={self.synchronous}")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: a batch's pages stay hot
            if timeout is None:
                cur.execute("BEGIN IMMEDIATE")
            else:
                cur.execute(f"PRAGMA busy_timeout={int(max(timeout, 0.0) * 1000)}")
                try:
                    cur.execute("BEGIN IMMEDIATE")
                finally:  # the pooled connection keeps its usual wait
                    cur.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT * 1000}")
            try:
                yield cur
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()

    @contextmanager
    def read(self) -> Iterator[SQLiteCursor]:
        """One read transaction: every query in it sees the same snapshot."""
        self._follow_swap()
        with self.datastore.transaction(commit=False) as cur:
            yield cur

    # -- tracking --------------------------------------------------------------
    def position(self) -> int:
        """The last notification id applied (0 before the first)."""
        self._follow_swap()
        return self.tracking.max_tracking_id(self.application_name) or 0

    def position_in(self, cur: SQLiteCursor) -> int:
        return self.tracking._max_tracking_id(self.application_name, cur) or 0

    def record_position(self, cur: SQLiteCursor, notification_id: int) -> None:
        """Writes the tracking row in the caller's transaction (exactly once)."""
        self.tracking._insert_tracking(cur, Tracking(self.application_name, notification_id))

    # -- the log it was built from ---------------------------------------------
    def record_anchor(self, cur: SQLiteCursor, position: int, size: int, root: bytes) -> None:
        """In the caller's transaction: after notification `position`, the log
        had (at least) `size` leaves with this root over the first `size`."""
        cur.execute(
            f"INSERT OR REPLACE INTO {ANCHOR_TABLE} (id, position, size, root) VALUES (1, ?, ?, ?)",
            (position, size, root.hex()),
        )

    def anchor(self) -> tuple[int, int | None, bytes | None]:
        """(tracking position, anchored log size, root) read in one snapshot;
        size and root None for a file that has none yet."""
        with self.read() as cur:
            position = self.position_in(cur)
            cur.execute(f"SELECT size, root FROM {ANCHOR_TABLE} WHERE id = 1")
            row = cur.fetchone()
        if row is None:
            return position, None, None
        return position, int(row["size"]), bytes.fromhex(row["root"])

    # -- digests ---------------------------------------------------------------
    def digests_at(self) -> tuple[int, dict[str, str]]:
        """(position, sha256 per table) read in one snapshot.

        Each table's digest is over every row in primary-key order as
        canonical JSON. Only derived rows count: the tracking table is left
        out, so a model rebuilt from 0 to the same position has equal digests.
        """
        out = {}
        with self.read() as cur:
            position = self.position_in(cur)
            for table in sorted(TABLES):
                order = ", ".join(f'"{c}"' for c in primary_key(table))
                cur.execute(f"SELECT * FROM {table} ORDER BY {order}")
                h = hashlib.sha256(_dump([d[0] for d in cur.sqlite_cursor.description]))
                while rows := cur.sqlite_cursor.fetchmany(DIGEST_CHUNK):
                    h.update(_dump([tuple(r) for r in rows]))
                out[table] = h.hexdigest()
        return position, out

    def table_digests(self) -> dict[str, str]:
        return self.digests_at()[1]

    def digest(self) -> str:
        """One "sha256:<hex>" over the per-table digests."""
        return combine(self.table_digests())


def combine(tables: dict[str, str]) -> str:
    lines = "".join(f"{t}:{d}\n" for t, d in sorted(tables.items()))
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


class PrivateModel(ReadModel):
    """A read model file only its builder touches (a rebuild, a comparison).

    One connection, exclusive lock, rollback journal in memory, no fsync: the
    library's pool would put the file in WAL mode, which writes every page
    twice. `close()` switches the finished file to WAL for the readers that
    open it as a ReadModel afterwards. A build that fails leaves a file fit
    only for deletion.
    """

    def _create(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in (
            "journal_mode=MEMORY",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",
            "cache_size=-131072",
        ):
            conn.execute(f"PRAGMA {pragma}")
        self.schema_version = create_tables(sqlite_utils.Database(conn))
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        # The recorder only lends its SQL and tracking logic: its pool stays unused.
        self.datastore = SQLiteDatastore(db_name=self.path)
        self.tracking = SQLiteTrackingRecorder(self.datastore)
        with self.write() as cur:
            self.tracking._create_table(cur)

    def _follow_swap(self) -> None:
        pass

    @contextmanager
    def write(self, timeout: float | None = None) -> Iterator[SQLiteCursor]:
        assert self._conn is not None, "closed"  # exclusive: no one else to wait for
        with self._lock:
            cur = SQLiteCursor(self._conn.cursor())
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()

    read = write

    def position(self) -> int:
        with self.read() as cur:
            return self.position_in(cur)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.close()
            self._conn = None


DIGEST_CHUNK = 1000


def _dump(value: Any) -> bytes:
    """Compact JSON, one array per chunk of rows (values are text, integers, null)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
