"""Column names as real tables write them, and finding the header row.

Names match case-insensitively and without diacritics, so "Mã", "MÃ", "ma" and
"code" are one column. The header is the first of the top rows that names the
three required columns; rows above it (a table title) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import Problem
from domain.framework.text import fold
from interfaces.framework_io.problems import problem
from interfaces.framework_io.reader import RawRow

REQUIRED = ("code", "title", "max_points")
RULE_COLUMNS = ("rule", "step", "bands", "gated_by", "na_policy")
SCORE_COLUMNS = ("self_score", "appraised_score", "achieved")
OPTIONAL = ("label", "note", *RULE_COLUMNS, *SCORE_COLUMNS)

ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "ma", "ma so", "ma tieu chi"),
    "label": ("label", "nhan", "so hieu", "ky hieu"),
    "title": (
        "title",
        "tieu chi",
        "noi dung",
        "ten tieu chi",
        "noi dung tieu chi",
        "linh vuc tieu chi",
        "linh vuc tieu chi tieu chi thanh phan",
    ),
    "max_points": ("max points", "max", "diem toi da", "diem chuan", "thang diem"),
    "note": ("note", "ghi chu"),
    "rule": ("rule", "cach cham", "cach cham diem", "quy tac"),
    "step": ("step", "buoc diem", "buoc"),
    "bands": ("bands", "ratio bands", "muc ty le", "cac muc"),
    "gated_by": ("gated by", "dieu kien", "phu thuoc"),
    "na_policy": ("na policy", "optional", "neu co", "khong phat sinh"),
    "self_score": ("self score", "tu cham", "diem tu cham", "tu danh gia", "diem tu danh gia"),
    "appraised_score": ("appraised score", "tham dinh", "diem tham dinh"),
    "achieved": ("achieved", "diem dat", "diem dat duoc", "ket qua"),
}
_FIELD_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_SEARCH_ROWS = 20


def header_key(text: str) -> str:
    """ "Điểm tối đa" -> "diem toi da"; "max_points" -> "max points"."""
    return re.sub(r"[\s_\-/.,:;()]+", " ", fold(text)).strip()


def column_letter(index: int) -> str:
    """0 -> "A", 26 -> "AA": the column as a spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Header:
    """Where the header is and which cell index holds which field."""

    row: int
    index: dict[str, int]
    names: dict[str, str]

    def has(self, name: str) -> bool:
        return name in self.index

    def cells(self, raw: RawRow) -> dict[str, str]:
        """The row's cells by field name (missing cells are "")."""
        return {
            name: (raw.cells[i] if i < len(raw.cells) else "") for name, i in self.index.items()
        }


def locate_header(rows: Sequence[RawRow]) -> tuple[Header, list[Problem], list[Problem]]:
    """The header, the problems that block the import, and warnings (ignored columns)."""
    candidates = [r for r in rows if any(c.strip() for c in r.cells)][:_SEARCH_ROWS]
    if not candidates:
        return Header(1, {}, {}), [problem("empty_file")], []
    chosen = next((r for r in candidates if all(n in _fields(r) for n in REQUIRED)), candidates[0])
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for i, cell in enumerate(chosen.cells):
        if not cell.strip():
            continue
        name = _FIELD_OF.get(header_key(cell))
        if name is None:
            warnings.append(
                problem(
                    "unknown_column_ignored",
                    row=chosen.number,
                    column=column_letter(i),
                    header=cell.strip(),
                )
            )
        elif name in index:
            problems.append(
                problem(
                    "duplicate_column",
                    row=chosen.number,
                    column=name,
                    first=names[name],
                    second=cell.strip(),
                )
            )
        else:
            index[name], names[name] = i, cell.strip()
    for name in REQUIRED:
        if name not in index:
            problems.append(
                problem(
                    "missing_column",
                    row=chosen.number,
                    column=name,
                    aliases=", ".join(_printable(name)),
                )
            )
    return Header(chosen.number, index, names), problems, warnings


def _fields(row: RawRow) -> set[str]:
    return {f for c in row.cells if (f := _FIELD_OF.get(header_key(c)))}


def _printable(name: str) -> tuple[str, ...]:
    shown = {
        "code": ("code", "mã"),
        "title": ("title", "tiêu chí", "nội dung"),
        "max_points": ("max_points", "điểm tối đa", "điểm chuẩn"),
    }
    return shown.get(name, (name,))
