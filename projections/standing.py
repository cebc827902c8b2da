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

from projections import keyframes
from projections.schema import columns

# Rows of a cycle between keyframes: a read does at most this much past one.
KEYFRAME_EVERY = 5_000


class Standing(NamedTuple):
    stage: str | None
    submitted: int
    total_key: int | None


# Where the unit_status and unit_totals rows hold the three values.
_STAGE = columns("unit_status").index("stage")
_SUBMITTED = columns("unit_totals").index("submitted")
_TOTAL_KEY = columns("unit_totals").index("total_key")


def of(status: tuple | None, totals: tuple | None) -> Standing:
    """A unit's standing from its unit_status and unit_totals rows (without leaf index)."""
    stage = None if status is None else status[_STAGE]
    if totals is None:
        return Standing(stage, 0, None)
    return Standing(stage, totals[_SUBMITTED] or 0, totals[_TOTAL_KEY])


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
        indexes = [row[1] for row in part]
        for previous, index in keyframes.due(
            cur, "standing_frames", cycle, indexes, KEYFRAME_EVERY
        ):
            _keyframe(cur, cycle, previous, index)


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
    keyframe = keyframes.last_at(cur, "standing_keyframes", cycle, index)
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
