"""The command ids verify still has to remember (docs/FORMATS.md 8.2 step 6).

A second use of a command id can only be stamped within `horizon` =
2·(skew + grace) of the first, so an id is forgotten once the log's latest
timestamp has passed its run's time by that much. How many ids that leaves
depends on how fast commands came, not on the log's length: a season written
at 1,000 commands a second holds over a million ids in 22 minutes. So the
window lives in a temporary SQLite file (deleted when closed), and memory
stays flat whatever the rate: SQLite keeps a small page cache, the rest is on
disk.

Lookups are batched: `prefetch` reads, in one query, every id of a chunk of
leaves that is already known; `remember` queues ids that are new, and `flush`
writes them and forgets the expired ones, once per chunk.
"""

from __future__ import annotations

import sqlite3

BATCH = 500  # ids per IN (...) query, well below SQLite's parameter limit


class CommandWindow:
    def __init__(self, horizon: float):
        self.horizon = horizon
        # "" is a private temporary database on disk, removed on close.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-4096")  # KiB: 4 MiB of page cache
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, leaf INT, ts REAL) WITHOUT ROWID")
        self._db.execute("CREATE INDEX seen_ts ON seen (ts)")
        self._known: dict[str, tuple[int, float]] = {}  # this chunk's prefetched and new ids
        self._new: list[tuple[str, int, float]] = []

    def prefetch(self, ids: list[str]) -> None:
        """Loads the ids of the coming chunk that the window already holds."""
        wanted = list(dict.fromkeys(i for i in ids if i not in self._known))
        for start in range(0, len(wanted), BATCH):
            part = wanted[start : start + BATCH]
            marks = ",".join("?" * len(part))
            for cid, leaf, ts in self._db.execute(
                f"SELECT id, leaf, ts FROM seen WHERE id IN ({marks})", part
            ):
                self._known[cid] = (leaf, ts)

    def earlier(self, command_id: str, latest: float | None) -> int | None:
        """The leaf of an earlier run with this id still in the window, if any.
        Call `prefetch` with the id first."""
        found = self._known.get(command_id)
        if found is None:
            return None
        leaf, ts = found
        if latest is not None and ts < latest - self.horizon:
            return None  # forgotten: too old to be a second use (step 5)
        return leaf

    def remember(self, command_id: str, leaf: int, ts: float) -> None:
        self._known[command_id] = (leaf, ts)
        self._new.append((command_id, leaf, ts))

    def flush(self, latest: float | None) -> None:
        """Writes the chunk's new ids and forgets those out of the window."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?)", self._new)
            if latest is not None:
                self._db.execute("DELETE FROM seen WHERE ts < ?", (latest - self.horizon,))
        self._new.clear()
        self._known.clear()

    def close(self) -> None:
        self._db.close()
