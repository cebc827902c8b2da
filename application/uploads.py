"""Evidence uploads, and how many new bytes one key may upload in a day.

Uploaded blobs are not in the log, and no command need ever name them: without
a bound, one officer's key could fill the server's disk with 20 MiB files that
nothing refers to. So each key may store at most `per_day` bytes of *new* blobs
in any 24 hours (a file the store already holds costs nothing); past that the
upload is refused `429 upload_quota_exceeded`, with the hour it frees up. The
ledger is a small SQLite file in the data directory, shared by the server's
worker processes; a refused or failed upload leaves no charge in it.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from domain.errors import DomainError

DAY = 24 * 3600


class UploadQuota:
    def __init__(self, path: Path, per_day: int):
        self.path, self.per_day = path, per_day

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute(
            "CREATE TABLE IF NOT EXISTS uploads (key_id TEXT NOT NULL, at REAL NOT NULL, "
            "bytes INTEGER NOT NULL)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS uploads_key_at ON uploads (key_id, at)")
        return db

    @contextlib.contextmanager
    def charged(self, key_id: str, size: int, now: float | None = None) -> Iterator[None]:
        """Charges `size` bytes to the key, or refuses; the charge is taken back if
        the body of the `with` fails (the file was not stored)."""
        now = time.time() if now is None else now
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")  # one check-and-charge at a time
            db.execute("DELETE FROM uploads WHERE at <= ?", (now - DAY,))
            used, oldest = db.execute(
                "SELECT COALESCE(SUM(bytes), 0), MIN(at) FROM uploads WHERE key_id = ?",
                (key_id,),
            ).fetchone()
            if used + size > self.per_day:
                db.execute("COMMIT")
                raise _over(self.per_day, used, (oldest or now) + DAY, now)
            row = db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?) RETURNING rowid", (key_id, now, size)
            ).fetchone()[0]
            db.execute("COMMIT")
            try:
                yield
            except BaseException:
                db.execute("DELETE FROM uploads WHERE rowid = ?", (row,))
                raise
        finally:
            db.close()


def _over(limit: int, used: int, frees_at: float, now: float) -> DomainError:
    when = datetime.fromtimestamp(frees_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    error = DomainError(
        "upload_quota_exceeded",
        f"Khóa này đã tải lên {used} byte tệp mới trong 24 giờ qua (tối đa {limit}); "
        f"có thể tải tiếp từ {when}.",
        f"This key uploaded {used} bytes of new files in the last 24 hours (at most "
        f"{limit}); uploads are possible again from {when}.",
        field="file",
        status=429,
    )
    error.headers = {"Retry-After": str(max(1, int(frees_at - now) + 1))}
    return error


def upload(app, key_id: str, data: bytes, declared: str | None) -> tuple[dict, bool]:
    """Stores an evidence file for a key: (blob, it was already stored)."""
    store = app.evidence
    if store.has(hashlib.sha256(data).hexdigest()):
        return store.put(data, declared), True
    with app.uploads.charged(key_id, len(data)):
        return store.put(data, declared), False
