"""The commune's improvement plan (docs/SEASON.md, "Improvement plans"): a unit
command decided on the unit's assessment once the cycle is published, so
verify replays it with the unit's own events."""

from __future__ import annotations

from application.handlers.assessments import BASE, _load, target
from application.handlers.base import Context, check_fields, handler


@handler("record_improvement_plan", target=target)
def record_improvement_plan(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "plan_year", "items"))
    when, assessment, framework = _load(ctx)
    assessment.record_improvement_plan(
        framework,
        when,
        ctx.command.get("plan_year"),
        ctx.command.get("items"),
        ctx.signed.stored(),
    )
    return [assessment]
