"""Last year's figures beside this year's (docs/SEASON.md "Year on year").

A cycle linked to a cycle run here shows that cycle's latest published
ranking version: each unit's appraised total and rank from the version's
signed lines, each criterion's appraised score from the sheet published with
it. A cycle linked to an imported past cycle shows what the import states.
Codes pass through the link's maps (identity where a code is not mapped; a
code mapped to null has no previous figure).
"""

from __future__ import annotations

from typing import Any

from projections.rows import jload


def link(cur: Any, cycle: str) -> dict | None:
    """The link as signed, with where its figures come from: {cycle, year,
    imported, code_map, unit_map, version (None: imported or never published)}."""
    cur.execute("SELECT previous FROM cycles WHERE cycle = ?", (cycle,))
    row = cur.fetchone()
    found = jload(row["previous"]) if row is not None and row["previous"] else None
    if found is None:
        return None
    found["version"] = None
    if not found["imported"]:
        cur.execute(
            "SELECT MAX(version) AS v FROM rankings WHERE cycle = ? AND state = 'published'",
            (found["cycle"],),
        )
        found["version"] = cur.fetchone()["v"]
    return found


def previous_unit(found: dict, unit: str) -> str | None:
    return found["unit_map"].get(unit, unit) if unit in found["unit_map"] else unit


def previous_code(found: dict, code: str) -> str | None:
    return found["code_map"][code] if code in found["code_map"] else code


def unit_figures(cur: Any, found: dict, unit: str) -> dict | None:
    """{unit, name, total, rank, status, scores{previous code: points}} of the
    unit's counterpart, or None when the previous cycle says nothing of it."""
    other = previous_unit(found, unit)
    if other is None:
        return None
    if found["imported"]:
        cur.execute(
            "SELECT * FROM past_results WHERE cycle = ? AND unit = ?", (found["cycle"], other)
        )
        r = cur.fetchone()
        if r is None:
            return None
        return {
            "unit": other,
            "name": r["name"],
            "total": r["total"],
            "rank": r["rank"],
            "status": "imported",
            "scores": jload(r["scores"]) or {},
            "sources": jload(r["sources"]) or [],
        }
    if found["version"] is None:
        return None
    cur.execute(
        "SELECT * FROM ranking_lines WHERE cycle = ? AND version = ? AND unit = ?",
        (found["cycle"], found["version"], other),
    )
    r = cur.fetchone()
    if r is None:
        return None
    cur.execute(
        "SELECT code, appraised_score FROM published_nodes "
        "WHERE cycle = ? AND version = ? AND unit = ?",
        (found["cycle"], found["version"], other),
    )
    submitted = r["status"] == "submitted"
    scores = {n["code"]: n["appraised_score"] for n in cur.fetchall()} if submitted else {}
    return {
        "unit": other,
        "name": r["name"],
        "total": r["appraised_total"] if submitted else None,
        "rank": r["rank"] if submitted else None,
        "status": r["status"],
        "scores": scores,
        "sources": [],
    }


def totals(cur: Any, found: dict, units: list[str]) -> dict[str, dict]:
    """{this unit: {unit, total, rank}} for the units whose counterpart has a total."""
    wanted = {u: previous_unit(found, u) for u in units}
    others = sorted({o for o in wanted.values() if o is not None})
    if not others or (not found["imported"] and found["version"] is None):
        return {}
    marks = ", ".join("?" * len(others))
    if found["imported"]:
        cur.execute(
            f"SELECT unit, total, rank FROM past_results WHERE cycle = ? AND unit IN ({marks})",
            (found["cycle"], *others),
        )
    else:
        cur.execute(
            "SELECT unit, appraised_total AS total, rank FROM ranking_lines WHERE cycle = ? "
            f"AND version = ? AND status = 'submitted' AND unit IN ({marks})",
            (found["cycle"], found["version"], *others),
        )
    by_other = {
        r["unit"]: {"unit": r["unit"], "total": r["total"], "rank": r["rank"]}
        for r in cur.fetchall()
    }
    return {u: by_other[o] for u, o in wanted.items() if o in by_other}


def described(found: dict | None) -> dict | None:
    """The link as reads show it (the maps only as counts)."""
    if found is None:
        return None
    return {
        "cycle": found["cycle"],
        "year": found["year"],
        "imported": found["imported"],
        "version": found["version"],
        "mapped_codes": len(found["code_map"]),
        "mapped_units": len(found["unit_map"]),
    }
