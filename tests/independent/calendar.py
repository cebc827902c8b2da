"""The calendar and units of an open cycle (FORMATS.md 3.6): extend_deadline,
add_units, merge_units, each on the cycle's aggregate, next version."""

from __future__ import annotations

import uuid

from tests.independent.fields import KINDS, Refused, utc_time
from tests.independent.rules import (
    CYCLE_NS,
    _as_signed,
    _next,
    cycle_closed,
    cycle_of,
    opened,
)
from tests.independent.state import Cycle, World, Yield, before_deadline

MAX_UNITS = 10_000


def _open(cmd: dict, world: World) -> Cycle:
    cycle = cycle_of(cmd, world)
    if cycle_closed(cmd, world):
        raise Refused("appraisal_closed")
    return cycle


def _event(cmd: dict, signed: dict, world: World, topic: str, *names: str) -> Yield:
    """The cycle's event, next version: `names` as signed, then `signed`."""
    agg = uuid.uuid5(CYCLE_NS, cmd["cycle"])
    return Yield(agg, topic, _next(world, agg), {**_as_signed(cmd, *names), "signed": signed})


def _extend(cmd, signed, digest, world):
    cycle = _open(cmd, world)
    kind, until, unit = cmd["deadline"], utc_time(cmd["until"]), cmd.get("unit")
    if cycle.deadlines.get(kind) is None:
        raise Refused("no_such_deadline")
    if unit is not None:
        if cycle.unit(unit) is None:
            raise Refused("unit_not_found")
        if unit in cycle.merged:
            raise Refused("unit_merged")
    if not until > cycle.deadline(kind, unit):
        raise Refused("not_an_extension")
    # the next kind that the cycle has, for that unit or the cycle
    later = [k for k in KINDS[KINDS.index(kind) + 1 :] if cycle.deadlines.get(k) is not None]
    if later and until > cycle.deadline(later[0], unit):
        raise Refused("deadlines_out_of_order")
    names = ("deadline", "until", "unit", "reason")
    return [_event(cmd, signed, world, "domain.cycle:Cycle.DeadlineExtended", *names)]


def _apply_extend(cmd, yields, world):
    cycle = world.cycles[cmd["cycle"]]
    until = utc_time(cmd["until"])
    if cmd.get("unit") is None:
        cycle.deadlines[cmd["deadline"]] = until
    else:
        cycle.unit_deadlines.setdefault(cmd["unit"], {})[cmd["deadline"]] = until


def _new_units(cmd: dict, cycle: Cycle, count: int) -> None:
    """Units may be added or merged until the cycle's own self_assessment_due."""
    before_deadline(cmd, cycle, "self_assessment_due")
    if len(cycle.units) + count > MAX_UNITS:
        raise Refused("too_many_units")


def _add(cmd, signed, digest, world):
    cycle = _open(cmd, world)
    _new_units(cmd, cycle, len(cmd["units"]))
    if any(cycle.unit(u["code"]) is not None for u in cmd["units"]):
        raise Refused("duplicate_unit")
    first = _event(cmd, signed, world, "domain.cycle:Cycle.UnitsAdded", "units", "reason")
    return [first, *opened(cmd, digest, cmd["units"])]


def _apply_add(cmd, yields, world):
    world.cycles[cmd["cycle"]].units.extend(dict(u) for u in cmd["units"])


def _merge(cmd, signed, digest, world):
    cycle = _open(cmd, world)
    _new_units(cmd, cycle, 1)
    for code in cmd["units"]:
        if cycle.unit(code) is None:
            raise Refused("unit_not_found")
        if code in cycle.merged:
            raise Refused("unit_merged")
    if cycle.unit(cmd["into"]["code"]) is not None:
        raise Refused("duplicate_unit")
    names = ("units", "into", "reason")
    first = _event(cmd, signed, world, "domain.cycle:Cycle.UnitsMerged", *names)
    return [first, *opened(cmd, digest, [cmd["into"]])]


def _apply_merge(cmd, yields, world):
    cycle = world.cycles[cmd["cycle"]]
    cycle.units.append(dict(cmd["into"]))
    for code in cmd["units"]:
        cycle.merged[code] = cmd["into"]["code"]


DERIVE = {"extend_deadline": _extend, "add_units": _add, "merge_units": _merge}
APPLY = {"extend_deadline": _apply_extend, "add_units": _apply_add, "merge_units": _apply_merge}
