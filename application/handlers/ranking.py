"""The council's close of a cycle and the versions of its ranking: propose,
approve, publish (docs/SEASON.md, "The whole cycle").

These decide on every unit of the cycle. The server reads each unit's
assessment (under the cycle's gate, so none changes meanwhile). Verify's first
pass has no units: there `ctx.app.assessments` is None and the handler leaves a
claim per unit instead, which the unit's own replay checks at this position
(application/audit/shard.py); both halves run the same domain functions.
"""

from __future__ import annotations

import re

from application.handlers.base import Context, check_fields, handler
from application.handlers.lookup import cycle_of
from domain.actors import Target
from domain.errors import DomainError
from domain.ranking import (
    Ranking,
    check_shape,
    first_difference,
    lines_by_unit,
    manifest,
    ranking_differs,
)
from domain.text import NAME, check_text

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def cycle_target(ctx: Context) -> Target:
    return cycle_of(ctx).target()


def _ranking(ctx: Context, *, required: bool = True) -> Ranking | None:
    cycle = cycle_of(ctx)
    ranking = ctx.app.get(Ranking.create_id(cycle.cycle))
    if ranking is None and required:
        raise DomainError(
            "appraisal_open",
            f"Hội đồng chưa kết thúc thẩm định kỳ {cycle.cycle} (close_appraisal).",
            f"The council has not closed the appraisal of {cycle.cycle} (close_appraisal).",
            field="cycle",
            status=409,
        )
    return ranking


@handler("close_appraisal", target=lambda ctx: close_target(ctx))
def close_appraisal(ctx: Context) -> list:
    """One unit (the unit's close, handlers/assessments.py) or the whole cycle."""
    if "unit" in ctx.command:
        from application.handlers.assessments import close_unit

        return close_unit(ctx)
    return close_cycle(ctx)


def close_target(ctx: Context) -> Target:
    if "unit" in ctx.command:
        from application.handlers.assessments import target

        return target(ctx)
    return cycle_target(ctx)


def close_cycle(ctx: Context) -> list:
    """close_appraisal without a unit: refused while a submitted unit is open."""
    check_fields(ctx, ("cycle",))
    cycle = cycle_of(ctx)
    if _ranking(ctx, required=False) is not None:
        raise DomainError(
            "appraisal_closed",
            f"Kỳ {cycle.cycle} đã kết thúc thẩm định.",
            f"The appraisal of {cycle.cycle} is already closed.",
            field="cycle",
            status=409,
        )
    states = ctx.app.assessments(cycle)
    if states is None:
        ctx.app.claim("closed", cycle.cycle, {})
    else:
        # A merged unit's history stays, but it is no longer appraised or ranked.
        still_open = sorted(u for u, a in states.items() if unit_open(a) and u not in cycle.merged)
        if still_open:
            shown = ", ".join(still_open[:10]) + (
                f" (+{len(still_open) - 10})" if len(still_open) > 10 else ""
            )
            raise DomainError(
                "units_not_closed",
                f"Còn {len(still_open)} đơn vị đã nộp chưa kết thúc thẩm định: {shown}.",
                f"{len(still_open)} submitted units are not closed yet: {shown}.",
                field="cycle",
                status=409,
            )
    return [Ranking(cycle=cycle.cycle, signed=ctx.signed.stored())]


def unit_open(assessment: object) -> bool:
    """A unit that submitted and whose appraisal is not closed."""
    return (
        assessment is not None
        and getattr(assessment, "submitted", False)
        and not getattr(assessment, "closed", False)
    )


def _unchanged(ctx: Context, ranking: Ranking, version: dict) -> None:
    """Refuses when a unit's line differs from the proposal's (ranking_changed)."""
    cycle = cycle_of(ctx)
    framework = ctx.app.framework(cycle.framework)
    states = ctx.app.assessments(cycle)
    try:
        check_shape(version["manifest"], cycle, version["version"], framework)
        if states is None:
            ctx.app.claim("lines", cycle.cycle, lines_by_unit(version["manifest"]))
            return
        now = manifest(cycle, version["version"], framework, states)
        if now != version["manifest"]:
            raise ranking_differs(first_difference(version["manifest"], now))
    except DomainError as e:
        raise DomainError(
            "ranking_changed",
            f"Kết quả đã thay đổi kể từ khi đề xuất phiên bản {version['version']}: "
            f"{e.message_vi} Hội đồng cần đề xuất lại.",
            f"Results changed since version {version['version']} was proposed: "
            f"{e.message_en} The council must propose again.",
            field="version",
            status=409,
        ) from None


@handler("propose_ranking", target=cycle_target)
def propose_ranking(ctx: Context) -> list:
    check_fields(ctx, ("cycle", "manifest"))
    cycle = cycle_of(ctx)
    ranking = _ranking(ctx)
    assert ranking is not None
    content = ctx.command.get("manifest")
    framework = ctx.app.framework(cycle.framework)
    version = ranking.next_version()
    check_shape(content, cycle, version, framework)
    states = ctx.app.assessments(cycle)
    if states is None:
        ctx.app.claim("lines", cycle.cycle, lines_by_unit(content))
    else:
        computed = manifest(cycle, version, framework, states)
        if computed != content:
            raise ranking_differs(first_difference(content, computed))
    ranking.propose(content, ctx.signed.stored())
    return [ranking]


def _decision(ctx: Context) -> dict:
    number = ctx.command.get("decision_number")
    check_text(number, "decision_number", NAME)
    date = ctx.command.get("decision_date")
    if not isinstance(date, str) or not _DATE.fullmatch(date):
        raise DomainError(
            "invalid_date",
            "'decision_date' là ngày dạng YYYY-MM-DD.",
            "'decision_date' is a date YYYY-MM-DD.",
            field="decision_date",
        )
    return {"number": number, "date": date}


@handler("approve_ranking", target=cycle_target)
def approve_ranking(ctx: Context) -> list:
    check_fields(ctx, ("cycle", "version", "digest", "decision_number", "decision_date"))
    ranking = _ranking(ctx)
    assert ranking is not None
    decision = _decision(ctx)
    number = ctx.command.get("version")
    _unchanged(ctx, ranking, ranking.version_of(number))
    ranking.approve(number, ctx.command.get("digest"), decision, ctx.signed.stored())
    return [ranking]


@handler("publish_ranking", target=cycle_target)
def publish_ranking(ctx: Context) -> list:
    check_fields(ctx, ("cycle", "version"))
    ranking = _ranking(ctx)
    assert ranking is not None
    number = ctx.command.get("version")
    _unchanged(ctx, ranking, ranking.version_of(number))
    ranking.publish(number, ctx.signed.stored())
    return [ranking]
