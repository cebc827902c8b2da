"""Oversight reads as files: .csv (UTF-8 with a BOM, so Excel shows Vietnamese) or
.xlsx, one row per change or per sum, every column named.

Reasons, names and unit names are typed by people, and a hostile one reads like
`=HYPERLINK("http://…")`: it must stay text. The .csv puts one apostrophe in
front of formula-like text (interfaces/framework_io/formula_guard.py, the one
guard every export uses) and quotes cells with line breaks, commas or quotes as
RFC 4180 says, so a reason cannot break a row; the .xlsx sets such cells' type
to text. Points are numbers (Excel can sum them), written from their exact
decimal text, never through a float.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

from domain.errors import DomainError
from interfaces.framework_io.formula_guard import csv_cell, is_formula_like

CHANGE_HEADER = (
    "vi_tri_nhat_ky",
    "ky",
    "don_vi",
    "ten_don_vi",
    "tieu_chi",
    "linh_vuc",
    "loai",
    "vong",
    "ma_khoa",
    "nguoi_thuc_hien",
    "vai_tro",
    "thoi_diem_ky_utc",
    "truoc",
    "sau",
    "diem_truoc",
    "diem_sau",
    "chenh_lech",
    "diem_toi_da",
    "ly_do",
    "minh_chung",
    "han",
    "han_luc_do",
    "sau_khi_nop",
    "qua_han",
    "sau_phe_duyet",
    "sau_cong_bo",
    "tru_lon",
    "ghi_chu",
)
CHANGE_NUMBERS = frozenset({"diem_truoc", "diem_sau", "chenh_lech", "diem_toi_da"})


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _notes(notes: list[dict]) -> str:
    """Each note on the change on its own line: id, text, and the council's answer."""
    lines = []
    for n in notes:
        answer = (n.get("answer") or {}).get("text")
        lines.append(f"{n.get('note_id')}: {n.get('text')}" + (f" → {answer}" if answer else ""))
    return "\n".join(lines)


def change_rows(changes: list[dict]) -> list[list[str]]:
    out = []
    for c in changes:
        actor, flags = c.get("actor") or {}, c.get("flags") or {}
        deadline = c.get("deadline") or {}
        values = (
            c.get("log_index"),
            c.get("cycle"),
            c.get("unit"),
            c.get("unit_name"),
            c.get("leaf"),
            c.get("area"),
            c.get("kind"),
            c.get("round"),
            actor.get("key_id"),
            actor.get("name"),
            actor.get("role"),
            c.get("at"),
            c.get("old_value"),
            c.get("new_value"),
            c.get("old_points"),
            c.get("new_points"),
            c.get("delta"),
            c.get("max_points"),
            c.get("reason"),
            c.get("evidence_ids"),
            deadline.get("kind"),
            deadline.get("due"),
            flags.get("after_submission"),
            flags.get("after_deadline"),
            flags.get("after_approval"),
            flags.get("after_publication"),
            flags.get("large_deduction"),
            _notes(c.get("notes") or []),
        )
        out.append([_cell(v) for v in values])
    return out


SUMMARY_HEADER = (
    "ma",
    "ten",
    "vai_tro",
    "so_thay_doi",
    "so_lan_doi_diem",
    "diem_bi_tru",
    "diem_duoc_cong",
    "chenh_lech",
    "tru_lon",
    "qua_han",
    "sau_phe_duyet",
    "sau_cong_bo",
)
SUMMARY_NUMBERS = frozenset({"diem_bi_tru", "diem_duoc_cong", "chenh_lech"})


def summary_rows(rows: list[dict]) -> list[list[str]]:
    out = []
    for r in rows:
        flags = r.get("flags") or {}
        values = (
            r.get("key"),
            r.get("name") or r.get("title"),
            r.get("role"),
            r.get("changes"),
            r.get("score_changes"),
            r.get("points_deducted"),
            r.get("points_added"),
            r.get("net"),
            r.get("large_deductions"),
            flags.get("after_deadline"),
            flags.get("after_approval"),
            flags.get("after_publication"),
        )
        out.append([_cell(v) for v in values])
    return out


def write(
    path: str | Path, header: tuple[str, ...], rows: list[list[str]], numbers: frozenset
) -> Path:
    """Writes .csv or .xlsx by the file's suffix; returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            out.writerows([csv_cell(c) for c in row] for row in rows)
    elif suffix == ".xlsx":
        _xlsx(path, header, rows, numbers)
    else:
        raise DomainError(
            "unsupported_file_type",
            f"Chỉ ghi được tệp .csv hoặc .xlsx, không phải '{suffix or path.name}'.",
            f"Only .csv or .xlsx files can be written, not '{suffix or path.name}'.",
            field="file",
            status=400,
        )
    return path


def _xlsx(path: Path, header: tuple[str, ...], rows: list[list[str]], numbers: frozenset) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "giam-sat"
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    as_number = [name in numbers for name in header]
    for row in rows:
        values: list[object] = [
            Decimal(text) if number and text else ILLEGAL_CHARACTERS_RE.sub("", text)
            for text, number in zip(row, as_number, strict=True)
        ]
        sheet.append(values)
        # openpyxl makes any str starting with "=" a formula: the type is set after
        # the value; quotePrefix keeps the text a text when someone edits the cell.
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if is_formula_like(cell.value):
                    cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    book.save(path)
