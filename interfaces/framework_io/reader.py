"""Reading a .csv or .xlsx table into rows of text, numbered as a spreadsheet shows them.

Row 1 is the first line of the file (normally the header). Every cell comes
back as text: numbers from .xlsx are turned into their shortest exact decimal
text (Excel keeps 15 significant digits), so no float reaches the model.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from domain.errors import ValidationFailed
from domain.framework.problems import failed
from interfaces.framework_io.formula_guard import csv_cell_text
from interfaces.framework_io.limits import (
    MAX_LINE_CHARS,
    RowBudget,
    check_file_size,
    check_xlsx_archive,
)
from interfaces.framework_io.problems import problem


@dataclass(frozen=True)
class RawRow:
    """One row: its 1-based spreadsheet number and its cells as text."""

    number: int
    cells: tuple[str, ...]


def read_rows(path: str | Path) -> list[RawRow]:
    """The rows of a .csv (UTF-8, with or without BOM) or .xlsx (first sheet) file.

    Raises ValidationFailed: file_not_found, unsupported_file_type,
    file_not_utf8, file_unreadable, and the limits of
    interfaces.framework_io.limits (file_too_large, too_many_rows, ...), which
    are checked before and while the file is parsed, never after.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise failed([problem("unsupported_file_type", suffix=suffix or path.name)])
    if not path.is_file():
        raise failed([problem("file_not_found", path=str(path))])
    check_file_size(path)
    if suffix == ".csv":
        return _read_csv(path)
    return _read_xlsx(path)


def rows_from_lists(table: list[list[object]] | list[tuple[object, ...]]) -> list[RawRow]:
    """Rows from in-memory lists (the first list is row 1), e.g. for tests or an API."""
    budget = RowBudget()
    out = []
    for i, cells in enumerate(table, start=1):
        budget.take(len(cells))
        out.append(RawRow(i, tuple(_text(c) for c in cells)))
    return out


def _read_csv(path: Path) -> list[RawRow]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise failed([problem("file_not_utf8", position=exc.start)]) from None
    _check_lines(text)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    budget = RowBudget()
    rows = []
    try:
        for i, cells in enumerate(reader, start=1):
            budget.take(len(cells))
            rows.append(RawRow(i, tuple(csv_cell_text(c) for c in cells)))
    except csv.Error as exc:
        raise failed([problem("file_unreadable", path=str(path), detail=str(exc))]) from None
    return rows


def _check_lines(text: str) -> None:
    """Refuse a physical line over MAX_LINE_CHARS (its number is the file's line number)."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise failed([problem("line_too_long", row=number, limit=MAX_LINE_CHARS)])


def _delimiter(text: str) -> str:
    """ "," normally; ";" or tab when the table uses them (Excel with decimal commas).
    Judged on the busiest of the first 20 lines: title lines above the header
    ("PHỤ LỤC", "KẾT QUẢ ...") hold no separator, or a stray comma."""
    counts = {d: 0 for d in (",", ";", "\t")}
    lines = [line for line in text.splitlines()[:200] if line.strip()][:20]
    for line in lines:
        unquoted = line.split('"')[::2]
        for d in counts:
            counts[d] = max(counts[d], sum(part.count(d) for part in unquoted))
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_xlsx(path: Path) -> list[RawRow]:
    check_xlsx_archive(path)
    from openpyxl import load_workbook  # imported here: only an .xlsx that passed needs it

    try:
        # read_only streams the sheet instead of building every cell first
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise failed(
            [problem("file_unreadable", path=str(path), detail=type(exc).__name__)]
        ) from None
    budget = RowBudget()
    rows = []
    try:
        sheet = workbook.worksheets[0]
        # The stored dimension is the file's word: trusting "A1:XFD1048576" would pad
        # every row to 16,384 cells. Rows then end at their own last cell.
        sheet.reset_dimensions()
        for i, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            budget.take(len(cells))
            rows.append(RawRow(i, tuple(_text(c) for c in cells)))
    except ValidationFailed:
        raise
    except Exception as exc:  # a broken sheet shows up only while it is streamed
        raise failed(
            [problem("file_unreadable", path=str(path), detail=type(exc).__name__)]
        ) from None
    finally:
        workbook.close()
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
