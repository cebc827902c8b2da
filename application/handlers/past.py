"""Year on year (docs/SEASON.md "Year on year"): past cycles imported from their
published tables, and the link from a cycle to the one it is compared with.
Both are deployment-wide commands (admin), replayed by verify in its first pass."""

from __future__ import annotations

from application.errors import NotFound
from application.handlers.base import Context, check_fields, handler
from application.handlers.cycles import cycle_target
from application.handlers.lookup import cycle_of
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.ids import CODE, check_id
from domain.past_results import PastCycle, check_import


@handler("import_past_results")
def import_past_results(ctx: Context) -> list:
    """A published results table's figures, unit by unit, with the file's hash."""
    check_fields(ctx, ("cycle", "name", "year", "source", "units", "reason"))
    c = ctx.command
    check_import(c)
    if ctx.app.get(Cycle.create_id(c["cycle"])) is not None:
        raise DomainError(
            "cycle_exists",
            f"Kỳ '{c['cycle']}' được chấm trên parindex; không nhập kết quả cho nó.",
            f"Cycle '{c['cycle']}' is scored in parindex; its results are not imported.",
            field="cycle",
            status=409,
        )
    signed = ctx.signed.stored()
    past = ctx.app.get(PastCycle.create_id(c["cycle"]))
    if past is None:
        return [PastCycle(cycle=c["cycle"], signed=signed)]
    past.check_same(c["name"], c["year"])
    replaced = past.replaced(c["units"])
    if replaced and c.get("reason") is None:
        shown = ", ".join(replaced[:5]) + (" …" if len(replaced) > 5 else "")
        raise DomainError(
            "reason_required",
            f"Lần nhập này thay số liệu đã nhập của {len(replaced)} đơn vị ({shown}): "
            "cần nêu lý do.",
            f"This import replaces figures already imported for {len(replaced)} units "
            f"({shown}): a reason is required.",
            field="reason",
            status=422,
        )
    past.add(signed)
    return [past]


@handler("link_previous_cycle", target=cycle_target)
def link_previous_cycle(ctx: Context) -> list:
    """Names the cycle this one is compared with, and how codes map across."""
    check_fields(ctx, ("cycle", "previous", "code_map", "unit_map", "reason"))
    cycle = cycle_of(ctx)
    c = ctx.command
    previous = check_id(c.get("previous"), "previous", CODE)
    framework = ctx.app.framework(cycle.framework)
    codes = frozenset(n.code for n in framework.nodes)
    other = ctx.app.get(Cycle.create_id(previous))
    if other is not None:
        theirs = ctx.app.framework(other.framework)
        allowed = (codes, frozenset(n.code for n in theirs.nodes), other.unit_codes())
        year, imported = other.year, False
    else:
        past = ctx.app.get(PastCycle.create_id(previous))
        if past is None:
            raise NotFound(f"kỳ {previous}", f"cycle {previous}", code="previous_not_found")
        scored = frozenset(code for r in past.results.values() for code in r.get("scores", {}))
        allowed = (codes, scored or None, frozenset(past.results))
        year, imported = past.year, True
    cycle.link_previous(
        previous,
        year,
        imported,
        (c.get("code_map"), c.get("unit_map")),
        allowed,
        c.get("reason"),
        ctx.signed.stored(),
    )
    return [cycle]
