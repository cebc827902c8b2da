"""Publishing a framework and opening a cycle (admin)."""

from __future__ import annotations

from application.errors import NotFound
from application.handlers.base import Context, check_fields, handler
from domain.assessment import Assessment
from domain.cycle import Cycle, check_units
from domain.errors import DomainError, Problems
from domain.framework import content_digest
from domain.framework.published import check_published
from domain.framework_record import PublishedFramework
from domain.ids import CODE, FRAMEWORK_ID, id_problem
from domain.text import NAME, add_text_problems


@handler("publish_framework")
def publish_framework(ctx: Context) -> list:
    """A new framework version; immutable once published."""
    check_fields(ctx, ("framework",))
    data = ctx.field("framework", dict)
    framework = check_published(data)  # ValidationFailed lists every fault, by path
    framework_id = str(framework.id)
    if ctx.app.framework_record(framework_id) is not None:
        raise DomainError(
            "framework_exists",
            f"Bộ tiêu chí {framework_id} đã được công bố; hãy tạo phiên bản mới.",
            f"Framework {framework_id} is already published; make a new version.",
            field="framework",
            status=409,
        )
    supersedes = framework.meta.supersedes
    if supersedes and ctx.app.framework_record(supersedes) is None:
        raise NotFound(
            f"bộ tiêu chí được thay thế {supersedes}",
            f"superseded framework {supersedes}",
            code="framework_not_found",
        )
    return [
        PublishedFramework(
            framework_id=framework_id,
            framework=data,
            digest=content_digest(framework),
            signed=ctx.signed.stored(),
        )
    ]


@handler("open_cycle")
def open_cycle(ctx: Context) -> list:
    """A cycle and one empty assessment per unit, in one transaction."""
    check_fields(ctx, ("cycle", "name", "framework", "year", "authority", "province", "units"))
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
    problems.raise_if_any()
    if ctx.app.framework(c.get("framework")) is None:
        raise NotFound(
            f"bộ tiêu chí {c.get('framework')}",
            f"framework {c.get('framework')}",
            code="framework_not_found",
        )
    if ctx.app.get(Cycle.create_id(c["cycle"])) is not None:
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
    assessments = [
        Assessment(cycle=c["cycle"], unit=u["code"], unit_name=u["name"], command=opened_by)
        for u in units
    ]
    return [cycle, *assessments]
