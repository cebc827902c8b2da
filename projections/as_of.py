"""Reads as of a moment (docs/API.md, "As of a moment").

A moment is a log index P (the read shows the log's first P + 1 events) or an
RFC 3339 time T (the longest prefix of the log whose events were all stored at
or before T: `log_times.running_at`). Each read then answers as a read model
built from events 0..P would:

- rows that the log only appends to (a leaf's history, notes, ranking
  versions) are filtered by their leaf index, and what was changed later (a
  note's answer, a version's approval) is shown as it stood;
- a unit's scores are rebuilt: the unit's own events up to P are applied by
  the projector itself to a scratch read model holding the unit's context
  (framework, cycle, unit, signers' keys), and the ordinary query runs on it.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils
from sqlite_utils.db import DescIndex

from domain.schedule import DEFAULT_ROUNDS
from projections import standing
from projections.frameworks import FrameworkCache
from projections.rows import jdump, plain_rows
from projections.schema import columns, create_tables

_INDEX = re.compile(r"[0-9]{1,18}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
# What `as_of` may be: a log index, or an RFC 3339 UTC time (the API's schema says so).
AS_OF_PATTERN = (
    r"^([0-9]{1,18}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z)$"
)


@dataclass(frozen=True)
class Moment:
    log_index: int  # the last leaf included; -1 when the moment is before the log
    at: str | None  # that event's time


class BadMoment(ValueError):
    """`as_of` is neither a log index nor a UTC time."""


class NotYet(BadMoment):
    """`as_of` is a log index the read model does not hold."""


def resolve(cur: Any, value: str) -> Moment:
    """The moment `value` names, from the read model's log_times."""
    if _INDEX.fullmatch(value):
        index = int(value)
        cur.execute("SELECT at FROM log_times WHERE leaf_index = ?", (index,))
        row = cur.fetchone()
        if row is None:
            raise NotYet(f"log index {index} is not in the log (yet)")
        return Moment(index, row[0])
    if not _TIME.fullmatch(value):
        raise BadMoment("as_of is a log index or an RFC 3339 UTC time ending in Z")
    at = _normal(value)
    cur.execute(
        "SELECT leaf_index, at FROM log_times WHERE running_at <= ? "
        "ORDER BY running_at DESC, leaf_index DESC LIMIT 1",
        (at,),
    )
    row = cur.fetchone()
    return Moment(-1, None) if row is None else Moment(row[0], row[1])


def _normal(value: str) -> str:
    """Six fractional digits, as the read model writes times, so text compares as time."""
    head, _, frac = value[:-1].partition(".")
    return f"{head}.{(frac + '000000')[:6]}Z"


# -- a unit rebuilt as of a moment ----------------------------------------------------
_FRAMEWORKS = FrameworkCache()
_TEMPLATE: sqlite3.Connection | None = None
_TEMPLATE_LOCK = threading.Lock()


class ScratchModel:
    """An in-memory read model with the `read()` of ReadModel, for Queries: a copy
    of an empty model made once (copying its pages is cheaper than creating its
    tables and indexes each time)."""

    def __init__(self) -> None:
        global _TEMPLATE
        with _TEMPLATE_LOCK:
            if _TEMPLATE is None:
                _TEMPLATE = sqlite3.connect(":memory:", check_same_thread=False)
                create_tables(sqlite_utils.Database(_TEMPLATE))
            self.conn = sqlite3.connect(":memory:", check_same_thread=False)
            _TEMPLATE.backup(self.conn)
        self.conn.row_factory = sqlite3.Row

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Cursor]:
        cur = self.conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        self.conn.close()


def _copy(src: Any, dst: sqlite3.Cursor, table: str, where: str, params: tuple) -> None:
    cols = columns(table)
    names = ", ".join(f'"{c}"' for c in cols)
    src.execute(f"SELECT {names} FROM {table} WHERE {where}", params)
    rows = [tuple(r) for r in src.fetchall()]
    if rows:
        dst.executemany(
            f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})",
            rows,
        )


def unit_model(app: Any, cur: Any, cycle: str, unit: str, moment: Moment) -> ScratchModel | None:
    """A scratch read model holding what the live one `cur` held of this unit when
    the log ended at `moment` (None if the unit is not in the read model)."""
    from projections.apply import Projector
    from projections.follower import decode_stored

    cur.execute(
        "SELECT u.assessment_id, u.position, k.added_leaf FROM units u LEFT JOIN cycle_units k "
        "ON k.cycle = u.cycle AND k.unit = u.unit WHERE u.cycle = ? AND u.unit = ?",
        (cycle, unit),
    )
    row = cur.fetchone()
    if row is None or (row[2] is not None and row[2] > moment.log_index):
        return None  # not in the cycle (yet)
    aid, position = row[0], row[1]
    cur.execute("SELECT framework FROM cycles WHERE cycle = ?", (cycle,))
    framework = cur.fetchone()[0]
    model = ScratchModel()
    dst = model.conn.cursor()
    _copy(cur, dst, "deployment", "1 = 1", ())
    _copy(cur, dst, "frameworks", "id = ?", (framework,))
    _copy(cur, dst, "framework_nodes", "framework_id = ?", (framework,))
    _copy(cur, dst, "cycles", "cycle = ?", (cycle,))
    _copy(cur, dst, "cycle_units", "cycle = ? AND unit = ?", (cycle, unit))
    _cycle_as_of(cur, dst, cycle, moment)
    items = decode_stored(app, aid, moment.log_index)
    signers = sorted({m.actor for m, _e in items if m.actor})
    for start in range(0, len(signers), 500):
        part = signers[start : start + 500]
        _copy(cur, dst, "keys", f"key_id IN ({','.join('?' * len(part))})", tuple(part))
    projector = Projector(timelines=False)
    projector.frameworks = _FRAMEWORKS  # parsed once: a published framework never changes
    projector.apply(dst, items)
    # The unit's place in the cycle's list is counted from the units opened before
    # it, which the scratch model does not hold: set it as the live model has it.
    for table in ("units", "unit_totals", "unit_status"):
        dst.execute(
            f"UPDATE {table} SET position = ? WHERE cycle = ? AND unit = ?", (position, cycle, unit)
        )
    dst.execute(
        "UPDATE cycle_units SET merged_into = NULL, merged_leaf = NULL "
        "WHERE cycle = ? AND unit = ? AND merged_leaf > ?",
        (cycle, unit, moment.log_index),
    )
    model.conn.commit()
    if not items:
        model.close()
        return None
    return model


def unit_scores(app: Any, read_model: Any, cycle: str, unit: str, moment: Moment) -> dict | None:
    """The unit's scores as a read model built from events 0..moment would show them."""
    from projections.queries import Queries

    with read_model.read() as cur:
        model = unit_model(app, cur, cycle, unit, moment)
    if model is None:
        return None
    try:
        return Queries(model).unit_scores(cycle, unit, now=_now(moment))  # stage as judged then
    finally:
        model.close()


def _cycle_as_of(src: Any, dst: Any, cycle: str, moment: Moment, table: str = "cycles") -> None:
    """The cycle's row in `dst`.`table` as it stood at `moment`: every change after it
    is undone, newest first (an extension restores the deadline it replaced, an
    addition or a merge its unit count)."""
    _changes_undone(src, dst, cycle, moment, table)
    # The schedule is the open_cycle command's second event: a moment between the
    # two sees the cycle as Cycle.Opened left it (every change came later still).
    dst.execute(
        f"UPDATE {table} SET level = NULL, rounds = ?, deadlines = ?, unit_deadlines = ? "
        "WHERE cycle = ? AND scheduled_leaf > ?",
        (DEFAULT_ROUNDS, jdump({}), jdump({}), cycle, moment.log_index),
    )


def _changes_undone(src: Any, dst: Any, cycle: str, moment: Moment, table: str) -> None:
    src.execute(
        "SELECT * FROM cycle_changes WHERE cycle = ? AND leaf_index > ? ORDER BY seq DESC",
        (cycle, moment.log_index),
    )
    later = src.fetchall()
    if not later:
        return
    dst.execute(f"SELECT deadlines, unit_deadlines FROM {table} WHERE cycle = ?", (cycle,))
    row = dst.fetchone()
    deadlines = json.loads(row[0] or "{}")
    per_unit = json.loads(row[1] or "{}")
    units = 0
    for change in later:  # newest first: each undo restores what the one before set
        if change["kind"] == "units_added":
            units -= len(json.loads(change["units"] or "[]"))
        elif change["kind"] == "units_merged":
            units -= 1 - len(json.loads(change["units"] or "[]"))
        elif change["kind"] == "deadline_extended":
            kind, previous = change["deadline"], change["previous"]
            if change["unit"]:
                previous = change["own_previous"]
                held = per_unit.setdefault(change["unit"], {})
                if previous is None:
                    held.pop(kind, None)
                else:
                    held[kind] = previous
                if not held:
                    per_unit.pop(change["unit"])
            elif previous is not None:
                deadlines[kind] = previous
    dst.execute(
        f"UPDATE {table} SET deadlines = ?, unit_deadlines = ?, unit_count = unit_count + ? "
        "WHERE cycle = ?",
        (jdump(deadlines), jdump(per_unit), units, cycle),
    )


# -- the cycle-wide reads: the live tables shadowed by their state at a moment -------
SHADOWED = (
    "cycles",
    "cycle_units",
    "units",
    "unit_totals",
    "unit_status",
    "cycle_closes",
    "rankings",
)


@contextlib.contextmanager
def shadowed(
    cur: Any,
    cycle: str,
    moment: Moment,
    timelines: tuple[str, ...] = ("unit_status", "unit_totals"),
    units: list[str] | None = None,
) -> Iterator[Any]:
    """Inside the read transaction `cur`: TEMP tables named as the live ones (SQLite
    looks names up in `temp` first) holding the cycle's rows as they stood at
    `moment`, so the ordinary queries answer as of then; dropped on the way out.
    `timelines`: which of unit_status and unit_totals the read needs; `units`: only
    those units' rows (the few a read looks at one by one)."""
    p = moment.log_index
    one = "" if units is None else f" AND u.unit IN ({', '.join('?' * len(units))})"
    only = () if units is None else tuple(units)
    _drop(cur)
    try:
        cur.execute(
            "CREATE TEMP TABLE cycles AS SELECT * FROM main.cycles WHERE cycle = ?", (cycle,)
        )
        _cycle_as_of(cur, cur, cycle, moment, "temp.cycles")
        cur.execute(
            "CREATE TEMP TABLE cycle_units AS SELECT * FROM main.cycle_units u "
            f"WHERE u.cycle = ?{one} AND u.added_leaf <= ?",
            (cycle, *only, p),
        )
        cur.execute(
            "UPDATE temp.cycle_units SET merged_into = NULL, merged_leaf = NULL "
            "WHERE merged_leaf > ?",
            (p,),
        )
        for table in ("unit_status", "unit_totals"):
            log = f"{table}_log"
            if table not in timelines:
                cur.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM main.{table} WHERE 0")
                continue
            cols = ", ".join(f'l."{c}"' for c in columns(table))
            # CROSS JOIN keeps the units outside: per unit, one seek in the log's
            # primary key for its latest row at or before the moment.
            cur.execute(
                f"CREATE TEMP TABLE {table} AS SELECT {cols} FROM main.units u "
                f"CROSS JOIN main.{log} l WHERE u.cycle = ?{one} AND l.cycle = u.cycle "
                "AND l.unit = u.unit AND l.leaf_index = "
                f"(SELECT MAX(m.leaf_index) FROM main.{log} m WHERE m.cycle = u.cycle "
                "AND m.unit = u.unit AND m.leaf_index <= ?)",
                (cycle, *only, p),
            )
        # The units opened by the moment: those with a timeline row by then (every
        # unit has one from its opening); all of them once the cycle is open.
        first = timelines[0]
        cur.execute(f"CREATE UNIQUE INDEX temp.{first}_pk ON {first} (cycle, unit)")
        cur.execute(f"SELECT COUNT(*) FROM temp.{first}")
        opened = cur.fetchone()[0]
        cur.execute(f"SELECT COUNT(*) FROM main.units u WHERE u.cycle = ?{one}", (cycle, *only))
        if opened == cur.fetchone()[0]:
            cur.execute(
                f"CREATE TEMP TABLE units AS SELECT u.* FROM main.units u WHERE u.cycle = ?{one}",
                (cycle, *only),
            )
        else:
            cur.execute(
                "CREATE TEMP TABLE units AS SELECT u.* FROM main.units u "
                f"JOIN temp.{first} t ON t.cycle = u.cycle AND t.unit = u.unit "
                f"WHERE u.cycle = ?{one}",
                (cycle, *only),
            )
        cur.execute(
            "CREATE TEMP TABLE cycle_closes AS SELECT * FROM main.cycle_closes "
            "WHERE cycle = ? AND leaf_index <= ?",
            (cycle, p),
        )
        _rankings_as_of(cur, cycle, p)
        _index(cur)
        yield cur
    finally:
        _drop(cur)


def _index(cur: Any) -> None:
    """The live tables' keys and indexes, on their shadows (the queries rely on them)."""
    from projections.schema import INDEXES, primary_key

    for table in SHADOWED:
        cur.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS temp.{table}_pk ON {table} "
            f"({', '.join(primary_key(table))})"
        )
    for n, (table, cols, unique) in enumerate(INDEXES):
        if table in SHADOWED:
            names = ", ".join(f'"{c}" DESC' if isinstance(c, DescIndex) else f'"{c}"' for c in cols)
            kind = "UNIQUE INDEX" if unique else "INDEX"
            cur.execute(f"CREATE {kind} temp.shadow_{n} ON {table} ({names})")


def _drop(cur: Any) -> None:
    for table in SHADOWED:
        cur.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _rankings_as_of(cur: Any, cycle: str, p: int) -> None:
    from projections.queries_ranking import stood

    cols = columns("rankings")
    cur.execute("CREATE TEMP TABLE rankings AS SELECT * FROM main.rankings WHERE 0")
    cur.execute("SELECT * FROM main.rankings WHERE cycle = ? ORDER BY version", (cycle,))
    rows = stood(cur.fetchall(), p)
    if rows:
        names = ", ".join(f'"{c}"' for c in cols)
        cur.executemany(
            f"INSERT INTO temp.rankings ({names}) VALUES ({', '.join('?' * len(cols))})",
            [tuple(r[c] for c in cols) for r in rows],
        )


class Bound:
    """A read model whose `read()` is one cursor already open (for Queries)."""

    def __init__(self, cur: Any):
        self.cur = cur

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        yield self.cur


def _now(moment: Moment) -> datetime | None:
    return None if moment.at is None else datetime.fromisoformat(moment.at.replace("Z", "+00:00"))


def ranking(read_model: Any, cycle: str, moment: Moment, limit: int, offset: int) -> dict | None:
    """The live ranking as the log gave it at `moment`: ordered and ranked on every
    unit's standing then (projections/standing.py), the page's lines read from the
    units' timelines."""
    from projections.queries import not_ranked_rows, page_ranks, ranked_row, ranking_doc

    p = moment.log_index
    limit, offset = max(0, int(limit)), max(0, int(offset))
    with read_model.read() as cur:
        cur.execute("SELECT framework FROM cycles WHERE cycle = ?", (cycle,))
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute(
            "SELECT k.unit, u.name, k.merged_into FROM cycle_units k JOIN units u "
            "ON u.cycle = k.cycle AND u.unit = k.unit WHERE k.cycle = ? AND k.merged_leaf <= ?",
            (cycle, p),
        )
        merged = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        with standing.materialized(cur, cycle, p) as stood:
            # a merged unit is listed apart, never ranked
            cur.execute(
                f"UPDATE {stood} SET submitted = 0 WHERE unit IN ({', '.join('?' * len(merged))})",
                tuple(merged),
            )
            cur.execute(f"SELECT COUNT(*) FROM {stood} WHERE submitted = 1")
            total = cur.fetchone()[0]
            # Highest total first, then by code; a rank is 1 + the ranked units above.
            cur.execute(
                f"SELECT unit, total_key FROM {stood} WHERE submitted = 1 "
                "ORDER BY total_key DESC, unit LIMIT ? OFFSET ?",
                (limit, offset),
            )
            page = cur.fetchall()

            def above(key: int) -> int:
                cur.execute(
                    f"SELECT COUNT(*) FROM {stood} WHERE submitted = 1 AND total_key > ?", (key,)
                )
                return cur.fetchone()[0]

            ranks = page_ranks([r[1] for r in page], offset, above)
            lines = [
                ranked_row(_logged(cur, "unit_totals_log", cycle, r[0], p), rank)
                for r, rank in zip(page, ranks, strict=True)
            ]
            unsubmitted = plain_rows(
                cur,
                "SELECT unit, name FROM units WHERE cycle = ? AND unit IN "
                f"(SELECT unit FROM {stood} WHERE submitted != 1)",
                (cycle,),
            )
            apart = {r[0]: (r[1], None) for r in unsubmitted}
            apart.update(merged)
            others = not_ranked_rows(apart)
    return ranking_doc(cycle, row["framework"], total, limit, offset, lines, others)


def cycle_status(
    read_model: Any, cycle: str, moment: Moment, limit: int, offset: int
) -> dict | None:
    """The cycle's progress at `moment`: its units counted per stage from their
    standing then (projections/standing.py); the rows of the page, of the merged
    units and of those with deadlines of their own read from their timelines."""
    from projections import status

    p = moment.log_index
    limit, offset = max(0, int(limit)), max(0, int(offset))
    with read_model.read() as cur:
        with standing.materialized(cur, cycle, p) as stood:
            cur.execute(f"SELECT stage, COUNT(*) FROM {stood} GROUP BY stage")
            logged = {r[0]: r[1] for r in cur.fetchall()}
            # the (cycle, position) index walked, each unit looked up in the standing
            cur.execute(
                f"SELECT s.unit FROM main.unit_status s WHERE s.cycle = ? AND s.unit IN "
                f"(SELECT unit FROM {stood}) ORDER BY s.position LIMIT ? OFFSET ?",
                (cycle, limit, offset),
            )
            page = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT unit FROM cycle_units WHERE cycle = ? AND merged_leaf <= ?", (cycle, p)
            )
            merged = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT unit_deadlines FROM cycles WHERE cycle = ?", (cycle,))
            found = cur.fetchone()
            own = list(json.loads(found[0] or "{}")) if found else []
            cur.execute(
                f"SELECT unit FROM {stood} WHERE unit IN ({', '.join('?' * len(own))})", own
            )
            own = [r[0] for r in cur.fetchall()]
        with shadowed(cur, cycle, moment, ("unit_status",), sorted({*page, *merged, *own})):
            return status.cycle_status(
                cur, cycle, limit, offset, _now(moment), logged=logged, page=page
            )


def unit_status(read_model: Any, cycle: str, unit: str, moment: Moment) -> dict | None:
    from projections import status

    with read_model.read() as cur, shadowed(cur, cycle, moment, ("unit_status",), [unit]):
        return status.unit_status(cur, cycle, unit, _now(moment))


def _logged(cur: Any, table: str, cycle: str, unit: str, p: int) -> Any:
    """The unit's row of a timeline as it stood at index p."""
    cur.execute(
        f"SELECT * FROM {table} WHERE cycle = ? AND unit = ? AND leaf_index <= ? "
        "ORDER BY leaf_index DESC LIMIT 1",
        (cycle, unit, p),
    )
    return cur.fetchone()
