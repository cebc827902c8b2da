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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from projections.schema import columns, create_tables

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


@dataclass(frozen=True)
class Moment:
    log_index: int  # the last leaf included; -1 when the moment is before the log
    at: str | None  # that event's time


class BadMoment(ValueError):
    """`as_of` is neither a log index in the log nor a UTC time."""


def resolve(cur: Any, value: str) -> Moment:
    """The moment `value` names, from the read model's log_times."""
    value = value.strip()
    if value.isdigit() and len(value) <= 18:
        index = int(value)
        cur.execute("SELECT at FROM log_times WHERE leaf_index = ?", (index,))
        row = cur.fetchone()
        if row is None:
            raise BadMoment(f"log index {index} is not in the log (yet)")
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
class ScratchModel:
    """An in-memory read model with the `read()` of ReadModel, for Queries."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        create_tables(sqlite_utils.Database(self.conn))

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
    Projector().apply(dst, items)
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
    at = None if moment.at is None else datetime.fromisoformat(moment.at.replace("Z", "+00:00"))
    try:
        return Queries(model).unit_scores(cycle, unit, now=at)  # the stage as judged then
    finally:
        model.close()


def _cycle_as_of(src: Any, dst: sqlite3.Cursor, cycle: str, moment: Moment) -> None:
    """The cycle's deadlines and changes as they stood at `moment`: every deadline
    extension after it is undone (each change keeps the deadline it replaced)."""
    src.execute(
        "SELECT * FROM cycle_changes WHERE cycle = ? AND leaf_index > ? ORDER BY seq DESC",
        (cycle, moment.log_index),
    )
    later = src.fetchall()
    if not later:
        return
    dst.execute("SELECT deadlines, unit_deadlines FROM cycles WHERE cycle = ?", (cycle,))
    row = dst.fetchone()
    deadlines = json.loads(row[0] or "{}")
    per_unit = json.loads(row[1] or "{}")
    for change in later:  # newest first: each undo restores what the one before set
        if change["kind"] != "deadline_extended":
            continue
        kind, previous = change["deadline"], change["previous"]
        if change["unit"]:
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
        "UPDATE cycles SET deadlines = ?, unit_deadlines = ? WHERE cycle = ?",
        (json.dumps(deadlines), json.dumps(per_unit), cycle),
    )
    dst.execute(
        "DELETE FROM cycle_changes WHERE cycle = ? AND leaf_index > ?", (cycle, moment.log_index)
    )
