"""The improvement plan (kế hoạch khắc phục, nâng cao Chỉ số CCHC) as a document.

Before the commune signs one, the draft: every leaf that lost points in the
published cycle, with its maximum, appraised points, points lost and a target
of the maximum, the tasks and units left to fill in. Once signed
(`record_improvement_plan`), the latest signed version: its rows as signed,
beside each criterion's maximum, appraised points and points lost as the log
stands. The headings are those `framework check --partial` reads back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from application.documents.model import Cell, Column, Document, cell_text, key_of
from domain.assessment import leaf_input
from domain.framework import Framework, compute
from domain.improvement_plan import draft_rows, plan_needs_publication, plan_needs_submission

COLUMNS = [
    Column("stt", "STT"),
    Column("title", "Tiêu chí"),
    Column("max", "Điểm tối đa", number=True),
    Column("appraised", "Điểm thẩm định", number=True),
    Column("lost", "Điểm bị mất", number=True),
    Column("target", "Điểm phấn đấu", number=True),
    Column("tasks", "Nhiệm vụ, giải pháp"),
    Column("lead", "Đơn vị chủ trì"),
    Column("partners", "Đơn vị phối hợp"),
    Column("deadline", "Thời hạn hoàn thành"),
    Column("note", "Ghi chú"),
]
# What a commune fills in on the draft (the rest is the log's).
EDITABLE = ("target", "tasks", "lead", "partners", "deadline", "note")


def build(
    cycle: Any, framework: Framework, unit: str, assessment: Any, published: bool
) -> Document:
    if not published:
        raise plan_needs_publication(cycle.cycle)
    if assessment is None or not assessment.submitted:
        raise plan_needs_submission(unit)
    appraised = {k: leaf_input(v) for k, v in assessment.appraised_view().items()}
    result = compute(framework, appraised, allow_missing=True)
    plans = assessment.__dict__.get("plans") or []
    plan = plans[-1] if plans else None
    if plan is None:
        items = [
            {"leaf": r["leaf"], "target": r["max_points"]} for r in draft_rows(framework, appraised)
        ]
    else:
        items = plan["items"]
    rows: list[tuple[str, dict[str, Cell]]] = []
    for item in items:
        node, score = framework.node(item["leaf"]), result.node(item["leaf"])
        cells: dict[str, Cell] = {
            "stt": item["leaf"],
            "title": cell_text(node.title),
            "max": score.applicable_max,
            "appraised": score.score,
            "lost": score.points_lost,
            "target": Decimal(item["target"]),
        }
        for name in ("tasks", "lead", "partners", "deadline", "note"):
            cells[name] = cell_text(item.get(name))
        rows.append((key_of("improvement_plan", cells), cells))
    names = {u["code"]: u["name"] for u in cycle.units}
    year = plan["plan_year"] if plan else cycle.year + 1
    state = (
        f"Phiên bản {plan['version']}, ký bởi khóa {plan['actor']} lúc {plan['at']}"
        if plan
        else "Bản dự thảo do hệ thống lập từ điểm thẩm định đã công bố; chưa ký"
    )
    title = [
        "KẾ HOẠCH KHẮC PHỤC, NÂNG CAO CHỈ SỐ CẢI CÁCH HÀNH CHÍNH",
        f"NĂM {year}",
        cell_text(f"Đơn vị: {names.get(unit, unit)} (mã {unit})"),
        cell_text(
            f"Căn cứ kết quả Chỉ số CCHC năm {cycle.year} đã công bố "
            f"(kỳ {cycle.name}, mã {cycle.cycle})"
        ),
        state,
    ]
    return Document("improvement_plan", title, list(COLUMNS), rows)
