"""Checking who signed a why chain, and with which framework, from the log alone.

A why document (docs/API.md) proves each event of a leaf's chain in the log. That
an event is in the log does not make it an actor's decision: a log operator
holds the log key and can append anything. This module checks, for events whose
inclusion the caller has already proven against a checkpoint signed by the log
key, what the log itself says about them, with verify's own replay code
(application.audit.deployment_pass, replay):

1. `check_grounds` replays the `grounds` (the deployment events the chain rests
   on) from the genesis at leaf 0, whose log key must be the pinned one: every
   key registration, rotation and revocation, each signed by an admin key valid
   at its leaf; every framework publication, re-derived from the admin's signed
   command (so its `framework` and `digest` are the signed ones); then the
   cycle's `Cycle.Opened`, re-derived from its signed `open_cycle`.
2. `check_step` checks one chain event: its signed command is canonical, names
   its signing key, the signature verifies with that key's public key as the
   replayed registry has it, the key was valid at that leaf, its role and scope
   permit the command on this cycle's unit, and the event sits on this unit's
   assessment.

Anything that does not hold raises `Unproven` with the finding kind of verify
(application.audit.findings) and the leaf index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventsourcing.utils import get_topic

from application.audit.deployment_pass import View, deployment_pass
from application.audit.findings import KINDS
from application.audit.replay import (
    World,
    authorize,
    check_times,
    compare,
    decide,
    derived_events,
    open_command,
    parse_stored,
)
from domain.actors import Role, Scope, may
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.framework_record import PublishedFramework, framework_aggregate_id

# The commands a leaf's values come from (projections.queries_leaf SCORE_KINDS).
SCORING = frozenset(
    {
        "record_self_score",
        "declare_not_applicable",
        "adjust_score",
        "confirm_score",
        "answer_explanation",
        "correct_score",
        "close_appraisal",
    }
)

# leaf index, originator id (32 hex digits), version, topic, state bytes
Record = tuple[int, str, int, str, bytes]


class Unproven(Exception):
    def __init__(self, index: int | None, kind: str, detail: str = ""):
        super().__init__(f"{kind} at {index}: {detail}")
        self.index, self.kind, self.detail = index, kind, detail

    def messages(self) -> tuple[str, str]:
        vi, en = KINDS.get(self.kind, ("Không chứng minh được", "Cannot be proven"))
        extra = f" ({self.detail})" if self.detail else ""
        return f"{vi} [{self.kind}]{extra}", f"{en} [{self.kind}]{extra}"


@dataclass
class Grounds:
    """What the proven deployment events make: keys by leaf, the cycle, its framework."""

    view: View
    cycle: Cycle
    cycle_leaf: int
    framework: PublishedFramework
    framework_leaf: int


def _raise(finding: tuple) -> None:
    kind, position, detail = finding
    raise Unproven(position.get("leaf_index"), kind, detail)


def check_grounds(records: Iterable[Record], cycle: str, log_key: str) -> Grounds:
    cycle_oid = Cycle.create_id(cycle).hex
    records = sorted(records, key=lambda r: r[0])
    opened = [r for r in records if r[1] == cycle_oid and r[2] == 1]
    view, findings = deployment_pass(
        (i, None, oid, v, topic, state) for i, oid, v, topic, state in records if oid != cycle_oid
    )
    if findings:
        _raise(min(findings, key=lambda f: f[1].get("leaf_index", -1)))
    if view.genesis is None:
        raise Unproven(0, "bad_genesis", "no genesis event")
    if view.genesis["log_key"] != log_key:
        raise Unproven(0, "bad_genesis", "the genesis names another log key")
    if not opened:
        raise Unproven(None, "event_missing", f"the opening of cycle {cycle}")

    stored = parse_stored(*opened[0])
    if isinstance(stored, tuple):
        _raise(stored)
    command = open_command(stored)
    if isinstance(command, tuple):
        _raise(command)
    if command.signed.type != "open_cycle" or command.signed.command.get("cycle") != cycle:
        raise Unproven(stored.index, "event_not_derived", f"not the open_cycle of {cycle}")
    key = view.keys.get(command.key_id)
    refused = authorize(command, key, stored)
    if refused is not None:
        _raise(refused)
    world = World()
    for oid, (leaf, record) in view.frameworks.items():
        if leaf < stored.index:
            world.aggregates[oid] = record
    aggregates, stop = decide(world, command, key, stored, deployment_scope=True)
    if stop is not None:
        _raise(stop)
    derived = derived_events(aggregates)
    found = compare([stored], derived[:1], get_topic)
    found += check_times([stored], command.signed.issued_at, view.skew, {})
    if found:
        _raise(found[0])
    made = aggregates[0]
    leaf, framework = view.frameworks[framework_aggregate_id(made.framework)]
    return Grounds(view, made, stored.index, framework, leaf)


def check_step(grounds: Grounds, record: Record, unit: str) -> dict:
    """The signed command of one chain event, once everything above holds."""
    stored = parse_stored(*record)
    if isinstance(stored, tuple):
        _raise(stored)
    command = open_command(stored)
    if isinstance(command, tuple):
        _raise(command)
    signed, index = command.signed, stored.index
    if signed.type not in SCORING:
        raise Unproven(index, "event_not_derived", f"a {signed.type} command is not a score")
    key = grounds.view.keys.get(command.key_id)
    refused = authorize(command, key, stored)
    if refused is not None:
        _raise(refused)
    cycle = grounds.cycle
    if (
        stored.oid != Assessment.create_id(cycle.cycle, unit).hex
        or signed.command.get("cycle") != cycle.cycle
        or signed.command.get("unit") != unit
    ):
        raise Unproven(index, "wrong_aggregate", f"not {cycle.cycle}/{unit}")
    if unit not in cycle.unit_codes() or index <= grounds.cycle_leaf:
        raise Unproven(index, "event_not_derived", f"{unit} is not a unit of {cycle.cycle} here")
    try:
        permitted = may(Role(key.role), Scope.parse(key.scope), signed.type, cycle.target(unit))
    except (ValueError, DomainError):
        permitted = False
    if not permitted:
        raise Unproven(index, "not_permitted", f"role {key.role}, scope {key.scope}")
    return signed.command
