"""Application recorders that append every stored event to the Merkle log.

They subclass the eventsourcing library's recorders and add the log rows inside
the library's own insert transaction, after the library has taken its write lock
(SQLite: the database write lock taken by the first INSERT; PostgreSQL: the
EXCLUSIVE table lock). That lock is what makes leaf indices contiguous even
when PostgreSQL's notification ids have gaps.

Every write is bounded (`configure_timeouts`, from the deployment's settings):
it waits at most the lock timeout for the store's write lock, and on
PostgreSQL its statements together run at most the statement timeout; past
either it fails with `StoreUnavailable` (store_busy / store_timeout) and its
transaction is rolled back, so nothing is written.

PostgreSQL: the library sends the whole insert in pipeline mode, and psycopg's
pipeline stops flushing once its command queue is empty, so a statement larger
than what the socket buffers take at once (measured: 6 MB went through, 8 MB
never did, on loopback with psycopg 3.3.9 pure Python and libpq 15; the figure
depends on the kernel's socket buffers) waits forever for a reply the server
never got, holding the EXCLUSIVE lock (compare psycopg issue #685). So this
recorder writes without pipeline mode, in statements of bounded size.

Selected through the library's APPLICATION_RECORDER_TOPIC setting.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg.sql import SQL, Identifier

from application.config import (
    DEFAULT_WRITE_LOCK_TIMEOUT_SECONDS,
    DEFAULT_WRITE_STATEMENT_TIMEOUT_SECONDS,
)
from application.errors import StoreUnavailable
from application.store.file_lock import FileWriteLock
from application.store.log_tables import AppendedLeaf, LogTables, batches
from application.store.pg_columns import column_params, unnest_select


class _AppendResult(threading.local):
    leaves: list[AppendedLeaf]

    def __init__(self) -> None:
        self.leaves = []


class LoggedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.log = LogTables("sqlite")
        self.last_append = _AppendResult()
        super().__init__(datastore, events_table_name)
        db = datastore.pool.db_name
        memory = datastore.pool.is_sqlite_memory_mode
        # Writers in other processes (a server's workers) queue on a file lock
        # and wake as soon as it is free, instead of polling in SQLite's busy
        # handler with growing sleeps while they wait for the write lock.
        self.write_lock = (
            None
            if memory or not db
            else FileWriteLock(db + ".write-lock", DEFAULT_WRITE_LOCK_TIMEOUT_SECONDS)
        )
        self.lock_timeout: float = datastore.pool.lock_timeout or 5

    def configure_timeouts(self, lock_seconds: int, statement_seconds: int) -> None:
        self.lock_timeout = lock_seconds
        if self.write_lock is not None:
            self.write_lock.timeout = lock_seconds

    @contextlib.contextmanager
    def exclusive(
        self, aggregate_id: UUID | None = None, shared: UUID | None = None
    ) -> Iterator[None]:
        """The store's write lock, held across a whole command (decide + save) so
        that writers of other processes queue instead of deciding on stale state.
        SQLite has one writer at a time anyway, so it is one lock for the store
        (and `shared` needs no lock of its own)."""
        if self.write_lock is None:
            yield
            return
        with self.write_lock.held():
            yield

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.log.create_statements()

    def insert_events(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        try:
            with self.exclusive():
                return super().insert_events(stored_events, **kwargs)
        except OperationalError as e:
            if "locked" in str(e):  # SQLite's busy timeout ran out
                raise StoreUnavailable("store_busy", self.lock_timeout) from e
            raise

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        self.last_append.leaves = self.log.append(c, stored_events, ids, **kwargs)
        return ids


# One INSERT statement carries at most this many events or this many bytes of
# event state (the last event may pass the byte bound alone). State travels as
# hex (pg_columns.py), so a statement is about twice this on the wire.
MAX_EVENTS_PER_STATEMENT = 1000
MAX_STATE_BYTES_PER_STATEMENT = 1 << 20


class LoggedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.log = LogTables("postgres", schema=datastore.schema)
        self.last_append = _AppendResult()
        self.sql_create_statements.extend(SQL(s) for s in self.log.create_statements())
        # The library's own statement sends a composite-type array, which psycopg
        # encodes element by element in Python; the same rows as one array
        # literal per column cost a fraction of that (pg_columns.py). RETURNING
        # yields the ids in the order of the rows, as the library's does.
        id_kind = "uuid" if datastore.originator_id_type == "uuid" else "text"
        self._event_kinds = (id_kind, "bigint", "text", "bytea")
        self._insert_events_sql = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            + unnest_select(self._event_kinds)
            + " RETURNING notification_id"
        ).format(schema=Identifier(datastore.schema), table=Identifier(self.events_table_name))
        self.configure_timeouts(
            datastore.lock_timeout or DEFAULT_WRITE_LOCK_TIMEOUT_SECONDS,
            DEFAULT_WRITE_STATEMENT_TIMEOUT_SECONDS,
        )

    def configure_timeouts(self, lock_seconds: int, statement_seconds: int) -> None:
        self.lock_timeout, self.statement_timeout = lock_seconds, statement_seconds
        # SET LOCAL: for this write's transaction only. The idle bound ends a
        # transaction whose client stopped talking mid-write (it would keep
        # the table lock), which statement_timeout alone does not cover.
        self._bounds = [
            SQL(f"SET LOCAL {name} = '{int(seconds * 1000)}ms'")
            for name, seconds in (
                ("lock_timeout", lock_seconds),
                ("statement_timeout", statement_seconds),
                ("idle_in_transaction_session_timeout", statement_seconds),
            )
        ]
        self.lock_table_statements[0] = SQL(f"SET LOCAL lock_timeout = '{lock_seconds * 1000}ms'")

    @contextlib.contextmanager
    def exclusive(
        self, aggregate_id: UUID | None = None, shared: UUID | None = None
    ) -> Iterator[None]:
        """This server's turn on one aggregate, held across a whole command
        (decide + save): writers of one aggregate queue on a transaction-scoped
        advisory lock instead of deciding on the same state and all but one
        losing. Commands on other aggregates do not wait for it.

        `shared` is a gate held in shared mode first: a unit's commands hold
        their cycle's gate shared, and commands on the whole cycle (deadlines,
        closing, ranking) hold it exclusively (as their `aggregate_id`), so a
        unit's command never decides on a cycle state that changes before its
        events are stored, and a cycle-wide decision sees every unit's last
        stored event."""
        if aggregate_id is None:
            yield
            return
        key = int.from_bytes(aggregate_id.bytes[:8], "big", signed=True)
        # Held while this server decides and saves (lock wait + write), so it
        # may idle longer than a write; a server that stops mid-command loses
        # its turn after this, and the others go on.
        idle = 2 * (self.lock_timeout + self.statement_timeout)
        with self.datastore.get_connection() as conn:
            try:
                with self.bounded():
                    conn.execute("BEGIN")
                    conn.execute(self._bounds[0])
                    conn.execute(
                        SQL(f"SET LOCAL idle_in_transaction_session_timeout = '{idle * 1000}ms'")
                    )
                    if shared is not None:
                        gate = int.from_bytes(shared.bytes[:8], "big", signed=True)
                        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (gate,))
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                yield
            finally:
                # Ends the turn whatever happened; a broken connection has
                # already lost its locks with its session.
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")

    def insert_events(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert, without pipeline mode, in bounded statements,
        with the log rows in the same transaction. Not retried: a write that
        timed out fails at once rather than queueing again behind the lock."""
        if not stored_events:
            return []
        deadline = time.monotonic() + self.statement_timeout
        with (
            self.bounded(),
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            for statement in self._bounds:
                curs.execute(statement)
            self._lock_table(curs)
            self._notify_channel(curs)
            ids: list[int] = []
            for batch in batches(
                stored_events,
                MAX_EVENTS_PER_STATEMENT,
                MAX_STATE_BYTES_PER_STATEMENT,
                lambda e: len(e.state),
            ):
                rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in batch]
                self._remaining(curs, deadline)
                curs.execute(self._insert_events_sql, column_params(self._event_kinds, rows))
                ids.extend(row["notification_id"] for row in curs.fetchall())
            self._remaining(curs, deadline)
            self.last_append.leaves = self.log.append(curs, stored_events, ids, **kwargs)
        return ids

    def _remaining(self, curs: Any, deadline: float) -> None:
        """The statement timeout bounds the whole write, not each statement: the
        statements of one write share it, so the table lock is held at most
        about that long whatever the size of the write."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise StoreUnavailable("store_timeout", self.statement_timeout)
        curs.execute(SQL(f"SET LOCAL statement_timeout = '{max(1, int(left * 1000))}ms'"))

    @contextlib.contextmanager
    def bounded(self) -> Iterator[None]:
        """Turns the server's lock and statement timeouts into StoreUnavailable
        (raised by psycopg, or already wrapped by the library)."""
        try:
            yield
        except (OperationalError, psycopg.OperationalError) as e:
            cause = e if isinstance(e, psycopg.Error) else e.__cause__
            if isinstance(cause, psycopg.errors.LockNotAvailable):
                raise StoreUnavailable("store_busy", self.lock_timeout) from e
            if isinstance(
                cause,
                (psycopg.errors.QueryCanceled, psycopg.errors.IdleInTransactionSessionTimeout),
            ):
                raise StoreUnavailable("store_timeout", self.statement_timeout) from e
            raise
