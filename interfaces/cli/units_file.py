"""The units (communes) of a new cycle, from the .csv or .xlsx a district keeps.

The first non-blank row names the columns: `code` / `mã` (or `mã đơn vị`) and
`name` / `tên` (or `tên đơn vị`), in any order, any case, and optionally
`type` / `loại` (or `loại đơn vị`); other columns are ignored. Each later
non-blank row is one unit. A type is written as people write it: `xã`,
`phường`, `thị trấn`, `đặc khu` (any case, with or without the marks, or the
codes `xa`, `phuong`, `thi_tran`, `dac_khu`); a blank cell means no type.
The file is read with the same bounds as a criteria table
(interfaces/framework_io/limits.py: size, rows, cells, and an .xlsx checked
before it is opened), and every unit is checked with the rule the server
applies (domain.cycle.check_units) before anything is signed, each fault
naming its row.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from domain.cycle import check_units
from domain.errors import DomainError, Problem, Problems, ValidationFailed
from domain.schedule import UNIT_TYPES
from interfaces.framework_io.reader import read_rows

COLUMNS = {
    "code": ("code", "mã", "mã đơn vị", "ma", "ma don vi"),
    "name": ("name", "tên", "tên đơn vị", "ten", "ten don vi"),
}
TYPE_COLUMN = ("type", "loại", "loại đơn vị", "loai", "loai don vi")
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
    typed = [i for i, label in enumerate(labels) if label in TYPE_COLUMN]
    if len(typed) > 1:
        raise ValidationFailed(
            [
                Problem(
                    "units_column_twice",
                    "Dòng tiêu đề có hai cột 'loại'.",
                    "The header row has two 'type' columns.",
                    row=header.number,
                    column="type",
                )
            ]
        )
    if typed:
        where["type"] = typed[0]
    units, numbers = [], []
    bad: list[Problem] = []
    for r in rows[1:]:
        cells = [*r.cells, *[""] * (max(where.values()) + 1 - len(r.cells))]
        unit = {
            "code": cells[where["code"]].strip(),
            "name": unicodedata.normalize("NFC", cells[where["name"]].strip()),
        }
        if typed and cells[where["type"]].strip():
            try:
                unit["type"] = unit_type(cells[where["type"]])
            except DomainError as e:
                bad.append(Problem(e.code, e.message_vi, e.message_en, row=r.number, column="type"))
        units.append(unit)
        numbers.append(r.number)
    problems = Problems()
    check_units(units, problems)
    if problems.items or bad:
        found = [_on_row(p, numbers) for p in problems.items] + bad
        found.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ValidationFailed(found)
    return units


_TYPES = {
    **{code: code for code in UNIT_TYPES},
    **{_label(vi): code for code, vi in UNIT_TYPES.items()},
    "thi tran": "thi_tran",
    "dac khu": "dac_khu",
    "thi-tran": "thi_tran",
    "dac-khu": "dac_khu",
}


def unit_type(text: str) -> str:
    """`xã`, `Phường`, `thị trấn`, `Đặc khu` (or the codes) -> xa, phuong, thi_tran, dac_khu."""
    found = _TYPES.get(_label(text))
    if found is None:
        found = _TYPES.get(_label(_plain(text)))
    if found is None:
        shown = "".join(c if c.isprintable() else "?" for c in " ".join(text.split())[:40])
        raise DomainError(
            "invalid_unit_type",
            f"Loại đơn vị '{shown}' không hợp lệ; dùng: xã, phường, thị trấn, đặc khu.",
            f"Unit type '{shown}' is not valid; use: xã, phường, thị trấn, đặc khu "
            "(or xa, phuong, thi_tran, dac_khu).",
            field="type",
        )
    return found


def _plain(text: str) -> str:
    """Without Vietnamese marks: 'Phường' -> 'Phuong', 'Đặc khu' -> 'Dac khu'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _on_row(p: Problem, numbers: list[int]) -> Problem:
    """`units[i].code` -> the spreadsheet row of unit i and its column."""
    m = _INDEX.fullmatch(p.field or "")
    if m is None:
        return p
    column = m.group(2).lstrip(".") or None
    return Problem(p.code, p.message_vi, p.message_en, row=numbers[int(m.group(1))], column=column)
