"""A commune's improvement plan (kế hoạch khắc phục, nâng cao Chỉ số CCHC).

After a cycle is published, each commune plans, for each criterion where it
lost points, a target for next year, the tasks, the lead and coordinating
units, a deadline and a note. The system drafts the rows from the appraised
scores (every leaf with points lost); the commune chair edits them and signs
`record_improvement_plan`, so next year's council can see what was promised.
A plan signed again is a new version; every version stays in the log.

This module holds the plan's shape and the draft; `Assessment` records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.errors import DomainError, Problems
from domain.framework import Framework, canonical, compute
from domain.framework.decimals import parse_exact
from domain.ids import LEAF, id_problem
from domain.text import NAME, NOTE, TextRule, add_text_problems

MAX_ITEMS = 200
DEADLINE = TextRule(100)  # "Quý II/2026", "30/06/2026", "Thường xuyên"
ITEM_FIELDS = ("leaf", "target", "tasks", "lead", "partners", "deadline", "note")
YEARS_AHEAD = 5


def draft_rows(framework: Framework, appraised: Mapping[str, Any]) -> list[dict]:
    """One row per leaf that lost points (appraised below its applicable
    maximum), in table order: {leaf, max_points, appraised, lost}; `appraised`
    is each leaf's appraised input (a LeafInput)."""
    result = compute(framework, appraised, allow_missing=True)
    rows = []
    for leaf in framework.leaves:
        node = result.node(leaf.code)
        if node.excluded or node.points_lost <= 0:
            continue
        rows.append(
            {
                "leaf": leaf.code,
                "max_points": canonical(node.applicable_max),
                "appraised": canonical(node.score),
                "lost": canonical(node.points_lost),
            }
        )
    return rows


def check_year(year: object, cycle_year: int) -> int:
    if type(year) is not int or not cycle_year < year <= cycle_year + YEARS_AHEAD:
        raise DomainError(
            "invalid_plan_year",
            f"Năm của kế hoạch phải là một năm sau năm {cycle_year} của kỳ đánh giá "
            f"(đến {cycle_year + YEARS_AHEAD}).",
            f"The plan's year must be a year after the cycle's {cycle_year} "
            f"(up to {cycle_year + YEARS_AHEAD}).",
            field="plan_year",
        )
    return year


def check_items(framework: Framework, items: object) -> list[dict]:
    """The items as signed, each checked; ValidationFailed lists every fault."""
    problems = Problems()
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise DomainError(
            "invalid_items",
            f"'items' là danh sách từ 1 đến {MAX_ITEMS} tiêu chí.",
            f"'items' must be a list of 1 to {MAX_ITEMS} criteria.",
            field="items",
        )
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or set(item) - set(ITEM_FIELDS):
            problems.add(
                "invalid_item",
                f"{where}: gồm leaf, target, tasks, lead, partners, deadline, note.",
                f"{where}: holds leaf, target, tasks, lead, partners, deadline, note.",
                field=where,
            )
            continue
        leaf = item.get("leaf")
        fault = id_problem(leaf, f"{where}.leaf", LEAF)
        if fault is not None:
            problems.items.append(fault)
        elif not framework.has(leaf) or not framework.is_leaf(leaf):
            problems.add(
                "unknown_leaf",
                f"'{leaf}' không phải tiêu chí thành phần của bộ tiêu chí.",
                f"'{leaf}' is not a leaf of the framework.",
                field=f"{where}.leaf",
            )
        elif leaf in seen:
            problems.add(
                "duplicate_leaf",
                f"Tiêu chí {leaf} có hai lần trong kế hoạch.",
                f"Criterion {leaf} appears twice in the plan.",
                field=f"{where}.leaf",
            )
        else:
            seen.add(leaf)
            _target(framework, leaf, item.get("target"), f"{where}.target", problems)
        add_text_problems(problems, item.get("tasks"), f"{where}.tasks", NOTE)
        add_text_problems(problems, item.get("lead"), f"{where}.lead", NAME)
        add_text_problems(problems, item.get("partners"), f"{where}.partners", NAME, required=False)
        add_text_problems(problems, item.get("deadline"), f"{where}.deadline", DEADLINE)
        add_text_problems(problems, item.get("note"), f"{where}.note", NOTE, required=False)
    problems.raise_if_any()
    return [{k: item.get(k) for k in ITEM_FIELDS} for item in items]


def _target(framework: Framework, leaf: str, target: object, where: str, problems: Problems):
    try:
        value = parse_exact(target, field=where)
    except DomainError as e:
        problems.items.extend(e.problems or [])
        if not e.problems:
            problems.add(e.code, e.message("vi"), e.message("en"), field=where)
        return
    maximum = framework.node(leaf).max_points
    if value < 0 or value > maximum:
        problems.add(
            "target_out_of_range",
            f"Điểm phấn đấu {canonical(value)} của {leaf} phải từ 0 đến {canonical(maximum)}.",
            f"The target {canonical(value)} for {leaf} must be within 0 to {canonical(maximum)}.",
            field=where,
        )


def plan_needs_publication(cycle: str) -> DomainError:
    return DomainError(
        "cycle_not_published",
        f"Kỳ {cycle} chưa công bố xếp hạng: kế hoạch khắc phục lập từ kết quả đã công bố.",
        f"Cycle {cycle} has no published ranking: a plan is made from published results.",
        field="cycle",
        status=409,
    )


def plan_needs_submission(unit: str) -> DomainError:
    return DomainError(
        "not_appraised",
        f"Đơn vị {unit} không nộp bản tự đánh giá nên không có kết quả thẩm định để lập kế hoạch.",
        f"Unit {unit} never submitted, so there is no appraisal to plan from.",
        field="unit",
        status=409,
    )


def total_target(items: list[dict]) -> Decimal:
    return sum((Decimal(i["target"]) for i in items), Decimal(0))
