"""Writing a framework to .csv or .xlsx in the import format, so it imports back identical.

The file holds the table only (metadata comes from the import command's
options); the .xlsx adds a second, informational sheet with the metadata and
the content digest, which the importer does not read. Text a spreadsheet would
run as a formula is written as text (see formula_guard).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from domain.framework.decimals import canonical
from domain.framework.model import Framework
from domain.framework.problems import failed
from domain.framework.serialize import content_digest
from interfaces.framework_io.formula_guard import csv_cell, is_formula_like
from interfaces.framework_io.problems import problem
from interfaces.framework_io.rule_columns import rule_cells

COLUMNS = (
    "code",
    "label",
    "title",
    "max_points",
    "note",
    "rule",
    "step",
    "bands",
    "gated_by",
    "na_policy",
)


def columns_of(framework: Framework) -> tuple[str, ...]:
    """COLUMNS, and `component` and `cap` for a framework with bonus or penalty areas."""
    return (*COLUMNS, "component", "cap", "max_by_type") if framework.has_variations else COLUMNS


def table_rows(framework: Framework) -> list[list[str]]:
    """The header and one row per node, every cell as text."""
    columns = columns_of(framework)
    out = [list(columns)]
    for node in framework.nodes:
        cells = {
            "code": node.code,
            "label": node.label,
            "title": node.title,
            "max_points": canonical(node.max_points),
            "note": node.note or "",
            **rule_cells(node.rule),
            "component": node.component or "",
            "cap": "" if node.cap is None else canonical(node.cap),
            "max_by_type": "; ".join(f"{t}={canonical(m)}" for t, m in node.max_by_type),
        }
        out.append([cells[c] for c in columns])
    return out


def export(framework: Framework, path: str | Path) -> Path:
    """Write .csv or .xlsx by the file's suffix; returns the path written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        export_csv(framework, path)
    elif suffix == ".xlsx":
        export_xlsx(framework, path)
    else:
        raise failed([problem("unsupported_file_type", suffix=suffix or path.name)])
    return path


def export_csv(framework: Framework, path: Path) -> None:
    """UTF-8 with a BOM (so Excel shows Vietnamese correctly), comma separated."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([csv_cell(c) for c in row] for row in table_rows(framework))


def export_xlsx(framework: Framework, path: Path) -> None:
    """First sheet: the table, codes as text; second sheet: the metadata."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "bo-tieu-chi"
    max_column = COLUMNS.index("max_points")
    for number, cells in enumerate(table_rows(framework)):
        row: list[object] = list(cells)
        if number:  # maxima as numbers, so Excel can sum them; codes stay text
            row[max_column] = Decimal(cells[max_column])
        _append_inert(sheet, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = (10, 8, 80, 11, 30, 18, 8, 18, 14, 12, 12, 8, 18)
    for column, width in zip("ABCDEFGHIJKLM", widths[: len(columns_of(framework))], strict=False):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    meta = framework.meta
    info = workbook.create_sheet("thong-tin")
    for key, value in (
        ("id", str(meta.id)),
        ("name", meta.name),
        ("jurisdiction", meta.jurisdiction),
        ("level", meta.level.value),
        ("year", str(meta.year)),
        ("source", meta.source or ""),
        ("supersedes", meta.supersedes or ""),
        ("bands", meta.bands.to_text()),
        ("digest", content_digest(framework)),
    ):
        _append_inert(info, [key, value])
    workbook.save(path)


def _append_inert(sheet, values: list[object]) -> None:
    """Append a row whose text cells are text: openpyxl makes any str starting
    with "=" a formula, so the type is set after the value. quotePrefix keeps the
    cell text when someone edits it in Excel."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if is_formula_like(cell.value):
                cell.quotePrefix = True
