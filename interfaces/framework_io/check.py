"""`parindex framework check FILE`: validate a table without importing it.

Reports what the importer would refuse (as ValidationFailed), the typed parent
values that differ from the sums of their leaves (and points lost that are not
maximum - appraised), and the totals per area and overall computed from the
leaves, printed at the precision the table itself uses. Each disagreement
shows the value typed, the value computed at full precision and the
difference, and is told apart as a rounding difference (the two agree at 2
places) or a real error.

A partial table (an improvement plan lists only the criteria that lost
points) cannot make a tree: when its only faults are the tree's (a parent
without its children, maxima that do not add up) and it has a points-lost
column, or when asked with `partial=True`, its rows are checked one by one
(interfaces/framework_io/partial.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import Problem, ValidationFailed
from domain.framework.compute import total_of
from domain.framework.decimals import canonical, round_half_up
from domain.framework.meta import FrameworkMeta, Level
from interfaces.framework_io.columns import locate_header
from interfaces.framework_io.importer import ImportResult, Source, parse_table, rows_of
from interfaces.framework_io.partial import PartialReport, check_partial
from interfaces.framework_io.results import ParentMismatch

# A table is read as partial on its own only when rows lack their parents (what
# a plan listing only the criteria that lost points looks like) and it has a
# points-lost column; besides, only what a partial table's rows may show: a
# parent whose maximum is not its listed children's, figures out of range
# (which the row-by-row check reports itself).
PARTIAL_SIGN = "parent_missing"
PARTIAL_PROBLEMS = frozenset(
    {PARTIAL_SIGN, "parent_sum_mismatch", "points_above_max", "negative_points"}
)

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
    places: int = 2  # the most decimal places the table's own figures use

    @property
    def ok(self) -> bool:
        return not self.mismatches


def check_table(
    source: Source, meta: FrameworkMeta | None = None, *, partial: bool | None = None
) -> CheckReport | PartialReport:
    """The check report; raises ValidationFailed exactly when an import would fail
    (unless the table is read as a partial one)."""
    rows = rows_of(source)
    if partial:
        return check_partial(rows)
    try:
        return report_of(parse_table(rows, meta or _DRAFT))
    except ValidationFailed as exc:
        header, _problems, _warnings = locate_header(rows)
        codes = {p.code for p in exc.problems}
        looks_partial = PARTIAL_SIGN in codes and codes <= PARTIAL_PROBLEMS
        if partial is None and header.has("lost") and looks_partial:
            return check_partial(rows, whole_table_problems=tuple(exc.problems))
        raise


def places_of(values) -> int:
    """The most decimal places among `values` (Decimals as typed)."""
    most = 0
    for v in values:
        exponent = v.as_tuple().exponent
        if isinstance(exponent, int):
            most = max(most, -exponent)
    return most


def report_of(result: ImportResult) -> CheckReport:
    framework = result.framework
    columns = tuple(c for c in result.score_columns if c in result.computed_scores)
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
    totals = {c: total_of(framework, result.computed_scores[c]) for c in columns}
    typed = [v for values in result.typed_scores.values() for v in values.values()]
    places = places_of([*typed, *(n.max_points for n in framework.nodes)])
    return CheckReport(
        areas,
        framework.max_total,
        totals,
        columns,
        result.parent_mismatches,
        result.warnings,
        len(framework.nodes),
        len(framework.leaves),
        places,
    )


_TEXT = {
    "vi": {
        "summary": "{nodes} dòng, {leaves} tiêu chí thành phần, {areas} lĩnh vực.",
        "header": "Lĩnh vực",
        "max": "Tối đa",
        "total": "Tổng",
        "mismatches": "Sai thật sự: số nhập khác số tính từ các dòng khác của bảng:",
        "roundings": "Chỉ do làm tròn (khớp khi làm tròn 2 chữ số thập phân):",
        "mismatch": "  dòng {row}, {code}, cột {column}: nhập {typed}, tính được {computed}, "
        "lệch {difference}",
        "none": "Mọi dòng cha khớp với tổng các tiêu chí thành phần.",
        "partial": "Bảng một phần ({rows} dòng): kiểm tra từng dòng, không dựng cây tiêu chí.",
        "partial_none": "Mọi dòng có điểm bị mất = điểm tối đa - điểm đạt.",
        "not_whole": "Không phải bảng đầy đủ nên không nhập được ({count} lỗi khi nhập):",
        "orphans": "  {count} dòng không có mục cha trong bảng (từ dòng {first}): "
        "bảng chỉ liệt kê một số tiêu chí",
        "problems": "Số vượt phạm vi:",
        "warnings": "Cảnh báo:",
        "total_row": "tổng cộng",
        "self_score": "Tự chấm",
        "appraised_score": "Thẩm định",
        "achieved": "Đạt được",
        "max_points": "Tối đa",
        "target": "Phấn đấu",
        "lost": "Bị mất",
    },
    "en": {
        "summary": "{nodes} rows, {leaves} leaves, {areas} areas.",
        "header": "Area",
        "max": "Max",
        "total": "Total",
        "mismatches": "Real errors: typed values that differ from what the other rows make:",
        "roundings": "Rounding only (equal once rounded to 2 places):",
        "mismatch": "  row {row}, {code}, column {column}: typed {typed}, computed {computed}, "
        "off by {difference}",
        "none": "Every parent row matches the sum of its leaves.",
        "partial": "A partial table ({rows} rows): each row checked, no tree built.",
        "partial_none": "Every row's points lost = maximum - points achieved.",
        "not_whole": "Not a whole table, so it cannot be imported ({count} import problems):",
        "orphans": "  {count} rows without their parent in the table (from row {first}): "
        "it lists some criteria only",
        "problems": "Figures out of range:",
        "warnings": "Warnings:",
        "total_row": "total",
        "self_score": "Self",
        "appraised_score": "Appraised",
        "achieved": "Achieved",
        "max_points": "Max",
        "target": "Target",
        "lost": "Lost",
    },
}


def _shown(value: Decimal, places: int) -> str:
    return format(round_half_up(value, places), "f")


def _column_name(t: dict, column: str) -> str:
    kind, _, year = column.rpartition("_")
    if year.isdigit() and kind in t:
        return f"{t[kind]} {year}"
    return t.get(column, column)


def _mismatch_lines(t: dict, mismatches) -> list[str]:
    def line(m: ParentMismatch) -> str:
        return t["mismatch"].format(
            row=m.row,
            code=m.code or t["total_row"],
            column=_column_name(t, m.column),
            typed=canonical(m.typed),
            computed=canonical(m.computed),
            difference=canonical(m.difference),
        )

    real = [m for m in mismatches if not m.rounding]
    rounding = [m for m in mismatches if m.rounding]
    lines = []
    if real:
        lines.append(t["mismatches"])
        lines.extend(line(m) for m in real)
    if rounding:
        lines.append(t["roundings"])
        lines.extend(line(m) for m in rounding)
    return lines


def format_text(report: CheckReport | PartialReport, lang: str = "vi") -> str:
    """The report for a terminal, Vietnamese unless lang == "en"."""
    t = _TEXT["en" if lang == "en" else "vi"]
    if isinstance(report, PartialReport):
        return _format_partial(report, t, lang)
    places = report.places
    lines = [
        t["summary"].format(nodes=report.nodes, leaves=report.leaves, areas=len(report.areas)),
        "",
    ]
    heads = [t["max"], *(_column_name(t, c) for c in report.score_columns)]
    width = max(11, *(len(h) + 2 for h in heads))
    lines.append(f"{t['header']:<52}" + "".join(f"{h:>{width}}" for h in heads))
    for area in report.areas:
        name = f"{area.label} {area.title}"
        name = name if len(name) <= 50 else name[:49] + "…"
        values = [area.max_points, *(area.scores[c] for c in report.score_columns)]
        lines.append(f"{name:<52}" + "".join(f"{_shown(v, places):>{width}}" for v in values))
    values = [report.max_total, *(report.totals[c] for c in report.score_columns)]
    lines.append(f"{t['total']:<52}" + "".join(f"{_shown(v, places):>{width}}" for v in values))
    lines.append("")
    if report.mismatches:
        lines.extend(_mismatch_lines(t, report.mismatches))
    elif report.score_columns:
        lines.append(t["none"])
    if report.warnings:
        lines.extend(["", t["warnings"], format_problems(report.warnings, lang)])
    return "\n".join(lines).rstrip() + "\n"


def _format_partial(report: PartialReport, t: dict, lang: str) -> str:
    lines = [t["partial"].format(rows=len(report.rows)), ""]
    if report.whole_table_problems:
        # A plan's rows lack their parents by design: said once, with the first,
        # instead of a line per row; what else keeps it from being whole, each.
        orphans = [p for p in report.whole_table_problems if p.code == "parent_missing"]
        others = [p for p in report.whole_table_problems if p.code != "parent_missing"]
        lines.append(t["not_whole"].format(count=len(report.whole_table_problems)))
        if orphans:
            lines.append(t["orphans"].format(count=len(orphans), first=orphans[0].row))
        if others:
            lines.append(format_problems(others[:20], lang))
        lines.append("")
    if report.mismatches:
        lines.extend(_mismatch_lines(t, report.mismatches))
    else:
        lines.append(t["partial_none"])
    if report.problems:
        lines.extend(["", t["problems"], format_problems(report.problems, lang)])
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
