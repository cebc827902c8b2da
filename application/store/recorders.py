"""Application recorders that append every stored event to the Merkle log.

They subclass the eventsourcing library's recorders and add the log rows inside
the library's own insert transaction, after the library has taken its write lock
(SQLite: the database write lock taken by the first INSERT; PostgreSQL: the
EXCLUSIVE table lock). That lock is what makes leaf indices contiguous even
when PostgreSQL's notification ids have gaps.

Selected through the library's APPLICATION_RECORDER_TOPIC setting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg.sql import SQL

from application.store.log_tables import AppendedLeaf, LogTables


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
        self._lock_path = None if memory or not db else db + ".write-lock"
        self._lock_fd: int | None = None

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.log.create_statements()

    def insert_events(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        # Writers in other processes (a server's workers) queue on a file lock
        # and wake as soon as it is free, instead of polling in SQLite's busy
        # handler with growing sleeps while they wait for the write lock.
        if self._lock_path is None:
            return super().insert_events(stored_events, **kwargs)
        with self._write_lock_file():
            return super().insert_events(stored_events, **kwargs)

    @contextlib.contextmanager
    def _write_lock_file(self):
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        self.last_append.leaves = self.log.append(c, stored_events, ids, **kwargs)
        return ids


class LoggedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.log = LogTables("postgres", schema=datastore.schema)
        self.last_append = _AppendResult()
        self.sql_create_statements.extend(SQL(s) for s in self.log.create_statements())

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[Any], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self.last_append.leaves = self.log.append(curs, stored_events, ids, **kwargs)
        return ids
