"""Handlers for a cycle's close and its ranking versions (domain/ranking.py).

A proposal's lines come from the manifest the council chair signed (in the
event's signed command); a publication also keeps every unit's leaves as they
stood then (`published_nodes`), so a published sheet reads the same forever
whatever is corrected after it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from projections.schema import columns, upsert_sql
from projections.scores import recompute

NODE = {name: i for i, name in enumerate(columns("node_scores"))}

if TYPE_CHECKING:
    from projections.apply import Batch, Meta


def _command(e: Any) -> dict:
    return json.loads(e.signed["command"])


def appraisal_closed(b: Batch, e: Any, m: Meta) -> None:
    b.cur.execute(upsert_sql("cycle_closes"), (e.cycle, m.at, m.actor, m.leaf_index))


def proposed(b: Batch, e: Any, m: Meta) -> None:
    content = _command(e)["manifest"]
    cycle = content["cycle"]
    b.cur.execute(
        "UPDATE rankings SET state = 'superseded' WHERE cycle = ? "
        "AND state IN ('proposed', 'approved')",
        (cycle,),
    )
    row = dict.fromkeys(columns("rankings"))
    row.update(
        cycle=cycle,
        version=e.version,
        state="proposed",
        digest=e.digest,
        proposed_at=m.at,
        proposed_by=m.actor,
        proposed_leaf=m.leaf_index,
        ranked_count=len(content["ranked"]),
        unranked_count=len(content["unranked"]),
    )
    b.cur.execute(upsert_sql("rankings"), tuple(row.values()))
    lines = []
    for position, line in enumerate([*content["ranked"], *content["unranked"]]):
        values = dict.fromkeys(columns("ranking_lines"))
        values.update({k: v for k, v in line.items() if k in values})
        values.update(cycle=cycle, version=e.version, position=position)
        values["index_"] = line.get("index")
        lines.append(tuple(values.values()))
    b.cur.executemany(upsert_sql("ranking_lines"), lines)


def approved(b: Batch, e: Any, m: Meta) -> None:
    b.cur.execute(
        "UPDATE rankings SET state = 'approved', approved_at = ?, approved_by = ?, "
        "approved_leaf = ?, decision_number = ?, decision_date = ? "
        "WHERE cycle = ? AND version = ?",
        (
            m.at,
            m.actor,
            m.leaf_index,
            e.decision["number"],
            e.decision["date"],
            _command(e)["cycle"],
            e.version,
        ),
    )


def published(b: Batch, e: Any, m: Meta) -> None:
    cycle = _command(e)["cycle"]
    b.cur.execute(
        "UPDATE rankings SET state = 'published', published_at = ?, published_by = ?, "
        "published_leaf = ? WHERE cycle = ? AND version = ?",
        (m.at, m.actor, m.leaf_index, cycle, e.version),
    )
    b.cur.execute("SELECT unit FROM units WHERE cycle = ? ORDER BY position", (cycle,))
    rows = []
    for (unit,) in [tuple(r) for r in b.cur.fetchall()]:
        work = b.unit((cycle, unit))
        if work is None:
            continue
        nodes, _totals = recompute(work)  # as of this event, whatever the batch defers
        for node in nodes:
            code = node[NODE["code"]]
            leaf = work.leaves.get(code)
            rows.append(
                (
                    cycle,
                    e.version,
                    unit,
                    code,
                    node[NODE["position"]],
                    node[NODE["max_points"]],
                    node[NODE["applicable_max"]],
                    node[NODE["self_score"]],
                    node[NODE["appraised_score"]],
                    node[NODE["points_lost"]],
                    node[NODE["percentage"]],
                    node[NODE["excluded"]],
                    None if leaf is None else leaf.self_input,
                    None if leaf is None else leaf.appraised_input,
                    None if leaf is None else leaf.appraised_reason,
                )
            )
    b.cur.executemany(upsert_sql("published_nodes"), rows)


HANDLERS = {
    "domain.ranking:Ranking.AppraisalClosed": appraisal_closed,
    "domain.ranking:Ranking.Proposed": proposed,
    "domain.ranking:Ranking.Approved": approved,
    "domain.ranking:Ranking.Published": published,
}
