"""The oversight view (signed reads): every appraisal change of a cycle, or of
every cycle the key reaches, with its flags; and its sums per actor, unit and
criterion (docs/API.md, "Oversight").

Who reads what follows docs/API.md, "Who may read what": a key whose scope
covers the cycle (`*`, its province, its authority) reads all of it; a commune
key reads only its own commune's rows, and no sums (they speak of every
commune of the cycle).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_smorest import Blueprint

from application.errors import NotFound
from domain.actors import Target
from domain.keys import ActorKey
from interfaces.http import as_of, reads
from interfaces.http.auth import readable_cycle
from interfaces.http.oversight_schemas import (
    FILTER_NAMES,
    AcrossFilters,
    AcrossSummaryArgs,
    OversightChanges,
    OversightFilters,
    OversightSummary,
    SummaryArgs,
)
from interfaces.http.problems import HttpProblem
from projections.queries_oversight import Filters

blp = Blueprint(
    "oversight",
    __name__,
    url_prefix="/api/v1",
    description="Giám sát: mọi thay đổi khi thẩm định, ai, khi nào, vì sao (cần chữ ký / "
    "signed reads)",
)
SIGNED = [{"ParindexSig": []}]


def _refused(key: ActorKey, what_vi: str, what_en: str) -> HttpProblem:
    return HttpProblem(
        "not_permitted", f"phạm vi {key.scope}, {what_vi}", f"scope {key.scope}, {what_en}"
    )


def _filters(key: ActorKey, args: dict, commune: str | None) -> Filters:
    """The query's filters; a commune key's are bound to its own commune."""
    given = {name: args[name] for name in FILTER_NAMES if args.get(name) is not None}
    if commune is not None:
        if given.get("unit", commune) != commune:
            raise _refused(key, f"đơn vị {given['unit']}", f"unit {given['unit']}")
        given["unit"] = commune
    return Filters(**given)


def _commune(key: ActorKey, code: str) -> str | None:
    """None when the key reads the whole cycle; else the one commune it reads."""
    cycle = readable_cycle(key, code)
    return None if key.scope_obj.covers(cycle.target()) else key.scope_obj.code


def _reach(key: ActorKey, wanted: list[str] | None) -> tuple[list[str] | None, str | None]:
    """The cycles to read (None: every cycle) and the one commune a commune key is
    bound to (its rows in every cycle it is in); `wanted` names the cycles, each
    checked as a cycle read is (404 unknown, 403 out of reach)."""
    scope = key.scope_obj
    if wanted:
        communes = {_commune(key, code) for code in wanted}
        return sorted(set(wanted)), communes.pop() if communes else None
    if scope.kind == "*":
        return None, None
    if scope.kind == "commune":
        return None, scope.code  # its own unit's rows, in every cycle it is in
    every = reads.q().cycles()
    return [
        c["cycle"]
        for c in every
        if scope.covers(Target(province=c["province"], authority=c["authority"]))
    ], None


def _missing(cycle: str) -> tuple[str, str, str]:
    return f"kỳ đánh giá {cycle}", f"cycle {cycle}", "cycle_not_found"


@blp.route("/cycles/<cycle>/oversight")
@blp.arguments(OversightFilters, location="query")
@blp.response(200, OversightChanges)
@blp.doc(security=SIGNED)
def cycle_changes(args: dict, cycle: str):
    """Mọi thay đổi khi thẩm định của một kỳ, theo thứ tự nhật ký, có bộ lọc / every
    appraisal change of a cycle in log order: who, when (signed), before and after,
    why, round, log index, and flags"""
    key = reads.begin(args)
    found = as_of.moment(args)
    filters = _filters(key, args, _commune(key, cycle))
    if found is not None:
        filters = replace(filters, upto=found.log_index)
    doc = reads.found(
        reads.q().oversight(cycle, filters, args["limit"], args["offset"], args.get("after")),
        *_missing(cycle),
    )
    return as_of.stamped(doc, found)


@blp.route("/cycles/<cycle>/oversight/summary")
@blp.arguments(SummaryArgs, location="query")
@blp.response(200, OversightSummary)
@blp.doc(security=SIGNED)
def cycle_summary(args: dict, cycle: str):
    """Tổng hợp theo người thực hiện, đơn vị, tiêu chí / sums per actor, unit, leaf or
    area: changes, points deducted and added"""
    key = reads.begin(args)
    if _commune(key, cycle) is not None:
        raise _refused(key, f"tổng hợp giám sát kỳ {cycle}", f"oversight sums of {cycle}")
    found = as_of.moment(args)
    doc = reads.found(
        reads.q().oversight_summary(
            cycle, args["by"], args["order"], args["limit"], args["offset"], _upto(found)
        ),
        *_missing(cycle),
    )
    return as_of.stamped(doc, found)


@blp.route("/oversight")
@blp.arguments(AcrossFilters, location="query")
@blp.response(200, OversightChanges)
@blp.doc(security=SIGNED)
def changes_across(args: dict):
    """Mọi thay đổi của mọi kỳ trong phạm vi của khóa / every change of every cycle
    the key reaches (or of the cycles named)"""
    key = reads.begin(args)
    found = as_of.moment(args)
    cycles, commune = _reach(key, args.get("cycle"))
    filters = _filters(key, args, commune)
    if found is not None:
        filters = replace(filters, upto=found.log_index)
    doc = reads.q().oversight(cycles, filters, args["limit"], args["offset"], args.get("after"))
    return as_of.stamped(doc, found)


@blp.route("/oversight/summary")
@blp.arguments(AcrossSummaryArgs, location="query")
@blp.response(200, OversightSummary)
@blp.doc(security=SIGNED)
def summary_across(args: dict):
    """Tổng hợp qua các kỳ / sums across the cycles the key reaches"""
    key = reads.begin(args)
    cycles, commune = _reach(key, args.get("cycle"))
    if commune is not None:
        raise _refused(key, "tổng hợp giám sát", "oversight sums")
    found = as_of.moment(args)
    doc = reads.q().oversight_summary(
        cycles, args["by"], args["order"], args["limit"], args["offset"], _upto(found)
    )
    if doc is None:
        raise NotFound("kỳ đánh giá", "cycle", code="cycle_not_found")
    return as_of.stamped(doc, found)


def _upto(found: Any) -> int | None:
    return None if found is None else found.log_index
