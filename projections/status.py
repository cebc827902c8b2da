"""Where a cycle and each of its units stand in the season (docs/SEASON.md).

A unit's stage is what the log gives (`unit_status.stage`, written by the
projection as Assessment.stage decides it, less the clock) and one thing the
log cannot say by itself: once a unit's explanation_due has passed with its
explanations pending, it is in round 2. That part is judged here, on `now`
(the server's clock by default): for display only. Every rule that decides a
command is judged on the command's signed time, never on this read.

Fast at any size: a page of units walks the (cycle, position) index; the
totals per stage count the (cycle, stage) index; merged units and units with
deadlines of their own (few) are looked at one by one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from domain.schedule import DEADLINES
from projections.frameworks import CachedFramework, cached
from projections.rows import jload, utc_text

STAGES = ("not_submitted", "round_1", "explanation", "round_2", "closed", "merged")
DUE = "explanation_due"


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Calendar:
    """A cycle's deadlines, and each unit's (the later of its own and the cycle's)."""

    def __init__(self, row: Any):
        self.deadlines: dict[str, str] = jload(row["deadlines"]) or {}
        self.own: dict[str, dict[str, str]] = jload(row["unit_deadlines"]) or {}

    def for_unit(self, unit: str) -> dict[str, str]:
        out = {}
        own = self.own.get(unit, {})
        for kind in DEADLINES:
            times = [t for t in (self.deadlines.get(kind), own.get(kind)) if t]
            if times:
                out[kind] = max(times, key=_time)
        return out

    def passed(self, kind: str, unit: str | None, now: datetime) -> bool:
        due = (self.for_unit(unit) if unit else self.deadlines).get(kind)
        return due is not None and now > _time(due)


def stage(logged: str, merged_into: str | None, unit: str, cal: Calendar, now: datetime) -> str:
    """The unit's stage as of `now` (domain.assessment.Assessment.stage)."""
    if merged_into is not None:
        return "merged"
    if logged == "explanation" and cal.passed(DUE, unit, now):
        return "round_2"
    return logged


# parsed once: a published framework never changes
_FRAMEWORKS: dict[tuple[str, str], CachedFramework] = {}


def _cycle_row(cur: Any, cycle: str) -> Any:
    cur.execute(
        "SELECT c.*, f.leaf_count, f.digest AS framework_digest FROM cycles c "
        "LEFT JOIN frameworks f ON f.id = c.framework "
        "WHERE c.cycle = ?",
        (cycle,),
    )
    return cur.fetchone()


def _leaf_counts(cur: Any, row: Any):
    """type -> the leaves a unit of that type scores itself: its table's leaves
    but the survey's (docs/FRAMEWORKS.md, "Variations"); the framework's leaf
    count when it has no variation."""
    framework = None
    if row["framework"] is not None and row["framework_digest"] is not None:
        key = (row["framework"], row["framework_digest"])  # one id may name two tables
        framework = _FRAMEWORKS.get(key)  # in two deployments (tests)
        if framework is None:
            cur.execute("SELECT data FROM frameworks WHERE id = ?", (row["framework"],))
            framework = _FRAMEWORKS[key] = cached(json.loads(cur.fetchone()["data"]))
    if framework is None or not framework.has_variations:
        return lambda unit_type: row["leaf_count"]

    def count(unit_type: str | None) -> int:
        view = framework.for_type(unit_type)
        return len(view.leaves) - len(view.survey_leaves)

    return count


def _unit(r: Any, cal: Calendar, leaf_count: int | None, now: datetime) -> dict:
    unit = r["unit"]
    scored = r["leaves_scored"] or 0
    return {
        "unit": unit,
        "name": r["name"],
        "position": r["position"],
        "type": r["type"],
        "stage": stage(r["stage"], r["merged_into"], unit, cal, now),
        "merged_into": r["merged_into"],
        "leaves_scored": scored,
        "leaf_count": leaf_count,
        "scored": f"{scored}/{leaf_count if leaf_count is not None else '?'}",
        "evidence_count": r["evidence_count"] or 0,
        "flags": {"open": r["flags_open"] or 0, "answered": r["flags_answered"] or 0},
        "reviewed": r["reviewed"] or 0,
        "deadlines": cal.for_unit(unit),
        "own_deadlines": dict(cal.own.get(unit, {})),
        "submitted_at": r["submitted_at"],
        "submitted_leaf": r["submitted_leaf"],
        "explanations_submitted_at": r["explanations_submitted_at"],
        "closed_at": r["closed_at"],
        "closed_leaf": r["closed_leaf"],
    }


_UNIT_SELECT = (
    "SELECT s.*, k.type, k.merged_into FROM unit_status s "
    "LEFT JOIN cycle_units k ON k.cycle = s.cycle AND k.unit = s.unit "
)


def _head(cur: Any, row: Any, now: datetime) -> dict:
    cycle = row["cycle"]
    cur.execute("SELECT at, actor_key_id, leaf_index FROM cycle_closes WHERE cycle = ?", (cycle,))
    closed = cur.fetchone()
    cur.execute(
        "SELECT COUNT(*) AS n, MAX(version) AS latest FROM rankings WHERE cycle = ?", (cycle,)
    )
    versions = cur.fetchone()
    latest = None
    if versions["latest"] is not None:
        cur.execute(
            "SELECT version, state FROM rankings WHERE cycle = ? AND version = ?",
            (cycle, versions["latest"]),
        )
        v = cur.fetchone()
        latest = {"version": v["version"], "state": v["state"]}
    cur.execute(
        "SELECT COUNT(*) AS n FROM rankings WHERE cycle = ? AND state = 'published'", (cycle,)
    )
    published = int(cur.fetchone()["n"])
    return {
        "cycle": cycle,
        "name": row["name"],
        "framework": row["framework"],
        "authority": row["authority"],
        "level": row["level"],
        "rounds": row["rounds"],
        "leaf_count": row["leaf_count"],
        "deadlines": jload(row["deadlines"]) or {},
        "closed": None
        if closed is None
        else {
            "at": closed["at"],
            "key_id": closed["actor_key_id"],
            "leaf_index": closed["leaf_index"],
        },
        "rankings": {"count": int(versions["n"]), "published": published, "latest": latest},
        # The server's clock, for display only: deadlines decide nothing here.
        "as_of": utc_text(now),
    }


def _totals(
    cur: Any, cycle: str, cal: Calendar, now: datetime, logged: dict[str, int] | None
) -> dict[str, int]:
    """Units per stage. `logged`: the count per logged stage when the caller has it
    (a read as of a moment, projections/standing.py); else counted here."""
    totals = dict.fromkeys(STAGES, 0)
    if logged is None:
        cur.execute(
            "SELECT stage, COUNT(*) AS n FROM unit_status WHERE cycle = ? GROUP BY stage",
            (cycle,),
        )
        logged = {r["stage"]: int(r["n"]) for r in cur.fetchall()}
    for logged_stage, n in logged.items():
        totals[logged_stage] = totals.get(logged_stage, 0) + n
    cur.execute(
        "SELECT s.stage FROM cycle_units k JOIN unit_status s ON s.cycle = k.cycle "
        "AND s.unit = k.unit WHERE k.cycle = ? AND k.merged_into IS NOT NULL",
        (cycle,),
    )
    merged = [r["stage"] for r in cur.fetchall()]
    for logged in merged:
        totals[logged] -= 1
        totals["merged"] += 1
    # explanation -> round_2 once the unit's explanation_due has passed.
    if cal.passed(DUE, None, now):
        totals["round_2"] += totals["explanation"]
        totals["explanation"] = 0
    for unit, own in cal.own.items():
        if DUE not in own:
            continue
        cur.execute(
            "SELECT s.stage, k.merged_into FROM unit_status s LEFT JOIN cycle_units k "
            "ON k.cycle = s.cycle AND k.unit = s.unit WHERE s.cycle = ? AND s.unit = ?",
            (cycle, unit),
        )
        r = cur.fetchone()
        if r is None or r["stage"] != "explanation" or r["merged_into"] is not None:
            continue
        counted = "round_2" if cal.passed(DUE, None, now) else "explanation"
        now_is = stage(r["stage"], None, unit, cal, now)
        if now_is != counted:
            totals[counted] -= 1
            totals[now_is] += 1
    return totals


def cycle_status(
    cur: Any,
    cycle: str,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
    *,
    logged: dict[str, int] | None = None,
    page: list[str] | None = None,
) -> dict | None:
    """`logged` and `page`, given together by a read as of a moment: the count per
    logged stage and the units of the page (unit_status then holds just the rows
    this read looks at: the page, the merged units, those with deadlines of their own)."""
    now = now or datetime.now(UTC)
    row = _cycle_row(cur, cycle)
    if row is None:
        return None
    cal = Calendar(row)
    out = _head(cur, row, now)
    totals = _totals(cur, cycle, cal, now, logged)
    limit, offset = max(0, int(limit)), max(0, int(offset))
    count = _leaf_counts(cur, row)  # before the units' query: it may read the framework
    if page is None:
        cur.execute(
            _UNIT_SELECT + "WHERE s.cycle = ? ORDER BY s.position LIMIT ? OFFSET ?",
            (cycle, limit, offset),
        )
    else:
        cur.execute(
            _UNIT_SELECT + f"WHERE s.cycle = ? AND s.unit IN ({', '.join('?' * len(page))}) "
            "ORDER BY s.position",
            (cycle, *page),
        )
    units = [_unit(r, cal, count(r["type"]), now) for r in cur.fetchall()]
    out.update(
        unit_count=sum(totals.values()),
        totals=totals,
        limit=limit,
        offset=offset,
        units=units,
    )
    return out


def unit_status(cur: Any, cycle: str, unit: str, now: datetime | None = None) -> dict | None:
    now = now or datetime.now(UTC)
    row = _cycle_row(cur, cycle)
    if row is None:
        return None
    cur.execute(_UNIT_SELECT + "WHERE s.cycle = ? AND s.unit = ?", (cycle, unit))
    found = cur.fetchone()
    if found is None:
        return None
    cal = Calendar(row)
    return {
        "cycle": cycle,
        **_unit(found, cal, _leaf_counts(cur, row)(found["type"]), now),
        "season": _head(cur, row, now),
    }
