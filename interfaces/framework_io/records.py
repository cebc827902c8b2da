"""Turning a table's raw rows into records: one per code, spilled titles joined.

A row with a code is a record. A row without one is a total row ("Tổng
cộng"), the rest of the title above it (text only: joined, with a warning), or
a fault (figures without a code; text before any criterion).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from domain.errors import DomainError, Problem
from domain.framework.codes import normalise_code
from domain.framework.decimals import parse_decimal
from domain.framework.text import clean, fold
from interfaces.framework_io.columns import (
    RULE_COLUMNS,
    Header,
    is_column_numbers,
    is_header_like,
    is_score_column,
)
from interfaces.framework_io.problems import problem
from interfaces.framework_io.reader import RawRow
from interfaces.framework_io.results import TypedTotal


@dataclass
class Record:
    """One coded row: its parsed parts, None where a cell was faulty."""

    number: int
    code: str | None
    label: str
    title: str
    note: str
    cells: dict[str, str]
    max_points: Decimal | None = None
    scores: dict[str, Decimal] = field(default_factory=dict)


def present_score_columns(header: Header, rows: Sequence[RawRow]) -> tuple[str, ...]:
    """Score columns that hold at least one value (an empty template column is ignored)."""
    present = []
    for name in header.index:
        if is_score_column(name) and any(
            header.cells(r)[name].strip()
            for r in rows
            if r.number > header.row and not is_header_like(r)
        ):
            present.append(name)
    return tuple(present)


def read_records(
    body: list[RawRow],
    header: Header,
    score_columns: tuple[str, ...],
    problems: list[Problem],
    warnings: list[Problem],
) -> tuple[list[Record], list[TypedTotal]]:
    """The records and total rows of `body`; faults go to `problems`, joins to `warnings`."""
    records: list[Record] = []
    totals: list[TypedTotal] = []
    for raw in body:
        cells = {k: clean(v) for k, v in header.cells(raw).items()}
        if not any(cells.values()):
            continue
        if is_header_like(raw) or is_column_numbers(raw):
            # the header repeated at a page break, or the "(1) (2) (3)" row under it
            warnings.append(problem("header_row_skipped", row=raw.number))
            continue
        code_text = cells["code"]
        figures = [c for c in ("max_points", *score_columns) if cells.get(c)]
        rule_given = any(cells.get(c) for c in RULE_COLUMNS)
        if _is_total_row(code_text) or (not code_text and _is_total_row(cells["title"])):
            totals.append(_total(raw.number, cells, score_columns, problems))
            continue
        if not code_text:
            if figures or rule_given:
                problems.append(problem("missing_code", row=raw.number, column="code"))
            elif records:
                _join(records[-1], raw.number, cells, warnings)
            else:
                problems.append(problem("orphan_continuation", row=raw.number, column="title"))
            continue
        records.append(_record(raw.number, cells, score_columns, problems))
    return records, totals


def _record(
    number: int, cells: dict[str, str], score_columns: tuple[str, ...], problems: list[Problem]
) -> Record:
    code: str | None
    try:
        # "2,3": a code Excel took for a number with a decimal comma
        typed = cells["code"]
        code = normalise_code(typed.replace(",", ".") if _COMMA_CODE.fullmatch(typed) else typed)
    except DomainError:
        problems.append(problem("invalid_code", row=number, column="code", value=cells["code"]))
        code = None
    label = cells.get("label") or cells["code"].rstrip(".").strip()
    record = Record(number, code, label, cells["title"], cells.get("note", ""), cells)
    if not cells["max_points"]:
        problems.append(
            problem(
                "missing_max_points",
                row=number,
                column="max_points",
                field=code,
                code=code or cells["code"],
            )
        )
    else:
        record.max_points = _number(cells["max_points"], number, "max_points", code, problems)
    for column in score_columns:
        if cells.get(column):
            value = _number(cells[column], number, column, code, problems)
            if value is not None:
                record.scores[column] = value
    return record


def _total(
    number: int, cells: dict[str, str], score_columns: tuple[str, ...], problems: list[Problem]
) -> TypedTotal:
    values = {}
    for column in ("max_points", *score_columns):
        if cells.get(column):
            value = _number(cells[column], number, column, None, problems)
            if value is not None:
                values[column] = value
    return TypedTotal(number, values)


def _number(
    text: str, row: int, column: str, code: str | None, problems: list[Problem]
) -> Decimal | None:
    try:
        return parse_decimal(text)
    except DomainError as exc:
        problems.append(problem(exc.code, row=row, column=column, field=code, value=text))
        return None


def _join(record: Record, number: int, cells: dict[str, str], warnings: list[Problem]) -> None:
    # A title too long for its cell, typed on the next row: glue it back on.
    if cells["title"]:
        record.title = f"{record.title} {cells['title']}".strip()
    if cells.get("note"):
        record.note = f"{record.note} {cells['note']}".strip()
    warnings.append(
        problem(
            "title_continued",
            row=number,
            column="title",
            field=record.code,
            code=record.code or record.cells["code"],
            target=record.number,
        )
    )


_COMMA_CODE = re.compile(r"[0-9]+(,[0-9]+)+\.?")


def _is_total_row(title: str) -> bool:
    key = fold(title)
    return key.startswith(("tong cong", "tong diem", "tong so diem")) or key in ("tong", "total")
