"""Column names as real tables write them, and finding the header row.

Names match case-insensitively and without diacritics, so "Mã", "MÃ", "ma" and
"code" are one column; an `STT` (số thứ tự) column holds the codes when the
table has no other. The header is the first of the top rows that names the
three required columns; rows above it (a table title) are skipped. A header
printed on two rows (a merged "Điểm số" above "Điểm tối đa | Điểm tự đánh
giá | ...", as the Decision's own form) is read as one.

Score columns are named by kind and, in tables that compare years, by year:
"Điểm tự chấm" (self_score), "Điểm thẩm định" (appraised_score), "Điểm đạt
được" (achieved), "Điểm phấn đấu" (target), "Điểm bị mất" (lost), and
"Điểm 2021 đạt được" or "Điểm thẩm định năm 2022" (achieved_2021,
appraised_score_2022): a year column is read only with one of those kinds
named ("Điểm tối đa năm 2021" or "Điểm trừ 2022" is not a score).
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
SCORE_COLUMNS = ("self_score", "appraised_score", "achieved", "target", "lost")
# Bonus and penalty areas (docs/FRAMEWORKS.md, "Variations"), set on area rows.
VARIATION_COLUMNS = ("component", "cap", "max_by_type")
OPTIONAL = ("label", "note", *RULE_COLUMNS, *VARIATION_COLUMNS, *SCORE_COLUMNS)
# The points a "points lost" column is checked against, first present wins.
LOST_FROM = ("appraised_score", "achieved")

ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "ma", "ma so", "ma tieu chi"),
    "stt": ("stt", "tt", "so tt", "so thu tu", "thu tu"),
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
    "target": ("target", "diem phan dau", "phan dau", "chi tieu"),
    "lost": ("lost", "points lost", "diem bi mat", "bi mat", "diem mat", "diem bi tru"),
    "component": ("component", "thanh phan", "loai diem"),
    "cap": ("cap", "gioi han", "muc toi da cong tru", "toi da duoc cong tru"),
    "max_by_type": (
        "max by type",
        "diem toi da theo loai",
        "diem toi da theo loai don vi",
        "toi da theo loai don vi",
    ),
}
# A unit type as a table writes it (folded): its code.
UNIT_TYPE_VALUES = {
    "xa": "xa",
    "phuong": "phuong",
    "thi tran": "thi_tran",
    "thi_tran": "thi_tran",
    "dac khu": "dac_khu",
    "dac_khu": "dac_khu",
}
# What a component cell may say (folded): the component it names.
COMPONENT_VALUES = {
    "bonus": "bonus",
    "diem thuong": "bonus",
    "thuong": "bonus",
    "penalty": "penalty",
    "diem tru": "penalty",
    "tru": "penalty",
    "survey": "survey",
    "khao sat": "survey",
    "sipas": "survey",
}
_FIELD_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_SEARCH_ROWS = 20
# "diem 2021 dat duoc", "diem dat duoc nam 2021", "diem tham dinh 2022": a kind and a year
_YEAR = re.compile(r"\b(19|20)([0-9]{2})\b")
_KIND_WORDS = (
    ("tu cham", "self_score"),
    ("tu danh gia", "self_score"),
    ("tdg", "self_score"),
    ("tham dinh", "appraised_score"),
    ("phan dau", "target"),
    ("bi mat", "lost"),
    ("dat duoc", "achieved"),
)


def field_of(text: str) -> str | None:
    """The field a header cell names, or None."""
    key = header_key(text)
    name = _FIELD_OF.get(key)
    if name is not None:
        return name
    year = _YEAR.search(key)
    if year and key.startswith("diem"):
        rest = f" {_YEAR.sub(' ', key)} "
        kind = next((k for words, k in _KIND_WORDS if f" {words} " in rest), None)
        if kind is not None:  # "Điểm tối đa năm 2021", "Điểm trừ 2022": not a score
            return f"{kind}_{year.group(0)}"
    return None


def is_score_column(name: str) -> bool:
    return name in SCORE_COLUMNS or name.rpartition("_")[2].isdigit()


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
    chosen = next((r for r in candidates if _complete(_fields(r))), None)
    if chosen is None:
        chosen = next(
            (
                merged
                for upper, lower in zip(candidates, candidates[1:], strict=False)
                if lower.number == upper.number + 1
                and _complete(_fields(merged := merge_header(upper, lower)))
            ),
            candidates[0],
        )
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for i, cell in enumerate(chosen.cells):
        if not cell.strip():
            continue
        name = field_of(cell)
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
    if "code" not in index and "stt" in index:  # the STT column holds the codes
        index["code"], names["code"] = index.pop("stt"), names.pop("stt")
    index.pop("stt", None)
    names.pop("stt", None)
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
    return {f for c in row.cells if (f := field_of(c))}


def _complete(fields: set[str]) -> bool:
    return {"title", "max_points"} <= fields and bool({"code", "stt"} & fields)


def merge_header(upper: RawRow, lower: RawRow) -> RawRow:
    """A header printed on two rows, read as one: each column named by the lower
    row where it has text (the specific name), else by the upper (a merged
    cell's text, or a name that spans both rows)."""
    width = max(len(upper.cells), len(lower.cells))
    cells = []
    for i in range(width):
        top = upper.cells[i] if i < len(upper.cells) else ""
        bottom = lower.cells[i] if i < len(lower.cells) else ""
        cells.append(bottom if bottom.strip() else top)
    return RawRow(lower.number, tuple(cells))


def is_header_like(raw: RawRow) -> bool:
    """A row that names columns rather than holding a criterion: the header
    repeated at a page break (either of its rows)."""
    named = [c for c in raw.cells if c.strip() and field_of(c)]
    figures = [c for c in raw.cells if c.strip() and _FIGURE.fullmatch(c.strip())]
    return len(named) >= 2 and not figures


_FIGURE = re.compile(r"-?[0-9]+([.,][0-9]+)?")
_COLUMN_NUMBER = re.compile(r"\(?([0-9]{1,2})\)?")


def is_column_numbers(raw: RawRow) -> bool:
    """The row of column numbers printed under a header: "(1) (2) (3) ..." or
    "1 2 3 ...", each column's number in order."""
    texts = [c.strip() for c in raw.cells if c.strip()]
    if len(texts) < 3:
        return False
    numbers = []
    for text in texts:
        m = _COLUMN_NUMBER.fullmatch(text)
        if m is None:
            return False
        numbers.append(int(m.group(1)))
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _printable(name: str) -> tuple[str, ...]:
    shown = {
        "code": ("code", "mã"),
        "title": ("title", "tiêu chí", "nội dung"),
        "max_points": ("max_points", "điểm tối đa", "điểm chuẩn"),
    }
    return shown.get(name, (name,))
