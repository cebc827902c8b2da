"""Handlers for the registry events: deployment, keys, frameworks, cycles, units
(a cycle's schedule and its changes while it runs: projections/cycles.py).

These events are few, so each writes its rows at once; later events in the
same batch then find them by SQL like any other row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.schedule import DEFAULT_ROUNDS
from projections import cycles, previous
from projections.frameworks import node_rows
from projections.rows import dec_text, jdump
from projections.schema import upsert_sql

if TYPE_CHECKING:
    from projections.apply import Batch, Meta


def deployment_initialised(b: Batch, e: Any, m: Meta) -> None:
    b.cur.execute(
        upsert_sql("deployment"), (1, e.origin, e.log_key, e.admin_key_id, m.leaf_index, m.at)
    )


def key_registered(b: Batch, e: Any, m: Meta) -> None:
    b.cur.execute(
        upsert_sql("keys"),
        (
            e.key_id,
            m.originator_id,
            e.public_key,
            e.display_name,
            e.role,
            e.scope,
            "active",
            m.leaf_index,
            m.at,
            m.actor,
            getattr(e, "rotated_from", None),
            None,
            None,
            None,
            None,
        ),
    )
    b.p.actors[e.key_id] = (e.display_name, e.role)


def key_revoked(b: Batch, e: Any, m: Meta) -> None:
    b.cur.execute(
        "UPDATE keys SET status = 'revoked', revoked_leaf = ?, revoked_at = ?, "
        "revoked_reason = ? WHERE aggregate_id = ?",
        (m.leaf_index, m.at, e.reason, m.originator_id),
    )


def key_rotated(b: Batch, e: Any, m: Meta) -> None:
    """The old key stops at the rotation's leaf (kept in `revoked_leaf`)."""
    b.cur.execute(
        "UPDATE keys SET status = 'rotated', revoked_leaf = ?, revoked_at = ?, "
        "rotated_to = ? WHERE aggregate_id = ?",
        (m.leaf_index, m.at, e.successor_key_id, m.originator_id),
    )


def framework_published(b: Batch, e: Any, m: Meta) -> None:
    framework = b.p.frameworks.put(e.framework_id, e.framework)
    meta = framework.meta
    bands = [
        {"code": x.code, "minimum": dec_text(x.minimum), "name_vi": x.name_vi, "name_en": x.name_en}
        for x in meta.bands.items
    ]
    b.cur.execute(
        upsert_sql("frameworks"),
        (
            e.framework_id,
            meta.slug,
            meta.version,
            meta.name,
            meta.jurisdiction,
            meta.level.value,
            meta.year,
            meta.source,
            meta.supersedes,
            e.digest,
            jdump(e.framework),
            jdump(bands),
            dec_text(framework.max_total),
            len(framework.nodes),
            len(framework.leaves),
            m.leaf_index,
            m.at,
            m.actor,
        ),
    )
    b.cur.executemany(upsert_sql("framework_nodes"), node_rows(e.framework_id, framework))


def cycle_opened(b: Batch, e: Any, m: Meta) -> None:
    b.cur.execute(
        upsert_sql("cycles"),
        (
            e.cycle,
            e.name,
            e.framework,
            e.year,
            e.authority,
            e.province,
            len(e.units),
            m.leaf_index,
            m.at,
            m.actor,
            None,
            DEFAULT_ROUNDS,
            jdump({}),
            jdump({}),
            m.originator_id,
            None,
            None,
            None,
        ),
    )
    cycles.units_listed(b, e.cycle, e.units, m)


def assessment_opened(b: Batch, e: Any, m: Meta) -> None:
    position = _unit_position(b, e.cycle, e.unit)
    b.cur.execute(upsert_sql("units"), (e.cycle, e.unit, e.unit_name, position, m.originator_id))
    b.p.unit_of[m.originator_id] = (e.cycle, e.unit)
    work = b.unit((e.cycle, e.unit))
    if work is not None:
        b.changed(work)  # every unit has scores (zeros) from the moment it is opened


def _unit_position(b: Batch, cycle: str, unit: str) -> int:
    """The unit's place in the cycle's list as signed (display order)."""
    b.cur.execute("SELECT COUNT(*) AS n FROM units WHERE cycle = ?", (cycle,))
    return int(b.cur.fetchone()["n"])


HANDLERS = {
    "domain.deployment:Deployment.Initialised": deployment_initialised,
    "domain.keys:ActorKey.Registered": key_registered,
    "domain.keys:ActorKey.Revoked": key_revoked,
    "domain.keys:ActorKey.Rotated": key_rotated,
    "domain.framework_record:PublishedFramework.Published": framework_published,
    "domain.cycle:Cycle.Opened": cycle_opened,
    **cycles.HANDLERS,
    **previous.HANDLERS,
    "domain.assessment:Assessment.Opened": assessment_opened,
}
