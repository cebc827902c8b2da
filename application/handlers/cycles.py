"""Opening a cycle and running its calendar (admin)."""

from __future__ import annotations

from application.errors import NotFound
from application.handlers.base import Context, check_fields, handler
from application.handlers.lookup import cycle_of
from domain.actors import Target
from domain.assessment import Assessment
from domain.cycle import Cycle, check_units
from domain.errors import DomainError, Problems
from domain.ids import CODE, FRAMEWORK_ID, check_id, id_problem
from domain.past_results import PastCycle
from domain.ranking import Ranking
from domain.schedule import DEFAULT_ROUNDS, LEVELS, check_deadlines
from domain.text import NAME, add_text_problems

SCHEDULE_FIELDS = ("level", "rounds", "deadlines")


def _schedule(c: dict, problems: Problems) -> tuple[str | None, int, dict] | None:
    """(level, rounds, deadlines) when the command states any of them; a cycle
    opened without them has two rounds and no deadline (docs/FORMATS.md 3.6)."""
    if not any(name in c for name in SCHEDULE_FIELDS):
        return None
    level = c.get("level")
    if level is not None and level not in LEVELS:
        problems.add(
            "invalid_level",
            f"Cấp thẩm định phải là một trong: {', '.join(LEVELS)}.",
            f"The appraising level must be one of: {', '.join(LEVELS)}.",
            field="level",
        )
    rounds = c.get("rounds", DEFAULT_ROUNDS)
    if type(rounds) is not int or rounds not in (1, 2):
        problems.add(
            "invalid_rounds",
            "Số vòng thẩm định là 1 hoặc 2.",
            "The number of appraisal rounds is 1 or 2.",
            field="rounds",
        )
    deadlines = check_deadlines(c.get("deadlines", {}), problems)
    return level, rounds, deadlines


@handler("open_cycle")
def open_cycle(ctx: Context) -> list:
    """A cycle and one empty assessment per unit, in one transaction."""
    check_fields(
        ctx,
        (
            "cycle",
            "name",
            "framework",
            "year",
            "authority",
            "province",
            "units",
            *SCHEDULE_FIELDS,
        ),
    )
    c = ctx.command
    problems = Problems()
    for name, rule in (
        ("cycle", CODE),
        ("authority", CODE),
        ("province", CODE),
        ("framework", FRAMEWORK_ID),
    ):
        found = id_problem(c.get(name), name, rule)
        if found is not None:
            problems.items.append(found)
    add_text_problems(problems, c.get("name"), "name", NAME, empty_code="invalid_field")
    year = c.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        problems.add("invalid_year", "Năm không hợp lệ.", "Invalid year.", field="year")
    units = check_units(c.get("units"), problems)
    schedule = _schedule(c, problems)
    problems.raise_if_any()
    if ctx.app.framework(c.get("framework")) is None:
        raise NotFound(
            f"bộ tiêu chí {c.get('framework')}",
            f"framework {c.get('framework')}",
            code="framework_not_found",
        )
    if (
        ctx.app.get(Cycle.create_id(c["cycle"])) is not None
        or ctx.app.get(PastCycle.create_id(c["cycle"])) is not None
    ):
        raise DomainError(
            "cycle_exists",
            f"Kỳ đánh giá '{c['cycle']}' đã có.",
            f"Cycle '{c['cycle']}' already exists.",
            field="cycle",
            status=409,
        )
    signed = ctx.signed.stored()
    cycle = Cycle(
        cycle=c["cycle"],
        name=c["name"],
        framework=c["framework"],
        year=c["year"],
        authority=c["authority"],
        province=c["province"],
        units=units,
        signed=signed,
    )
    opened_by = ctx.signed.reference()
    if schedule is not None:
        cycle.schedule(*schedule, command=opened_by)
    assessments = [
        Assessment(cycle=c["cycle"], unit=u["code"], unit_name=u["name"], command=opened_by)
        for u in units
    ]
    return [cycle, *assessments]


# -- the calendar and the units of an open cycle (docs/SEASON.md) ------------------------
def cycle_target(ctx: Context) -> Target:
    """The cycle, or the one unit an extension names (docs/FORMATS.md 3.6.1)."""
    cycle = cycle_of(ctx)
    unit = ctx.command.get("unit")
    if unit is None:
        return cycle.target()
    unit = check_id(unit, "unit", CODE)
    cycle.check_unit(unit)
    return cycle.target(unit)


def _appraisal_open(ctx: Context, cycle: Cycle) -> None:
    ranking = ctx.app.get(Ranking.create_id(cycle.cycle))
    if ranking is not None and ranking.closed:
        raise DomainError(
            "appraisal_closed",
            f"Hội đồng đã kết thúc thẩm định kỳ {cycle.cycle}.",
            f"The appraisal of cycle {cycle.cycle} is closed.",
            field="cycle",
            status=409,
        )


@handler("extend_deadline", target=cycle_target)
def extend_deadline(ctx: Context) -> list:
    """One deadline later, for the whole cycle or one unit, with a reason."""
    check_fields(ctx, ("cycle", "deadline", "until", "unit", "reason"))
    cycle = cycle_of(ctx)
    _appraisal_open(ctx, cycle)
    c = ctx.command
    cycle.extend_deadline(
        c.get("deadline"), c.get("until"), c.get("unit"), c.get("reason"), ctx.signed.stored()
    )
    return [cycle]


def _opened(ctx: Context, cycle: Cycle, units: list[dict]) -> list:
    by = ctx.signed.reference()
    return [
        Assessment(cycle=cycle.cycle, unit=u["code"], unit_name=u["name"], command=by)
        for u in units
    ]


@handler("add_units", target=cycle_target)
def add_units(ctx: Context) -> list:
    """New units and one empty assessment each, until the self-assessment deadline."""
    check_fields(ctx, ("cycle", "units", "reason"))
    cycle = cycle_of(ctx)
    _appraisal_open(ctx, cycle)
    cycle.check_open_for_units(ctx.signed.issued_at)
    c = ctx.command
    units = cycle.add_units(c.get("units"), c.get("reason"), ctx.signed.stored())
    return [cycle, *_opened(ctx, cycle, units)]


@handler("merge_units", target=cycle_target)
def merge_units(ctx: Context) -> list:
    """Two or more units become one new unit with its own assessment; the merged
    units' history stays readable and their commands are refused (unit_merged)."""
    check_fields(ctx, ("cycle", "units", "into", "reason"))
    cycle = cycle_of(ctx)
    _appraisal_open(ctx, cycle)
    cycle.check_open_for_units(ctx.signed.issued_at)
    c = ctx.command
    into = cycle.merge_units(c.get("units"), c.get("into"), c.get("reason"), ctx.signed.stored())
    return [cycle, *_opened(ctx, cycle, [into])]
