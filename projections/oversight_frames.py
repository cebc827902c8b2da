"""The oversight sums as of any log index, cheaply (docs/API.md, "As of a moment").

`oversight_sums` holds the sums of every change so far. The sums as of index P
are those of the changes up to P: every KEYFRAME_EVERY changes of a cycle (and
of every cycle, "*"), `oversight_keyframes` keeps the sums per (dim, key) after
that leaf index, so a read as of P adds to the last keyframe at or before P the
changes after it up to P: one keyframe and at most KEYFRAME_EVERY changes (and
the changes of one event), whatever the size of the log.

Each change counts as projections/oversight_sums.write adds it up; the summary
dimensions are actor (the key id, "" when none), unit, leaf and area.
"""

from __future__ import annotations

from typing import Any

from projections import keyframes
from projections.oversight_sums import ALL_CYCLES, DEFAULT_PPM, FLAGS, MEASURES
from projections.rows import plain_rows
from projections.schema import OVERSIGHT_KINDS

KEYFRAME_EVERY = 5_000

# A change's counts, in the order of MEASURES.
_COUNTS = {
    "changes": "1",
    "score_changes": "(COALESCE(delta_key, 0) != 0)",
    "deducted_key": "(CASE WHEN delta_key < 0 THEN -delta_key ELSE 0 END)",
    "added_key": "(CASE WHEN delta_key > 0 THEN delta_key ELSE 0 END)",
    **{f"n_{k}": f"(kind = '{k}')" for k in OVERSIGHT_KINDS},
    **{f: f"COALESCE({f}, 0)" for f in FLAGS},
    "large_deductions": f"(loss_ppm >= {DEFAULT_PPM})",
}
KEYS = {"actor": "COALESCE(actor_key_id, '')", "unit": "unit", "leaf": "leaf", "area": "area"}
SUMS = ", ".join(f"SUM({m}) AS {m}" for m in MEASURES)
_COLS = ", ".join(MEASURES)


def _scope(cycles: str | list[str]) -> tuple[str, list]:
    """The WHERE prefix for the changes of a cycle, of ALL_CYCLES, or of a list."""
    if cycles == ALL_CYCLES:
        return "", []
    if isinstance(cycles, str):
        return "cycle = ? AND ", [cycles]
    return f"cycle IN ({', '.join('?' * len(cycles))}) AND ", list(cycles)


def changes(
    cycles: str | list[str], dim: str, measures: tuple[str, ...] = MEASURES
) -> tuple[str, list]:
    """SQL for the changes of `cycles` between two leaf indexes (the two `?` left
    last: after, up to), one row (key, `measures`) each for `dim`; its parameters
    before those two."""
    key = KEYS[dim]
    where, params = _scope(cycles)
    counts = "".join(f", {_COUNTS[m]} AS {m}" for m in measures)
    return (
        f"SELECT {key} AS key{counts} FROM oversight "
        f"WHERE {where}leaf_index > ? AND leaf_index <= ? AND {key} IS NOT NULL",
        params,
    )


def record(cur: Any, rows: list[tuple], cycle_at: int, index_at: int) -> None:
    """After a batch's changes `rows` (oversight rows, in log order) are written:
    the keyframes they complete, for their cycles and for ALL_CYCLES."""
    if not rows:
        return
    parts: dict[str, list[int]] = {ALL_CYCLES: []}
    for row in rows:
        if row[index_at] is None:
            continue
        parts.setdefault(row[cycle_at], []).append(row[index_at])
        parts[ALL_CYCLES].append(row[index_at])
    for cycle, indexes in parts.items():
        for previous, index in keyframes.due(
            cur, "oversight_frames", cycle, indexes, KEYFRAME_EVERY
        ):
            _keyframe(cur, cycle, previous, index)


def _keyframe(cur: Any, cycle: str, previous: int, index: int) -> None:
    """Every (dim, key)'s sums after `index`: the previous keyframe plus the changes since."""
    parts = [f"SELECT dim, key, {_COLS} FROM oversight_keyframes WHERE cycle = ? AND keyframe = ?"]
    params: list = [cycle, previous]
    for dim in KEYS:
        sql, more = changes(cycle, dim)
        parts.append(f"SELECT '{dim}' AS dim, key, {_COLS} FROM ({sql})")
        params += [*more, previous, index]
    cur.execute(
        f"INSERT INTO oversight_keyframes (cycle, keyframe, dim, key, {_COLS}) "
        f"SELECT ?, ?, dim, key, {SUMS} FROM ({' UNION ALL '.join(parts)}) GROUP BY dim, key",
        [cycle, index, *params],
    )


def page_at(
    cur: Any,
    cycles: str | list[str],
    dim: str,
    index: int,
    order: tuple[str | None, str],
    limit: int,
    offset: int,
) -> tuple[int, str, list]:
    """The sums per key of `dim` as of leaf index `index`, one page: (the number of
    keys, SQL and parameters giving the page's rows: key and MEASURES, in order).

    `cycles`: a cycle or ALL_CYCLES (from their last keyframe at or before
    `index`), or a list of cycles (from their changes). `order`: the measure the
    page is ordered on (None: by key) and the ORDER BY. The order and the count
    are found on that one measure; the page's keys alone are then summed whole
    (a summary of 10,000 units reads 2 columns of each, not 20)."""
    measure, order_by = order
    keyframe = -1
    if isinstance(cycles, str):
        keyframe = keyframes.last_at(cur, "oversight_keyframes", cycles, index)

    def summed(measures: tuple[str, ...], keys: list[str] | None) -> tuple[str, list]:
        only = "" if keys is None else f" AND key IN ({', '.join('?' * len(keys))})"
        cols = "".join(f", {m}" for m in measures)
        parts, params = [], []
        if keyframe >= 0:
            parts.append(
                f"SELECT key{cols} FROM oversight_keyframes "
                f"WHERE cycle = ? AND keyframe = ? AND dim = ?{only}"
            )
            params += [cycles, keyframe, dim, *(keys or [])]
        sql, more = changes(cycles, dim, measures)
        parts.append(f"SELECT * FROM ({sql}) WHERE 1 = 1{only}")
        params += [*more, keyframe, index, *(keys or [])]
        sums = "".join(f", SUM({m}) AS {m}" for m in measures)
        return f"SELECT key{sums} FROM ({' UNION ALL '.join(parts)}) GROUP BY key", params

    # One measure of every key (or the keys alone), summed and ordered here: the
    # keyframe's rows and the changes after it are a few thousand plain tuples.
    measures = () if measure is None else (measure,)
    sql, more = changes(cycles, dim, measures)
    narrow: dict[str, int] = {}
    if keyframe >= 0:
        narrow = dict(
            plain_rows(
                cur,
                f"SELECT key, {measure or 0} FROM oversight_keyframes "
                "WHERE cycle = ? AND keyframe = ? AND dim = ?",
                [cycles, keyframe, dim],
            )
        )
    for row in plain_rows(cur, sql, [*more, keyframe, index]):
        narrow[row[0]] = narrow.get(row[0], 0) + (row[1] if measure else 0)
    if measure is None:
        ordered = sorted(narrow)
    else:  # `measure` DESC, key: as ORDERS says
        ordered = [k for _v, k in sorted((-v, k) for k, v in narrow.items())]
    total = len(ordered)
    keys = ordered[offset : offset + limit]
    page, page_params = summed(MEASURES, keys)
    return total, f"{page} ORDER BY {order_by}", page_params
