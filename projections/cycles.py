"""A cycle's calendar and units as its own events move them (docs/SEASON.md):
the schedule, each deadline extension (who, when, why, what it replaced),
units added, units merged into a new one. Units' names and positions are
written by Assessment.Opened (projections/registry.py); here only what the
cycle says of them: type, when added, what they were merged into."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from projections.rows import jdump, jload
from projections.schema import upsert_sql

if TYPE_CHECKING:
    from projections.apply import Batch, Meta


def units_listed(b: Batch, cycle: str, units: list, m: Meta) -> None:
    b.cur.executemany(
        upsert_sql("cycle_units"),
        [(cycle, u["code"], u.get("type"), m.leaf_index, None, None) for u in units],
    )


def _change(b: Batch, cycle: str, m: Meta, kind: str, reason: str, **values: Any) -> None:
    b.cur.execute("SELECT COALESCE(MAX(seq), 0) AS n FROM cycle_changes WHERE cycle = ?", (cycle,))
    seq = int(b.cur.fetchone()["n"]) + 1
    name, _role = b.actor(m.actor)
    b.cur.execute(
        upsert_sql("cycle_changes"),
        (
            cycle,
            seq,
            kind,
            values.get("deadline"),
            values.get("unit"),
            values.get("until"),
            values.get("previous"),
            values.get("own_previous"),
            jdump(values["units"]) if "units" in values else None,
            values.get("into"),
            reason,
            m.actor,
            name,
            m.at,
            m.leaf_index,
        ),
    )


def _cycle_of(b: Batch, m: Meta) -> Any:
    """The cycles row of the event's aggregate (its code is not in every event)."""
    b.cur.execute("SELECT * FROM cycles WHERE aggregate_id = ?", (m.originator_id,))
    return b.cur.fetchone()


def scheduled(b: Batch, e: Any, m: Meta) -> None:
    row = _cycle_of(b, m)
    if row is None:
        return
    b.cur.execute(
        "UPDATE cycles SET level = ?, rounds = ?, deadlines = ?, scheduled_leaf = ? "
        "WHERE cycle = ?",
        (e.level, e.rounds, jdump(e.deadlines), m.leaf_index, row["cycle"]),
    )


def deadline_extended(b: Batch, e: Any, m: Meta) -> None:
    row = _cycle_of(b, m)
    if row is None:
        return
    deadlines = jload(row["deadlines"]) or {}
    unit_deadlines = jload(row["unit_deadlines"]) or {}
    own_previous = None
    if e.unit is None:
        previous = deadlines.get(e.deadline)
        deadlines = {**deadlines, e.deadline: e.until}
    else:
        own = unit_deadlines.get(e.unit, {})
        previous = own_previous = own.get(e.deadline)
        cycle_due = deadlines.get(e.deadline)
        if previous is None or (cycle_due is not None and cycle_due > previous):
            previous = cycle_due  # the unit's deadline was the cycle's (domain.cycle)
        unit_deadlines = {**unit_deadlines, e.unit: {**own, e.deadline: e.until}}
    b.cur.execute(
        "UPDATE cycles SET deadlines = ?, unit_deadlines = ? WHERE cycle = ?",
        (jdump(deadlines), jdump(unit_deadlines), row["cycle"]),
    )
    _change(
        b,
        row["cycle"],
        m,
        "deadline_extended",
        e.reason,
        deadline=e.deadline,
        unit=e.unit,
        until=e.until,
        previous=previous,
        own_previous=own_previous,
    )


def units_added(b: Batch, e: Any, m: Meta) -> None:
    row = _cycle_of(b, m)
    if row is None:
        return
    units_listed(b, row["cycle"], e.units, m)
    b.cur.execute(
        "UPDATE cycles SET unit_count = unit_count + ? WHERE cycle = ?",
        (len(e.units), row["cycle"]),
    )
    _change(b, row["cycle"], m, "units_added", e.reason, units=[u["code"] for u in e.units])


def units_merged(b: Batch, e: Any, m: Meta) -> None:
    row = _cycle_of(b, m)
    if row is None:
        return
    cycle, into = row["cycle"], e.into["code"]
    units_listed(b, cycle, [e.into], m)
    b.cur.executemany(
        "UPDATE cycle_units SET merged_into = ?, merged_leaf = ? WHERE cycle = ? AND unit = ?",
        [(into, m.leaf_index, cycle, code) for code in e.units],
    )
    b.cur.execute(
        "UPDATE cycles SET unit_count = unit_count + ? WHERE cycle = ?",
        (1 - len(e.units), cycle),
    )
    _change(b, cycle, m, "units_merged", e.reason, units=list(e.units), into=into)


HANDLERS = {
    "domain.cycle:Cycle.Scheduled": scheduled,
    "domain.cycle:Cycle.DeadlineExtended": deadline_extended,
    "domain.cycle:Cycle.UnitsAdded": units_added,
    "domain.cycle:Cycle.UnitsMerged": units_merged,
}
