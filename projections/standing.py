"""Where every unit of a cycle stood at any log index, cheaply (projections/as_of.py).

The cycle-wide reads as of a moment (the live ranking, the cycle's progress)
need, for every unit, three things as they stood then: its logged stage, whether
it stood submitted, and its appraised total (x 10^4). Seeking each unit's
timeline for 10,000 units costs about 70 ms a read; instead:

- `standing_log` holds a narrow row (stage, submitted, total_key) each time one
  of the three changes for a unit, clustered by (cycle, leaf index);
- every KEYFRAME_EVERY such rows of a cycle, `standing_keyframes` holds every
  unit's three values as they stood after that leaf index (the previous keyframe
  plus the rows since: a copy, never a scan of the whole log).

A read at index P (`materialized`) takes the last keyframe at or before P and
the rows after it up to P: at most one keyframe plus KEYFRAME_EVERY rows (and the rows of one
event), whatever the size of the log. Both tables are derived from the log
alone, whatever batches it was applied in, so a rebuilt model has them equal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

# Rows of a cycle between keyframes: a read does at most this much past one.
KEYFRAME_EVERY = 5_000


class Standing(NamedTuple):
    stage: str | None
    submitted: int
    total_key: int | None


def of(status: tuple | None, totals: tuple | None) -> Standing:
    """A unit's standing from its unit_status and unit_totals rows (without leaf index)."""
    from projections.schema import columns

    stage = None if status is None else status[columns("unit_status").index("stage")]
    if totals is None:
        return Standing(stage, 0, None)
    names = columns("unit_totals")
    return Standing(stage, totals[names.index("submitted")] or 0, totals[names.index("total_key")])


def record(cur: Any, rows: Iterable[tuple]) -> None:
    """Stores standing rows (cycle, leaf_index, unit, stage, submitted, total_key), in
    log order, and the keyframes they complete."""
    by_cycle: dict[str, list[tuple]] = {}
    for row in rows:
        by_cycle.setdefault(row[0], []).append(row)
    if not by_cycle:
        return
    cur.executemany(
        "INSERT OR REPLACE INTO standing_log (cycle, leaf_index, unit, stage, submitted, "
        "total_key) VALUES (?, ?, ?, ?, ?, ?)",
        [r for part in by_cycle.values() for r in part],
    )
    for cycle, part in by_cycle.items():
        _keyframes(cur, cycle, part)


def _keyframes(cur: Any, cycle: str, part: list[tuple]) -> None:
    """Counts the new rows on from the cycle's last keyframe; at the end of the leaf
    index where the count reaches KEYFRAME_EVERY, a keyframe."""
    cur.execute("SELECT keyframe, since FROM standing_frames WHERE cycle = ?", (cycle,))
    found = cur.fetchone()
    last, since = (-1, 0) if found is None else (found[0], found[1])
    for i, row in enumerate(part):
        since += 1
        index = row[1]
        end_of_index = i + 1 == len(part) or part[i + 1][1] != index
        if end_of_index and since >= KEYFRAME_EVERY:
            _keyframe(cur, cycle, last, index)
            last, since = index, 0
    cur.execute(
        "INSERT OR REPLACE INTO standing_frames (cycle, keyframe, since) VALUES (?, ?, ?)",
        (cycle, last, since),
    )


def _keyframe(cur: Any, cycle: str, previous: int, index: int) -> None:
    """Every unit's standing after `index`: the previous keyframe, less the units
    changed since, plus their latest rows."""
    cur.execute(
        "INSERT INTO standing_keyframes (cycle, keyframe, unit, stage, submitted, total_key) "
        "SELECT ?, ?, k.unit, k.stage, k.submitted, k.total_key FROM standing_keyframes k "
        "WHERE k.cycle = ? AND k.keyframe = ? AND k.unit NOT IN (SELECT unit FROM "
        "standing_log WHERE cycle = ? AND leaf_index > ? AND leaf_index <= ?)",
        (cycle, index, cycle, previous, cycle, previous, index),
    )
    # SQLite takes a bare column from the row holding the MAX: each unit's latest.
    cur.execute(
        "INSERT INTO standing_keyframes (cycle, keyframe, unit, stage, submitted, total_key) "
        "SELECT ?, ?, unit, stage, submitted, total_key FROM (SELECT unit, stage, submitted, "
        "total_key, MAX(leaf_index) FROM standing_log WHERE cycle = ? AND leaf_index > ? "
        "AND leaf_index <= ? GROUP BY unit)",
        (cycle, index, cycle, previous, index),
    )


@contextlib.contextmanager
def materialized(cur: Any, cycle: str, index: int) -> Iterator[str]:
    """Inside the read transaction `cur`: a TEMP table `standing_at` (unit, stage,
    submitted, total_key) of every unit opened by log index `index`, with its
    standing then; dropped on the way out. Yields the table's name."""
    cur.execute(
        "SELECT keyframe FROM standing_keyframes WHERE cycle = ? AND keyframe <= ? "
        "ORDER BY keyframe DESC LIMIT 1",
        (cycle, index),
    )
    row = cur.fetchone()
    keyframe = -1 if row is None else row[0]
    cur.execute("PRAGMA temp_store")
    if cur.fetchone()[0] != 2:
        # TEMP tables in memory, not in a temporary file (set once a connection:
        # setting it drops the connection's TEMP tables, and none is open here)
        cur.execute("PRAGMA temp_store = MEMORY")
    cur.execute("DROP TABLE IF EXISTS temp.standing_at")
    cur.execute(
        "CREATE TEMP TABLE standing_at (unit TEXT PRIMARY KEY, stage TEXT, "
        "submitted INTEGER, total_key INTEGER) WITHOUT ROWID"
    )
    try:
        cur.execute(
            "INSERT INTO temp.standing_at SELECT unit, stage, submitted, total_key "
            "FROM standing_keyframes WHERE cycle = ? AND keyframe = ?",
            (cycle, keyframe),
        )
        # SQLite takes a bare column from the row holding the MAX: each unit's latest.
        cur.execute(
            "INSERT OR REPLACE INTO temp.standing_at SELECT unit, stage, submitted, "
            "total_key FROM (SELECT unit, stage, submitted, total_key, MAX(leaf_index) "
            "FROM standing_log WHERE cycle = ? AND leaf_index > ? AND leaf_index <= ? "
            "GROUP BY unit)",
            (cycle, keyframe, index),
        )
        yield "temp.standing_at"
    finally:
        cur.execute("DROP TABLE IF EXISTS temp.standing_at")


def rows(cur: Any, sql: str, params: tuple = ()) -> list[tuple]:
    """All rows of one query as plain tuples, in the read transaction of `cur` (a
    second cursor of its connection): thousands of named rows cost tens of ms."""
    raw = getattr(cur, "sqlite_cursor", cur).connection.cursor()
    raw.row_factory = None
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()
