"""The sums of the oversight view per actor, unit, leaf or area (shapes in
projections/queries_oversight.py): one cycle's, or every cycle's (ALL_CYCLES)
read from their own rows, ordered on an index; any other set of cycles summed
row by row (GROUP BY)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from projections import oversight_frames as frames
from projections.queries_oversight import (
    FLAG_NAMES,
    cycle_exists,
    cycles_clause,
    dicts,
    keyed_cycles,
)
from projections.rows import dec_text
from projections.schema import OVERSIGHT_KINDS

DIMS = ("actor", "unit", "leaf", "area")
ORDERS = {
    "key": "key",
    "changes": "changes DESC, key",
    "deducted": "deducted_key DESC, key",
    "added": "added_key DESC, key",
}


SUMMED = (
    "changes",
    "score_changes",
    "deducted_key",
    "added_key",
    *(f"n_{k}" for k in OVERSIGHT_KINDS),
    *FLAG_NAMES,
    "large_deductions",
)


def _points(key: int) -> str:
    return dec_text(Decimal(int(key)).scaleb(-4)) or "0"


def summary(
    cur: Any,
    cycles: str | list[str] | None,
    by: str,
    order: str = "key",
    limit: int = 100,
    offset: int = 0,
    upto: int | None = None,
) -> dict | None:
    """`upto`: as of a moment, the sums of the changes up to that log index."""
    if by not in DIMS or order not in ORDERS:
        raise ValueError(f"by {by!r}, order {order!r}")
    if isinstance(cycles, str) and not cycle_exists(cur, cycles):
        return None
    limit, offset = max(0, int(limit)), max(0, int(offset))
    keyed = keyed_cycles(cur, cycles)
    clause, params = cycles_clause(keyed)
    clause = clause.replace("o.cycle", "cycle")
    if upto is not None:
        total = _summed_rows(cur, keyed, by, order, limit, offset, upto)
    elif isinstance(keyed, str):  # one cycle, or all of them: their own sums rows
        cur.execute(
            "SELECT COUNT(*) AS n FROM oversight_sums WHERE cycle = ? AND dim = ?", (keyed, by)
        )
        total = int(cur.fetchone()["n"])
        cur.execute(  # the page found on the index alone, then read (as `changes`)
            "SELECT s.* FROM (SELECT rowid AS id FROM oversight_sums WHERE cycle = ? AND dim = ? "
            f"ORDER BY {ORDERS[order]} LIMIT ? OFFSET ?) AS page "
            f"JOIN oversight_sums s ON s.rowid = page.id ORDER BY {ORDERS[order]}",
            (keyed, by, limit, offset),
        )
    else:
        cur.execute(
            f"SELECT COUNT(DISTINCT key) AS n FROM oversight_sums WHERE dim = ? AND {clause}",
            [by, *params],
        )
        total = int(cur.fetchone()["n"])
        sums = ", ".join(f"SUM({c}) AS {c}" for c in SUMMED)
        cur.execute(
            f"SELECT key, {sums} FROM oversight_sums WHERE dim = ? AND {clause} "
            f"GROUP BY key ORDER BY {ORDERS[order]} LIMIT ? OFFSET ?",
            [by, *params, limit, offset],
        )
    page = [_sum(r) for r in dicts(cur)]
    _name(cur, by, cycles, page)
    return {
        "cycle": cycles if isinstance(cycles, str) else None,
        "by": by,
        "order": order,
        "total": total,
        "limit": limit,
        "offset": offset,
        "rows": page,
    }


# What a page is ordered on: the measure and the ORDER BY (ORDERS).
_ORDERED_ON = {"key": None, "changes": "changes", "deducted": "deducted_key", "added": "added_key"}


def _summed_rows(
    cur: Any,
    keyed: str | list[str],
    by: str,
    order: str,
    limit: int,
    offset: int,
    upto: int,
) -> int:
    """The sums of the changes up to log index `upto` (projections/oversight_frames.py):
    for one cycle or every cycle, from a keyframe and the changes after it; for
    another set of cycles, from their changes (`keyed`: as keyed_cycles gives
    them, ALL_CYCLES for every cycle). Returns the number of keys and
    leaves the page to read from `cur`."""
    total, sql, params = frames.page_at(
        cur, keyed, by, upto, (_ORDERED_ON[order], ORDERS[order]), limit, offset
    )
    cur.execute(sql, params)
    return total


def _sum(r: Any) -> dict:
    return {
        "key": r["key"],
        "changes": int(r["changes"]),
        "score_changes": int(r["score_changes"]),
        "points_deducted": _points(r["deducted_key"]),
        "points_added": _points(r["added_key"]),
        "net": _points(int(r["added_key"]) - int(r["deducted_key"])),
        "kinds": {k: int(r[f"n_{k}"]) for k in OVERSIGHT_KINDS},
        "flags": {f: int(r[f]) for f in FLAG_NAMES},
        "large_deductions": int(r["large_deductions"]),
    }


def _name(cur: Any, by: str, cycles: str | list[str] | None, page: list[dict]) -> None:
    """Who or what each key is: a key's holder and role, a unit's name, a criterion's title."""
    keys = [r["key"] for r in page]
    if not keys:
        return
    marks = ", ".join("?" * len(keys))
    if by == "actor":
        cur.execute(f"SELECT key_id, display_name, role FROM keys WHERE key_id IN ({marks})", keys)
        found = {r["key_id"]: (r["display_name"], r["role"]) for r in cur.fetchall()}
        for r in page:
            r["name"], r["role"] = found.get(r["key"], (None, None))
        return
    clause, params = cycles_clause(cycles)
    if by == "unit":
        cur.execute(
            f"SELECT o.unit AS key, o.name FROM units o WHERE {clause} AND o.unit IN ({marks}) "
            "ORDER BY o.cycle",
            [*params, *keys],
        )
    else:
        cur.execute(
            f"SELECT n.code AS key, n.title AS name FROM cycles o JOIN framework_nodes n "
            f"ON n.framework_id = o.framework WHERE {clause} AND n.code IN ({marks}) "
            "ORDER BY o.cycle",
            [*params, *keys],
        )
    found: dict[str, str] = {}
    for row in cur.fetchall():
        found.setdefault(row["key"], row["name"])
    label = "name" if by == "unit" else "title"
    for r in page:
        r[label] = found.get(r["key"])
