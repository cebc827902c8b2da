"""Checking a partial table: rows of a criteria table without the whole tree.

An improvement plan (kế hoạch khắc phục) lists only the criteria where points
were lost: maximum, appraised points, points lost, a target. Its rows cannot
build a framework (parents lack children, maxima do not add up), but each row
can be checked on its own: points lost = maximum - appraised, a target within
0 .. maximum and not below the appraised points, every figure within 0 ..
maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.errors import Problem
from domain.framework.decimals import canonical
from domain.framework.problems import failed
from interfaces.framework_io.columns import locate_header
from interfaces.framework_io.problems import problem
from interfaces.framework_io.records import present_score_columns, read_records
from interfaces.framework_io.results import ParentMismatch, lost_mismatches


@dataclass(frozen=True)
class PartialRow:
    row: int
    code: str
    max_points: Decimal
    scores: dict[str, Decimal]


@dataclass(frozen=True)
class PartialReport:
    rows: tuple[PartialRow, ...]
    score_columns: tuple[str, ...]
    mismatches: tuple[ParentMismatch, ...]
    problems: tuple[Problem, ...]  # figures out of range: reported, not refused
    warnings: tuple[Problem, ...]
    # read as partial on its own: why it is no whole table (an import refuses it)
    whole_table_problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problems


def check_partial(rows, whole_table_problems: tuple[Problem, ...] = ()) -> PartialReport:
    """The report for raw rows (interfaces.framework_io.reader); raises
    ValidationFailed for what makes the rows unreadable (no header, a bad code
    or number)."""
    header, problems, warnings = locate_header(rows)
    if problems:
        raise failed(problems)
    columns = present_score_columns(header, rows)
    body = [r for r in rows if r.number > header.row]
    records, _totals = read_records(body, header, columns, problems, warnings)
    seen: dict[str, int] = {}
    for r in records:
        if r.code is None:
            continue
        if r.code in seen:
            problems.append(
                problem(
                    "duplicate_code", row=r.number, column="code", code=r.code, first=seen[r.code]
                )
            )
        seen.setdefault(r.code, r.number)
    if problems:
        raise failed(sorted(problems, key=lambda p: p.row or 0))
    kept = tuple(
        PartialRow(r.number, r.code, r.max_points, dict(r.scores))
        for r in records
        if r.code is not None and r.max_points is not None
    )
    mismatches = lost_mismatches([(r.row, r.code, r.max_points, r.scores) for r in kept], columns)
    found: list[Problem] = []
    for r in kept:
        for column, value in r.scores.items():
            where = {"row": r.row, "column": column, "field": r.code, "code": r.code}
            if value < 0:
                found.append(problem("negative_points", value=canonical(value), **where))
            elif value > r.max_points:
                found.append(
                    problem(
                        "points_above_max",
                        value=canonical(value),
                        max=canonical(r.max_points),
                        **where,
                    )
                )
    return PartialReport(
        kept, columns, tuple(mismatches), tuple(found), tuple(warnings), whole_table_problems
    )
