"""Waking a follower early on PostgreSQL (LISTEN/NOTIFY); SQLite only polls.

The library's recorder NOTIFYs its channel in every insert transaction. This
listener only sets an Event when a notification arrives: the follower still
reads the events itself, so a missed notification costs at most one polling
interval, never an event.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class Wakeup:
    def __init__(self, recorder: Any, event: threading.Event):
        self.recorder = recorder
        self.event = event
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def supported(recorder: Any) -> bool:
        try:
            from eventsourcing.postgres import PostgresApplicationRecorder
        except ImportError:  # pragma: no cover - postgres extra not installed
            return False
        return isinstance(recorder, PostgresApplicationRecorder)

    def start(self) -> None:
        if not self.supported(self.recorder):
            return
        self._thread = threading.Thread(
            target=self._listen, daemon=True, name="parindex-projection-listen"
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _listen(self) -> None:
        from psycopg.sql import SQL, Identifier

        try:
            with self.recorder.datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(self.recorder.channel_name)))
                while not self._stop.is_set():
                    for _ in conn.notifies(timeout=0.2, stop_after=1):
                        self.event.set()
        except Exception:  # polling goes on without it
            log.warning("projection LISTEN failed; polling only", exc_info=True)
