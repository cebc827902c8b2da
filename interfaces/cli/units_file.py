"""The units (communes) of a new cycle, from the .csv or .xlsx a district keeps.

The first non-blank row names the columns: `code` / `mã` (or `mã đơn vị`) and
`name` / `tên` (or `tên đơn vị`), in any order, any case; other columns are
ignored. Each later non-blank row is one unit. The file is read with the same
bounds as a criteria table (interfaces/framework_io/limits.py: size, rows,
cells, and an .xlsx checked before it is opened), and every unit is checked
with the rule the server applies (domain.cycle.check_units) before anything is
signed, each fault naming its row.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from domain.cycle import check_units
from domain.errors import Problem, Problems, ValidationFailed
from interfaces.framework_io.reader import read_rows

COLUMNS = {
    "code": ("code", "mã", "mã đơn vị", "ma", "ma don vi"),
    "name": ("name", "tên", "tên đơn vị", "ten", "ten don vi"),
}
_INDEX = re.compile(r"units\[(\d+)\](.*)")


def _label(cell: str) -> str:
    return " ".join(unicodedata.normalize("NFC", cell).casefold().split())


def read_units(path: str | Path) -> list[dict]:
    rows = [r for r in read_rows(path) if any(c.strip() for c in r.cells)]
    if not rows:
        raise ValidationFailed(
            [Problem("units_file_empty", "Tệp không có dòng nào.", "The file has no rows.")]
        )
    header = rows[0]
    labels = [_label(c) for c in header.cells]
    where: dict[str, int] = {}
    for column, names in COLUMNS.items():
        found = [i for i, label in enumerate(labels) if label in names]
        if len(found) != 1:
            raise ValidationFailed(
                [
                    Problem(
                        "units_column_missing",
                        f"Dòng tiêu đề cần đúng một cột '{names[1]}' (hoặc '{names[0]}').",
                        f"The header row needs exactly one '{names[0]}' (or '{names[1]}') column.",
                        row=header.number,
                        column=column,
                    )
                ]
            )
        where[column] = found[0]
    units, numbers = [], []
    for r in rows[1:]:
        cells = [*r.cells, *[""] * (max(where.values()) + 1 - len(r.cells))]
        units.append(
            {
                "code": cells[where["code"]].strip(),
                "name": unicodedata.normalize("NFC", cells[where["name"]].strip()),
            }
        )
        numbers.append(r.number)
    problems = Problems()
    check_units(units, problems)
    if problems.items:
        raise ValidationFailed([_on_row(p, numbers) for p in problems.items])
    return units


def _on_row(p: Problem, numbers: list[int]) -> Problem:
    """`units[i].code` -> the spreadsheet row of unit i and its column."""
    m = _INDEX.fullmatch(p.field or "")
    if m is None:
        return p
    column = m.group(2).lstrip(".") or None
    return Problem(p.code, p.message_vi, p.message_en, row=numbers[int(m.group(1))], column=column)
