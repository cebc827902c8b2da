"""Where the read model takes a keyframe of a running sum (projections/standing.py,
projections/oversight_frames.py): after the leaf index at which the rows logged
since the last one reach a count. The count is of rows the log alone decides, so
a keyframe falls at the same index however the log was cut into batches.

`frames` tables hold, per key (a cycle, or "*" for every cycle), the last
keyframe's leaf index and the rows logged since: {"cycle", "keyframe", "since"}.
"""

from __future__ import annotations

from typing import Any


def due(cur: Any, frames: str, key: str, indexes: list[int], every: int) -> list[tuple[int, int]]:
    """The keyframes that the new rows at `indexes` (leaf indexes, in log order)
    complete, as (previous keyframe or -1, this keyframe); the count is kept."""
    cur.execute(f"SELECT keyframe, since FROM {frames} WHERE cycle = ?", (key,))
    found = cur.fetchone()
    last, since = (-1, 0) if found is None else (found[0], found[1])
    out = []
    for i, index in enumerate(indexes):
        since += 1
        end_of_index = i + 1 == len(indexes) or indexes[i + 1] != index
        if end_of_index and since >= every:
            out.append((last, index))
            last, since = index, 0
    cur.execute(
        f"INSERT OR REPLACE INTO {frames} (cycle, keyframe, since) VALUES (?, ?, ?)",
        (key, last, since),
    )
    return out


def last_at(cur: Any, table: str, key: str, index: int) -> int:
    """The last keyframe of `key` in `table` at or before `index` (-1: none)."""
    cur.execute(
        f"SELECT keyframe FROM {table} WHERE cycle = ? AND keyframe <= ? "
        "ORDER BY keyframe DESC LIMIT 1",
        (key, index),
    )
    row = cur.fetchone()
    return -1 if row is None else row[0]
