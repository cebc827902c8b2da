"""Year on year: past cycles imported from their published tables, and the
cycle each cycle is compared with (docs/SEASON.md "Year on year").

`past_results` holds each imported unit's figures as the latest import states
them (projections never judge them: domain.past_results); `cycles.previous`
holds the link (Cycle.PreviousLinked) and a `cycle_changes` row tells who
linked it and why.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from projections.cycles import _change, _cycle_of
from projections.rows import jdump, jload
from projections.schema import upsert_sql

if TYPE_CHECKING:
    from projections.apply import Batch, Meta


def past_imported(b: Batch, e: Any, m: Meta) -> None:
    command = json.loads(e.signed["command"])
    cycle = command["cycle"]
    name, _role = b.actor(m.actor)
    b.cur.execute("SELECT * FROM past_cycles WHERE cycle = ?", (cycle,))
    row = b.cur.fetchone()
    imports = jload(row["imports"]) if row else []
    imports.append(
        {
            "source": command["source"],
            "units": len(command["units"]),
            "reason": command.get("reason"),
            "actor": {"key_id": m.actor, "name": name},
            "at": m.at,
            "leaf_index": m.leaf_index,
        }
    )
    b.cur.execute("SELECT * FROM past_results WHERE cycle = ?", (cycle,))
    had = {r["unit"]: r for r in b.cur.fetchall()}
    sha = command["source"]["sha256"]
    rows = []
    for entry in command["units"]:
        old = had.get(entry["unit"])
        scores = entry["scores"] if "scores" in entry else (jload(old["scores"]) if old else None)
        rows.append(
            (
                cycle,
                entry["unit"],
                entry["name"],
                entry.get("total", old["total"] if old else None),
                entry.get("rank", old["rank"] if old else None),
                jdump(scores) if scores is not None else None,
                jdump([*(jload(old["sources"]) if old else []), sha]),
                m.leaf_index,
            )
        )
    b.cur.executemany(upsert_sql("past_results"), rows)
    b.cur.execute("SELECT COUNT(*) AS n FROM past_results WHERE cycle = ?", (cycle,))
    count = int(b.cur.fetchone()["n"])
    b.cur.execute(
        upsert_sql("past_cycles"),
        (
            cycle,
            command["name"],
            command["year"],
            count,
            jdump(imports),
            row["leaf_index"] if row else m.leaf_index,
            row["at"] if row else m.at,
        ),
    )


def previous_linked(b: Batch, e: Any, m: Meta) -> None:
    row = _cycle_of(b, m)
    if row is None:
        return
    link = {
        "cycle": e.previous,
        "year": e.year,
        "imported": e.imported,
        "code_map": e.code_map,
        "unit_map": e.unit_map,
    }
    b.cur.execute(
        "UPDATE cycles SET previous = ?, previous_leaf = ? WHERE cycle = ?",
        (jdump(link), m.leaf_index, row["cycle"]),
    )
    _change(b, row["cycle"], m, "previous_linked", e.reason, previous=e.previous)


HANDLERS = {
    "domain.past_results:PastCycle.Imported": past_imported,
    "domain.past_results:PastCycle.ResultsImported": past_imported,
    "domain.cycle:Cycle.PreviousLinked": previous_linked,
}
