"""Reads of the oversight view (projections/oversight.py): the changes, filtered
and paged in log order; their sums per actor, unit, leaf or area are read by
projections/queries_oversight_sums.py.

`cycles` is one cycle code (None from `changes` when it does not exist), a list
of codes (the cycles a key reaches; [] reads nothing) or None (every cycle).

Change = {log_index, notification_id, part, cycle, unit, unit_name, leaf, area,
    kind, round, actor: {key_id, name, role}, at (signed issued_at), logged_at,
    old_value, new_value, old_points, new_points, delta, max_points, reason,
    evidence_ids, deadline: null | {kind, due}, flags: {after_submission,
    after_deadline, after_approval, after_publication, large_deduction},
    notes: [Note] (projections/queries_notes.py: the observers' notes on it)}
Changes = {cycle, total, limit, offset, after, large_share, changes: [Change]}
Sum = {key, name, role (actor), title (leaf, area), changes, score_changes,
    points_deducted, points_added, net, kinds: {kind: n}, flags: {flag: n},
    large_deductions (at the default share)}
Summary = {cycle, by, order, total, limit, offset, rows: [Sum]}

Every equality filter is a column of an index that starts with the cycle (or,
across cycles, with the unit or the actor), so a page walks an index in log
order and skips `offset` entries on the index alone; a total with no filter
but one kind, one flag, a minimum size or a large-deduction share is read from
the sums; other totals count an index.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_CEILING, Decimal
from typing import Any

from projections.oversight_sums import ALL_CYCLES, DEFAULT_SHARE, loss_text, size_text
from projections.queries_notes import note
from projections.rows import dec_text, jload
from projections.schema import OVERSIGHT_KINDS

FLAG_NAMES = ("after_submission", "after_deadline", "after_approval", "after_publication")


@dataclass(frozen=True)
class Filters:
    unit: str | None = None
    leaf: str | None = None
    actor: str | None = None
    round: int | None = None
    kind: str | None = None
    min_change: Decimal | None = None  # |delta| at least this
    after_submission: bool | None = None
    after_deadline: bool | None = None
    after_approval: bool | None = None
    after_publication: bool | None = None
    large: bool | None = None  # a deduction of at least large_share x the leaf's max
    large_share: Decimal = DEFAULT_SHARE
    upto: int | None = None  # as of a moment: the changes up to this log index

    def given(self) -> set[str]:
        return {
            f.name
            for f in fields(self)
            if f.name != "large_share" and getattr(self, f.name) is not None
        }


def _ceil(value: Decimal, places: int) -> int:
    return int(value.scaleb(places).to_integral_value(rounding=ROUND_CEILING))


def _ppm(share: Decimal) -> int:
    """A share as parts per million, rounded up: loss_ppm >= it iff loss >= share
    (loss_ppm is floored, so this is exact for shares of up to 6 places)."""
    return _ceil(share, 6)


def cycles_clause(cycles: str | list[str] | None) -> tuple[str, list]:
    if cycles is None:
        return "1 = 1", []
    if isinstance(cycles, str):
        return "o.cycle = ?", [cycles]
    if not cycles:
        return "0 = 1", []
    return f"o.cycle IN ({', '.join('?' * len(cycles))})", list(cycles)


def _where(
    cycles: str | list[str] | None, f: Filters, *, in_order: bool = False
) -> tuple[str, list]:
    """The WHERE clause and its parameters. `in_order` (a page): the size filters
    are not indexed, so the page walks an index in log order and stops at its
    last row, instead of sorting every row of a size range (`+` keeps SQLite off
    the size indexes; the count still uses them)."""
    plus = "+" if in_order else ""
    clause, params = cycles_clause(cycles)
    parts = [clause]
    for name in ("unit", "leaf", "kind", "round"):
        value = getattr(f, name)
        if value is not None:
            parts.append(f'o."{name}" = ?')
            params.append(value)
    if f.actor is not None:
        parts.append("o.actor_key_id = ?")
        params.append(f.actor)
    for name in FLAG_NAMES:
        value = getattr(f, name)
        if value is not None:
            parts.append(f"o.{name} = ?")
            params.append(int(value))
    if f.min_change is not None and f.min_change > 0:
        parts.append(f"{plus}o.size_key >= ?")
        params.append(_ceil(f.min_change, 4))
    if f.large is not None:
        parts.append(f"{plus}o.loss_ppm {'>=' if f.large else '<'} ?")
        params.append(max(_ppm(f.large_share), 1))
    if f.upto is not None:
        parts.append("o.leaf_index <= ?")
        params.append(f.upto)
    return " AND ".join(parts), params


def keyed_cycles(cur: Any, cycles: str | list[str] | None) -> str | list[str] | None:
    """The cycles as the sums key them: ALL_CYCLES for every cycle of the
    deployment (None, or a list of all of them), else as given."""
    if isinstance(cycles, str):
        return cycles
    if cycles is None:
        return ALL_CYCLES
    cur.execute("SELECT cycle FROM cycles")
    every = {r["cycle"] for r in cur.fetchall()}
    return ALL_CYCLES if every and set(cycles) == every else cycles


def _total_from_sums(cur: Any, cycles: str | list[str], f: Filters) -> int | None:
    """The count of rows with at most one kind or one flag (set), from the sums."""
    given = f.given()
    dim, key = "cycle", ""
    if given == set():
        column = "changes"
    elif given == {"kind"} and f.kind in OVERSIGHT_KINDS:
        column = f"n_{f.kind}"
    elif len(given) == 1 and given <= set(FLAG_NAMES) and getattr(f, next(iter(given))):
        column = next(iter(given))
    elif given == {"large"} and f.large and f.large_share == DEFAULT_SHARE:
        column = "large_deductions"
    elif given == {"min_change"} and f.min_change is not None and f.min_change > 0:
        column, dim, key = "changes", "size", size_text(_ceil(f.min_change, 4))
    elif given == {"large"} and f.large:
        column, dim, key = "changes", "loss", loss_text(max(_ppm(f.large_share), 1))
    else:
        return None
    clause, params = cycles_clause([cycles] if isinstance(cycles, str) else cycles)
    cur.execute(
        f"SELECT SUM({column}) AS n FROM oversight_sums o "
        f"WHERE {clause} AND o.dim = ? AND o.key {'>=' if dim != 'cycle' else '='} ?",
        [*params, dim, key],
    )
    row = cur.fetchone()
    return 0 if row is None or row["n"] is None else int(row["n"])


def cycle_exists(cur: Any, cycle: str) -> bool:
    cur.execute("SELECT 1 FROM cycles WHERE cycle = ?", (cycle,))
    return cur.fetchone() is not None


def changes(
    cur: Any,
    cycles: str | list[str] | None,
    f: Filters,
    limit: int = 100,
    offset: int = 0,
    after: int | None = None,
) -> dict | None:
    """A page of the changes `f` selects, in log order; `total` counts them all.
    `after` (a notification id: the last row of the page before) starts the page
    after that row, so reading every page costs one index walk in all."""
    if isinstance(cycles, str) and not cycle_exists(cur, cycles):
        return None
    limit, offset = max(0, int(limit)), max(0, int(offset))
    where, params = _where(cycles, f)
    total = _total_from_sums(cur, keyed_cycles(cur, cycles), f)
    if total is None:
        cur.execute(f"SELECT COUNT(*) AS n FROM oversight o WHERE {where}", params)
        total = int(cur.fetchone()["n"])
    where, params = _where(cycles, f, in_order=True)
    if after is not None:
        where, params = f"{where} AND o.notification_id > ?", [*params, int(after)]
    # The page's rows are found on the index alone (rowids, skipping `offset`
    # entries without reading a row), then read: a deep page costs an index walk,
    # from the end when the page is in the second half (then read backwards).
    order, skip, take = "", offset, limit
    if after is None and total // 2 < offset < total:
        order, skip, take = " DESC", max(total - offset - limit, 0), min(limit, total - offset)
    cur.execute(
        "SELECT o.*, u.name AS unit_name FROM (SELECT o.rowid AS id FROM oversight o "
        f"WHERE {where} ORDER BY o.notification_id{order} LIMIT ? OFFSET ?) AS page "
        "JOIN oversight o ON o.rowid = page.id "
        "LEFT JOIN units u ON u.cycle = o.cycle AND u.unit = o.unit "
        "ORDER BY o.notification_id",
        [*params, take, skip],
    )
    large = max(_ppm(f.large_share), 1)
    page = [_change(r, large) for r in dicts(cur)]
    _with_notes(cur, page, f.upto)
    return {
        "cycle": cycles if isinstance(cycles, str) else None,
        "total": total,
        "limit": limit,
        "offset": offset,
        "after": after,
        "large_share": dec_text(f.large_share),
        "changes": page,
    }


def _with_notes(cur: Any, page: list[dict], upto: int | None = None) -> None:
    """The observers' notes on each change (projections/notes.py), beside it: a
    note names its change by the change's log index."""
    by_change: dict[int, list[dict]] = {}
    wanted = sorted({c["log_index"] for c in page if c["log_index"] is not None})
    if wanted:
        cur.execute(
            f"SELECT * FROM oversight_notes WHERE change IN ({', '.join('?' * len(wanted))}) "
            "AND leaf_index <= ? ORDER BY leaf_index",
            [*wanted, 2**62 if upto is None else upto],
        )
        for r in cur.fetchall():
            by_change.setdefault(r["change"], []).append(note(r, upto))
    for c in page:
        c["notes"] = by_change.get(c["log_index"], [])


def dicts(cur: Any) -> list[dict]:
    """The rows as plain dicts: a sqlite3.Row finds a column by name by comparing
    it with every column's name, which costs more than the rest of a page."""
    raw = getattr(cur, "sqlite_cursor", cur)
    rows = raw.fetchall()
    names = [d[0] for d in raw.description]
    return [dict(zip(names, r, strict=True)) for r in rows]


_PARSED: dict[str, Any] = {}


def _json(text: str | None) -> Any:
    """jload, remembered: a page repeats a few inputs ({"points":"1"}) many times.
    Each caller gets its own copy of an object or list."""
    if text is None:
        return None
    found = _PARSED.get(text)
    if found is None:
        if len(_PARSED) > 50_000:
            _PARSED.clear()
        found = _PARSED[text] = jload(text)
    if isinstance(found, dict):
        return dict(found)
    return list(found) if isinstance(found, list) else found


def _change(r: Any, large: int) -> dict:
    return {
        "log_index": r["leaf_index"],
        "notification_id": r["notification_id"],
        "part": r["part"],
        "cycle": r["cycle"],
        "unit": r["unit"],
        "unit_name": r["unit_name"],
        "leaf": r["leaf"],
        "area": r["area"],
        "kind": r["kind"],
        "round": r["round"],
        "actor": {"key_id": r["actor_key_id"], "name": r["actor_name"], "role": r["actor_role"]},
        "at": r["at"],
        "logged_at": r["logged_at"],
        "old_value": _json(r["old_value"]),
        "new_value": _json(r["new_value"]),
        "old_points": r["old_points"],
        "new_points": r["new_points"],
        "delta": r["delta"],
        "max_points": r["max_points"],
        "reason": r["reason"],
        "evidence_ids": _json(r["evidence_ids"]),
        "deadline": None if r["deadline"] is None else {"kind": r["deadline"], "due": r["due"]},
        "flags": {
            **{name: bool(r[name]) for name in FLAG_NAMES},
            "large_deduction": (r["loss_ppm"] or 0) >= large,
        },
    }
