"""`parindex framework check FILE`: validate a table without importing it.

Reports what the importer would refuse (as ValidationFailed), the typed parent
values that differ from the sums of their leaves, and the totals per area and
overall computed from the leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import Problem
from domain.framework.decimals import canonical, display
from domain.framework.meta import FrameworkMeta, Level
from interfaces.framework_io.importer import ImportResult, Source, parse_table
from interfaces.framework_io.results import ParentMismatch

_DRAFT = FrameworkMeta(
    name="(kiểm tra)", jurisdiction="(kiểm tra)", level=Level.COMMUNE, year=2000, slug="check"
)


@dataclass(frozen=True)
class AreaTotal:
    """One area: its maximum and, per score column, the sum of its leaves."""

    code: str
    label: str
    title: str
    max_points: Decimal
    scores: dict[str, Decimal]


@dataclass(frozen=True)
class CheckReport:
    areas: tuple[AreaTotal, ...]
    max_total: Decimal
    totals: dict[str, Decimal]
    score_columns: tuple[str, ...]
    mismatches: tuple[ParentMismatch, ...]
    warnings: tuple[Problem, ...]
    nodes: int
    leaves: int

    @property
    def ok(self) -> bool:
        return not self.mismatches


def check_table(source: Source, meta: FrameworkMeta | None = None) -> CheckReport:
    """The check report; raises ValidationFailed exactly when an import would fail."""
    return report_of(parse_table(source, meta or _DRAFT))


def report_of(result: ImportResult) -> CheckReport:
    framework = result.framework
    columns = result.score_columns
    areas = tuple(
        AreaTotal(
            a.code,
            a.label,
            a.title,
            a.max_points,
            {c: result.computed_scores[c][a.code] for c in columns},
        )
        for a in framework.areas
    )
    totals = {c: sum((a.scores[c] for a in areas), Decimal(0)) for c in columns}
    return CheckReport(
        areas,
        framework.max_total,
        totals,
        columns,
        result.parent_mismatches,
        result.warnings,
        len(framework.nodes),
        len(framework.leaves),
    )


_TEXT = {
    "vi": {
        "summary": "{nodes} dòng, {leaves} tiêu chí thành phần, {areas} lĩnh vực.",
        "header": "Lĩnh vực",
        "max": "Tối đa",
        "total": "Tổng",
        "mismatches": "Dòng cha có số nhập khác tổng tính từ các tiêu chí thành phần:",
        "mismatch": "  dòng {row}, {code}, cột {column}: nhập {typed}, tính được {computed}",
        "none": "Mọi dòng cha khớp với tổng các tiêu chí thành phần.",
        "warnings": "Cảnh báo:",
        "total_row": "tổng cộng",
        "self_score": "Tự chấm",
        "appraised_score": "Thẩm định",
        "achieved": "Đạt được",
    },
    "en": {
        "summary": "{nodes} rows, {leaves} leaves, {areas} areas.",
        "header": "Area",
        "max": "Max",
        "total": "Total",
        "mismatches": "Parent rows whose typed value differs from the sum of their leaves:",
        "mismatch": "  row {row}, {code}, column {column}: typed {typed}, computed {computed}",
        "none": "Every parent row matches the sum of its leaves.",
        "warnings": "Warnings:",
        "total_row": "total",
        "self_score": "Self",
        "appraised_score": "Appraised",
        "achieved": "Achieved",
    },
}


def format_text(report: CheckReport, lang: str = "vi") -> str:
    """The report for a terminal, Vietnamese unless lang == "en"."""
    t = _TEXT["en" if lang == "en" else "vi"]
    lines = [
        t["summary"].format(nodes=report.nodes, leaves=report.leaves, areas=len(report.areas)),
        "",
    ]
    heads = [t["max"], *(t[c] for c in report.score_columns)]
    lines.append(f"{t['header']:<52}" + "".join(f"{h:>11}" for h in heads))
    for area in report.areas:
        name = f"{area.label} {area.title}"
        name = name if len(name) <= 50 else name[:49] + "…"
        values = [area.max_points, *(area.scores[c] for c in report.score_columns)]
        lines.append(f"{name:<52}" + "".join(f"{display(v):>11}" for v in values))
    values = [report.max_total, *(report.totals[c] for c in report.score_columns)]
    lines.append(f"{t['total']:<52}" + "".join(f"{display(v):>11}" for v in values))
    lines.append("")
    if report.mismatches:
        lines.append(t["mismatches"])
        lines.extend(
            t["mismatch"].format(
                row=m.row,
                code=m.code or t["total_row"],
                column=m.column,
                typed=canonical(m.typed),
                computed=canonical(m.computed),
            )
            for m in report.mismatches
        )
    elif report.score_columns:
        lines.append(t["none"])
    if report.warnings:
        lines.extend(["", t["warnings"], format_problems(report.warnings, lang)])
    return "\n".join(lines).rstrip() + "\n"


def format_problems(problems: Iterable[Problem], lang: str = "vi") -> str:
    """One line per problem: row, column, stable code, message (Vietnamese by default)."""
    row_word, column_word = ("row", "column") if lang == "en" else ("dòng", "cột")
    lines = []
    for p in problems:
        where = []
        if p.row is not None:
            where.append(f"{row_word} {p.row}")
        if p.column is not None:
            where.append(f"{column_word} {p.column}")
        place = ", ".join(where) or (p.field or "-")
        message = p.message_en if lang == "en" else p.message_vi
        lines.append(f"  {place}: [{p.code}] {message}")
    return "\n".join(lines)
