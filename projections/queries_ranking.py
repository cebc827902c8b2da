"""Reads of a cycle's close and ranking versions (projections/rankings.py).

`public=True` answers what anyone may read without a key: published versions
only, and each unit's published sheet.
"""

from __future__ import annotations

from typing import Any

from projections import queries_previous as previous_q
from projections.rows import jload

_VERSION_COLUMNS = (
    "version, state, digest, proposed_at, proposed_by, proposed_leaf, approved_at, "
    "approved_by, approved_leaf, decision_number, decision_date, published_at, published_by, "
    "published_leaf, ranked_count, unranked_count"
)


def _version(r: Any) -> dict:
    decision = (
        {"number": r["decision_number"], "date": r["decision_date"]}
        if r["decision_number"] is not None
        else None
    )
    return {
        "version": r["version"],
        "state": r["state"],
        "digest": r["digest"],
        "position": r["proposed_leaf"],  # the log position the manifest is pinned to
        "proposed": {"at": r["proposed_at"], "key_id": r["proposed_by"]},
        "approved": None
        if r["approved_at"] is None
        else {"at": r["approved_at"], "key_id": r["approved_by"], "leaf_index": r["approved_leaf"]},
        "decision": decision,
        "published": None
        if r["published_at"] is None
        else {
            "at": r["published_at"],
            "key_id": r["published_by"],
            "leaf_index": r["published_leaf"],
        },
        "ranked_count": r["ranked_count"],
        "unranked_count": r["unranked_count"],
    }


def _cycle_exists(cur: Any, cycle: str) -> bool:
    cur.execute("SELECT 1 FROM cycles WHERE cycle = ?", (cycle,))
    return cur.fetchone() is not None


def stood(rows: list[Any], upto: int | None) -> list[dict]:
    """Version rows as they stood after leaf `upto` (as they stand when None): only
    versions proposed by then; an approval or publication after it not yet made;
    a version a later proposal had replaced by then, superseded."""
    rows = [dict(zip(r.keys(), tuple(r), strict=True)) for r in rows]
    if upto is None:
        return rows
    rows = [r for r in rows if r["proposed_leaf"] is not None and r["proposed_leaf"] <= upto]
    for r in rows:
        for act in ("approved", "published"):
            if r[f"{act}_leaf"] is not None and r[f"{act}_leaf"] > upto:
                r[f"{act}_at"] = r[f"{act}_by"] = r[f"{act}_leaf"] = None
                if act == "approved":
                    r["decision_number"] = r["decision_date"] = None
        later = any(o["version"] > r["version"] for o in rows)
        if r["published_leaf"] is not None:
            r["state"] = "published"
        elif later:
            r["state"] = "superseded"
        else:
            r["state"] = "approved" if r["approved_leaf"] is not None else "proposed"
    return rows


def rankings(cur: Any, cycle: str, *, public: bool, upto: int | None = None) -> dict | None:
    """Every version of the cycle's ranking (published ones only when `public`), as
    it stood after leaf `upto` when given."""
    if not _cycle_exists(cur, cycle):
        return None
    cur.execute("SELECT at, actor_key_id, leaf_index FROM cycle_closes WHERE cycle = ?", (cycle,))
    closed = cur.fetchone()
    if closed is not None and upto is not None and closed["leaf_index"] > upto:
        closed = None
    cur.execute(
        f"SELECT {_VERSION_COLUMNS} FROM rankings WHERE cycle = ? ORDER BY version", (cycle,)
    )
    rows = [r for r in stood(cur.fetchall(), upto) if r["state"] == "published" or not public]
    return {
        "cycle": cycle,
        "closed": None
        if closed is None
        else {
            "at": closed["at"],
            "key_id": closed["actor_key_id"],
            "leaf_index": closed["leaf_index"],
        },
        "versions": [_version(r) for r in rows],
    }


def _line(r: Any) -> dict:
    out = {
        "unit": r["unit"],
        "name": r["name"],
        "type": r["type"],
        "status": r["status"],
    }
    if r["status"] == "submitted":
        out.update(
            rank=r["rank"],
            self_total=r["self_total"],
            appraised_total=r["appraised_total"],
            index=r["index_"],
            band=r["band"],
        )
    elif r["status"] == "merged":
        out["into"] = r["into"]
    return out


def ranking_version(
    cur: Any, cycle: str, version: int, *, public: bool, upto: int | None = None
) -> dict | None:
    """One version with its lines (the lines never change), its state as it stood
    after leaf `upto` when given."""
    cur.execute(
        f"SELECT {_VERSION_COLUMNS} FROM rankings WHERE cycle = ? ORDER BY version", (cycle,)
    )
    row = next((r for r in stood(cur.fetchall(), upto) if r["version"] == version), None)
    if row is None or (public and row["state"] != "published"):
        return None
    cur.execute(
        "SELECT * FROM ranking_lines WHERE cycle = ? AND version = ? ORDER BY position",
        (cycle, version),
    )
    lines = [_line(r) for r in cur.fetchall()]
    cur.execute("SELECT framework FROM cycles WHERE cycle = ?", (cycle,))
    framework = cur.fetchone()["framework"]
    # last year's figures as they stand now: not shown in a read as of a moment
    link = previous_q.link(cur, cycle) if upto is None else None
    before = previous_q.totals(cur, link, [x["unit"] for x in lines]) if link else {}
    for x in lines:
        x["previous"] = before.get(x["unit"])
    return {
        "cycle": cycle,
        "framework": framework,
        "bands": framework_bands(cur, framework),
        **_version(row),
        "ranked": [x for x in lines if x["status"] == "submitted"],
        "unranked": [x for x in lines if x["status"] != "submitted"],
        "previous": previous_q.described(link),
    }


def published_sheet(cur: Any, cycle: str, version: int, unit: str) -> dict | None:
    """A unit's sheet as published in `version` (None if not published)."""
    found = ranking_version_line(cur, cycle, version, unit)
    if found is None:
        return None
    state, line, framework = found
    cur.execute(
        "SELECT p.*, n.label, n.title, n.parent, n.depth, n.is_leaf FROM published_nodes p "
        "JOIN framework_nodes n ON n.framework_id = ? AND n.code = p.code "
        "WHERE p.cycle = ? AND p.version = ? AND p.unit = ? ORDER BY p.position",
        (framework, cycle, version, unit),
    )
    nodes = [
        {
            "code": r["code"],
            "label": r["label"],
            "title": r["title"],
            "parent": r["parent"],
            "depth": r["depth"],
            "is_leaf": bool(r["is_leaf"]),
            "max_points": r["max_points"],
            "applicable_max": r["applicable_max"],
            "self_score": r["self_score"],
            "appraised_score": r["appraised_score"],
            "points_lost": r["points_lost"],
            "percentage": r["percentage"],
            "excluded": bool(r["excluded"]),
            "self_input": jload(r["self_input"]),
            "appraised_input": jload(r["appraised_input"]),
            "reason": r["appraised_reason"],
        }
        for r in cur.fetchall()
    ]
    return {
        "cycle": cycle,
        "version": version,
        "framework": framework,
        "bands": framework_bands(cur, framework),
        "line": line,
        "nodes": nodes,
    }


def framework_bands(cur: Any, framework: str) -> list[dict]:
    """The framework's bands ({code, minimum, name_vi, name_en}): what a band code is called."""
    cur.execute("SELECT bands FROM frameworks WHERE id = ?", (framework,))
    row = cur.fetchone()
    return (jload(row["bands"]) if row else None) or []


def ranking_version_line(cur: Any, cycle: str, version: int, unit: str) -> tuple | None:
    cur.execute(
        "SELECT r.state, c.framework FROM rankings r JOIN cycles c ON c.cycle = r.cycle "
        "WHERE r.cycle = ? AND r.version = ?",
        (cycle, version),
    )
    row = cur.fetchone()
    if row is None or row["state"] != "published":
        return None
    cur.execute(
        "SELECT * FROM ranking_lines WHERE cycle = ? AND version = ? AND unit = ?",
        (cycle, version, unit),
    )
    line = cur.fetchone()
    if line is None:
        return None
    return row["state"], _line(line), row["framework"]
