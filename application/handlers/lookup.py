"""Looking up what a command names, once per command (kept in ctx.cache)."""

from __future__ import annotations

from application.errors import NotFound
from application.handlers.base import Context
from domain.cycle import Cycle
from domain.ids import CODE, check_id


def cycle_of(ctx: Context) -> Cycle:
    """The cycle the command names (404 cycle_not_found)."""
    if "cycle" not in ctx.cache:
        code = check_id(ctx.command.get("cycle"), "cycle", CODE)
        cycle = ctx.app.get(Cycle.create_id(code))
        if cycle is None:
            raise NotFound(f"kỳ đánh giá {code}", f"cycle {code}", code="cycle_not_found")
        ctx.cache["cycle"] = cycle
    return ctx.cache["cycle"]
