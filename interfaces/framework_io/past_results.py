"""A past year's published results, read from the tables a province printed, into
the `units` of an `import_past_results` command (docs/SEASON.md "Year on year").

Two kinds of table:

- a unit's scoring sheet (Appendix I, or any criteria table with a score
  column): read as `framework check` reads it (columns.py, records.py), then
  one score column is taken: `--column`, else the appraised score, else the
  achieved points, else the one dated with the year. The leaves are trusted
  and every parent and the total are summed from them at full precision
  (results.py); each typed parent that disagrees is returned to be shown.
- a ranking table (Appendix II): a header row naming the unit code, the unit,
  the total (Điểm thẩm định, Tổng điểm, Điểm đạt được) and the rank (Xếp
  hạng), title lines above it skipped; one row per unit. Rows without a code
  (the "not ranked" heading, a total line) are skipped and counted.

Nothing here judges whether the figures are right: they are what was
published. The file's SHA-256 goes into the command with them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from domain.errors import Problem, ValidationFailed
from domain.framework.compute import total_of
from domain.framework.decimals import canonical
from domain.framework.meta import FrameworkMeta, Level
from domain.framework.text import fold
from interfaces.framework_io.importer import parse_table
from interfaces.framework_io.reader import RawRow, read_rows
from interfaces.framework_io.results import ParentMismatch

_DRAFT = FrameworkMeta(
    name="(kết quả năm trước)", jurisdiction="(nhập)", level=Level.COMMUNE, year=2000, slug="past"
)
PREFERRED = ("appraised_score", "achieved")
RANKING_COLUMNS = {
    "unit": ("ma don vi", "ma", "code", "unit"),
    "name": ("don vi", "ten don vi", "don vi cap xa", "ten", "name"),
    "total": ("diem tham dinh", "tong diem", "diem dat duoc", "tong diem tham dinh", "total"),
    "rank": ("xep hang", "thu hang", "rank"),
}
_SEARCH_ROWS = 20


@dataclass(frozen=True)
class SheetFigures:
    column: str
    scores: dict[str, str]  # every node's points, canonical
    total: str
    mismatches: tuple[ParentMismatch, ...]


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _refused(code: str, vi: str, en: str, **where: object) -> ValidationFailed:
    return ValidationFailed([Problem(code, vi, en, **where)])


def read_sheet(path: str | Path, year: int, column: str | None = None) -> SheetFigures:
    """One unit's scores from its published sheet."""
    result = parse_table(path, _DRAFT)
    columns = [c for c in result.score_columns if c not in ("target", "lost")]
    if column is None:
        dated = [c for c in columns if c.endswith(f"_{year}")]
        for wanted in (*PREFERRED, *(f"{p}_{year}" for p in PREFERRED)):
            if wanted in columns:
                column = wanted
                break
        else:
            column = dated[0] if len(dated) == 1 else None
    if column is None or column not in columns:
        shown = ", ".join(columns) or "(không có / none)"
        raise _refused(
            "score_column_unknown",
            f"Không xác định được cột điểm; chọn bằng --column trong: {shown}.",
            f"Cannot tell which score column to import; choose one with --column from: {shown}.",
            field="column",
        )
    sums = result.computed_scores[column]
    framework = result.framework
    total = total_of(framework, sums)
    scores = {node.code: canonical(sums[node.code]) for node in framework.nodes}
    mismatches = tuple(m for m in result.parent_mismatches if m.column == column)
    return SheetFigures(column, scores, canonical(total), mismatches)


def _header(rows: list[RawRow]) -> tuple[RawRow, dict[str, int]]:
    for raw in rows[:_SEARCH_ROWS]:
        labels = [fold(c) for c in raw.cells]
        where = {}
        for name, aliases in RANKING_COLUMNS.items():
            found = [i for i, label in enumerate(labels) if label in aliases]
            if found:
                where[name] = found[0]
        if {"unit", "name"} <= set(where) and ({"total", "rank"} & set(where)):
            return raw, where
    raise _refused(
        "ranking_header_missing",
        "Không thấy dòng tiêu đề có cột Mã đơn vị, Đơn vị và Điểm thẩm định hoặc Xếp hạng "
        f"trong {_SEARCH_ROWS} dòng đầu.",
        "No header row naming the unit code, the unit and the total or rank columns "
        f"in the first {_SEARCH_ROWS} rows.",
    )


def _cell(raw: RawRow, at: int | None) -> str:
    return raw.cells[at].strip() if at is not None and at < len(raw.cells) else ""


def read_ranking(path: str | Path) -> tuple[list[dict], int]:
    """[{unit, name, total?, rank?}] of a published ranking table, and how many
    rows without a unit code were skipped."""
    rows = [r for r in read_rows(path) if any(c.strip() for c in r.cells)]
    header, where = _header(rows)
    units, skipped, problems = [], 0, []
    for raw in rows:
        if raw.number <= header.number:
            continue
        code = _cell(raw, where["unit"])
        if not code or fold(code) == fold(header.cells[where["unit"]]):
            skipped += 1  # a heading, a total line, the header repeated at a page break
            continue
        entry: dict = {"unit": code, "name": _cell(raw, where["name"])}
        total = _cell(raw, where.get("total")).replace(",", ".")
        if total:
            try:
                entry["total"] = canonical(Decimal(total))
            except InvalidOperation:
                problems.append(
                    Problem(
                        "invalid_past_score",
                        f"Dòng {raw.number}: điểm '{total[:20]}' không phải số.",
                        f"Row {raw.number}: total '{total[:20]}' is not a number.",
                        row=raw.number,
                        column="total",
                    )
                )
        rank = _cell(raw, where.get("rank"))
        if rank:
            if rank.isdigit():
                entry["rank"] = int(rank)
            else:
                problems.append(
                    Problem(
                        "invalid_rank",
                        f"Dòng {raw.number}: thứ hạng '{rank[:20]}' không phải số nguyên.",
                        f"Row {raw.number}: rank '{rank[:20]}' is not a whole number.",
                        row=raw.number,
                        column="rank",
                    )
                )
        if "total" in entry or "rank" in entry:
            units.append(entry)
        else:
            skipped += 1
    if problems:
        raise ValidationFailed(problems)
    if not units:
        raise _refused(
            "ranking_empty",
            "Bảng không có đơn vị nào có điểm hoặc thứ hạng.",
            "The table lists no unit with a total or a rank.",
        )
    return units, skipped
