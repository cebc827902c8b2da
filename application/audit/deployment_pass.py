"""Pass 1 of verify: replay every command on a deployment-wide aggregate.

Genesis, keys, frameworks and cycles (with the assessments a cycle opens) are
few; they are replayed in log order in one streamed pass, and the result, a
`View` of what existed at which leaf, is what the per-unit replay of pass 2
reads (read only) on every worker.
"""

from __future__ import annotations

import base64
import bisect
import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.audit.replay import (
    DEFAULT_SKEW,
    GENESIS_TOPIC,
    Finding,
    KeyState,
    Stored,
    World,
    authorize,
    check_times,
    compare,
    decide,
    derived_events,
    first_aggregate,
    genesis,
    identity,
    is_deployment_topic,
    open_command,
    parse_stored,
)
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.deployment import Deployment
from domain.framework_record import PublishedFramework
from domain.keys import ActorKey
from domain.ranking import Ranking


@dataclass
class View:
    """What the deployment-wide commands made, by the leaf that made it."""

    def cycle_at(self, cycle_id: UUID, position: int) -> Any:
        """The cycle (or ranking) as it stood before leaf `position` (None before
        it existed)."""
        versions = self.cycles.get(cycle_id)
        if not versions:
            return None
        k = bisect.bisect_left(versions, position, key=lambda v: v[0])
        return versions[k - 1][1] if k else None

    keys: dict[str, KeyState] = field(default_factory=dict)
    frameworks: dict[UUID, tuple[int, Any]] = field(default_factory=dict)
    # each cycle and ranking as it stood after each command that changed it:
    # (first leaf of that command, a shallow copy), oldest first (they never
    # change a container in place, so copies share what did not change)
    cycles: dict[UUID, list[tuple[int, Any]]] = field(default_factory=dict)
    skew: timedelta = DEFAULT_SKEW
    genesis: dict | None = None
    bad_times: set[int] = field(default_factory=set)  # leaves stamped out of window
    # what a cross-unit command (cycle close, ranking) holds of each unit, left
    # by its replay here and checked by the units' replay in pass 2 at that leaf:
    # (first leaf of the command, kind, cycle code, expected lines by unit)
    claims: list[tuple[int, str, str, dict]] = field(default_factory=list)


def deployment_pass(records: Iterable[tuple]) -> tuple[View, list[Finding]]:
    view = View()
    world = World()
    findings: list[Finding] = []
    last: dict[str, datetime] = {}
    run: list[Stored] = []
    run_id: tuple | None = None
    seen = False

    def flush() -> None:
        if run:
            try:
                findings.extend(_replay_run(view, world, run, last))
            except Exception as e:  # hostile content must give a finding, not a crash
                findings.append(("event_unreadable", run[0].pos, repr(e)[:200]))
            run.clear()

    for index, _claimed, oid, version, topic, state in records:
        seen = True
        if topic is None or state is None or not is_deployment_topic(topic):
            continue  # pass 2 reports missing events
        try:
            parsed = parse_stored(index, str(oid), version, topic, state)
        except Exception as e:  # a damaged row is a finding, never a crash
            parsed = ("event_unreadable", {"leaf_index": index}, f"{topic}: {e}")
        if isinstance(parsed, tuple):
            flush()
            findings.append(parsed)
            run_id = None
            continue
        ident = identity(parsed)
        if run and (ident is None or ident != run_id or index != run[-1].index + 1):
            flush()
        run_id = ident
        run.append(parsed)
    flush()
    if seen and view.genesis is None:
        findings.append(("bad_genesis", {"leaf_index": 0}, "no genesis event"))
    return view, findings


def _replay_run(view: View, world: World, run: list[Stored], last: dict) -> list[Finding]:
    first = run[0]
    opened = open_command(first)
    if isinstance(opened, tuple):
        if opened[0] == "event_not_derived":  # orphan references: each is unproven
            return [(opened[0], s.pos, opened[2]) for s in run]
        return [opened]
    signed = opened.signed
    if signed.type == "init_deployment" or first.topic == GENESIS_TOPIC:
        if first.index != 0 or view.genesis is not None or signed.type != "init_deployment":
            return [("bad_genesis", first.pos, "genesis not at leaf 0")]
        aggregates, found = genesis(world, opened, first)
        if found:
            return found
    else:
        if view.genesis is None:
            return [("bad_genesis", {"leaf_index": 0}, "no genesis event")]
        refused = authorize(opened, view.keys.get(opened.key_id), first)
        if refused is not None:
            return [refused]
        expected = first_aggregate(signed)  # 8.2 step 4c: before the command's rule
        if expected is not None and _uuid(first.oid) != expected:
            return [("wrong_aggregate", first.pos, f"the command's aggregate is {expected}")]
        aggregates, stop = decide(
            world, opened, view.keys[opened.key_id], first, deployment_scope=True
        )
        if stop is not None:
            return [stop]
        view.claims.extend((first.index, *claim) for claim in world.claims)
    derived = derived_events(aggregates)
    out = compare(run, derived, get_topic)
    _apply(view, world, aggregates, derived, run)
    times = check_times(run, signed.issued_at, view.skew, last)
    view.bad_times.update(f[1]["leaf_index"] for f in times)
    return out + times


def _apply(view: View, world: World, aggregates: list, derived: list, run: list[Stored]) -> None:
    """The state moves by what the signed command yields, whatever the log holds."""
    first, end = run[0].index, run[-1].index
    for agg in aggregates:
        if isinstance(agg, Assessment):
            continue  # pass 2 opens each assessment on its own worker
        world.aggregates[agg.id] = agg
        if isinstance(agg, Deployment):
            view.genesis = {
                "log_key": agg.log_key,
                "origin": agg.origin,
                "admin_key_id": agg.admin_key_id,
            }
            if agg.clock_skew_seconds:
                view.skew = timedelta(seconds=agg.clock_skew_seconds)
        elif isinstance(agg, Cycle | Ranking):
            view.cycles.setdefault(agg.id, []).append((first, copy.copy(agg)))
        elif isinstance(agg, PublishedFramework):
            view.frameworks.setdefault(agg.id, (first, agg))
    for event in derived:
        if isinstance(event, ActorKey.Registered):
            try:
                public = base64.b64decode(event.public_key, validate=True)
            except (ValueError, TypeError):
                public = b""
            view.keys.setdefault(
                event.key_id, KeyState(event.key_id, public, event.role, event.scope, first)
            )
        elif isinstance(event, ActorKey.Revoked | ActorKey.Rotated):
            key = world.aggregates[event.originator_id]
            state = view.keys.get(key.key_id)
            if state is not None and state.stopped is None:
                state.stopped = end


def _uuid(oid: str) -> UUID | None:
    try:
        return UUID(oid)
    except ValueError:
        return None
