"""Hostile tables are refused by their size, before or while they are read, with the limit named."""

from __future__ import annotations

import dataclasses
import random
import string

import pytest
from openpyxl import Workbook

from domain.errors import ValidationFailed
from interfaces.framework_io import limits
from interfaces.framework_io.importer import parse_table
from interfaces.framework_io.reader import read_rows
from tests.spreadsheets import (
    SHEET,
    SHEET_CLOSE,
    SHEET_OPEN,
    Member,
    member,
    repeated_member,
    sheet_bomb,
    workbook_members,
    xlsx_with,
)

HEADER = "code,title,max_points\n"


def refusal(path) -> tuple[str, str, str, int | None]:
    """(code, Vietnamese message, English message, row) of the single problem."""
    with pytest.raises(ValidationFailed) as caught:
        read_rows(path)
    [p] = caught.value.problems
    return p.code, p.message_vi, p.message_en, p.row


# .xlsx archives


def test_a_sheet_inflating_to_a_gibibyte_is_refused_from_the_zip_directory(tmp_path):
    path = sheet_bomb(tmp_path / "bomb.xlsx", 1 << 30)
    assert path.stat().st_size < 4 << 20
    code, vi, en, _ = refusal(path)
    assert code == "xlsx_member_too_large"
    assert "xl/worksheets/sheet1.xml" in vi and str(limits.MAX_MEMBER_BYTES) in vi
    assert "inflates to" in en and str(limits.MAX_MEMBER_BYTES) in en


def test_a_small_part_compressed_a_thousand_times_is_refused_as_a_likely_bomb(tmp_path):
    path = sheet_bomb(tmp_path / "bomb.xlsx", 8 << 20)
    code, vi, en, _ = refusal(path)
    assert code == "xlsx_compression_ratio"
    assert "bom nén" in vi and "zip bomb" in en and "100" in en


def test_a_part_that_lies_about_its_size_fails_its_check_and_is_not_read_further(tmp_path):
    honest = repeated_member(SHEET, SHEET_OPEN, b"<row/>", 4 << 20, SHEET_CLOSE)
    lying = Member(SHEET, honest.deflated, honest.crc, 1000)
    code, *_ = refusal(xlsx_with(tmp_path / "lies.xlsx", {SHEET: lying}))
    assert code == "file_unreadable"


def test_many_tiny_shared_strings_under_every_size_limit_are_refused_by_their_count(tmp_path):
    rnd = random.Random(7)
    strings = b"".join(
        b"<si><t>" + "".join(rnd.choices(string.ascii_letters, k=3)).encode() + b"</t></si>"
        for _ in range(limits.MAX_ELEMENTS // 2 + 1)
    )
    shared = member("xl/sharedStrings.xml", b"<sst>" + strings + b"</sst>")
    assert shared.size < limits.MAX_MEMBER_BYTES and shared.size < 100 * len(shared.deflated)
    code, vi, _, _ = refusal(xlsx_with(tmp_path / "strings.xlsx", None, shared))
    assert code == "xlsx_too_many_elements" and "xl/sharedStrings.xml" in vi


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../evil.xml", "path"),
        ("/etc/evil.xml", "path"),
        ("xl\\..\\..\\evil.xml", "path"),
        ("xl/embeddings/inner.xlsx", "nested"),
        ("xl/media/bomb.zip", "nested"),
        ("xl/workbook.xml", "duplicate"),
    ],
)
def test_odd_parts_are_refused_by_name(tmp_path, name, reason):
    path = xlsx_with(tmp_path / "odd.xlsx", None, member(name, b"<x/>"))
    code, _, en, _ = refusal(path)
    assert (code, f"({reason})") == ("xlsx_odd_member", en[-len(reason) - 3 : -1])


def test_a_part_name_with_control_characters_is_shown_without_them(tmp_path):
    path = xlsx_with(tmp_path / "odd.xlsx", None, member("xl/a\r\n\x1b[31m.zip", b""))
    code, vi, en, _ = refusal(path)
    assert code == "xlsx_odd_member" and "xl/a???[31m.zip" in en
    assert not any(c in vi + en for c in "\r\n\x1b")


def test_an_archive_of_too_many_parts_is_refused(tmp_path):
    extra = [member(f"docProps/custom{i}.txt", b"") for i in range(limits.MAX_MEMBERS)]
    code, *_ = refusal(xlsx_with(tmp_path / "many.xlsx", None, *extra))
    assert code == "xlsx_too_many_members"


def test_parts_that_together_inflate_past_the_total_limit_are_refused(tmp_path):
    # 1 MiB of random a/b: it deflates about 7 times, far from the ratio limit
    filler = bytes(random.Random(3).choices(b"ab", k=1 << 20))
    count = limits.MAX_TOTAL_BYTES // len(filler) + 1
    path = tmp_path / "big.xlsx"
    image = member("xl/media/image.bin", filler)  # deflated once, stored under many names
    parts = [dataclasses.replace(image, name=f"xl/media/image{i}.bin") for i in range(count)]
    xlsx_with(path, None, *parts)
    if path.stat().st_size > limits.MAX_FILE_BYTES:
        pytest.fail("the filler compressed too little to stay under the file limit")
    code, *_ = refusal(path)
    assert code == "xlsx_too_large"


# rows and cells


def _xlsx(tmp_path, rows: list[list[object]], name: str = "t.xlsx"):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_an_xlsx_with_one_row_too_many_is_refused_and_one_at_the_limit_is_read(tmp_path):
    rows = [["code", "title", "max_points"]] + [[str(i), "t", 1] for i in range(1, limits.MAX_ROWS)]
    assert len(read_rows(_xlsx(tmp_path, rows))) == limits.MAX_ROWS
    code, vi, en, _ = refusal(_xlsx(tmp_path, [*rows, ["x", "t", 1]], "over.xlsx"))
    assert code == "too_many_rows" and "2000" in vi and "2000" in en


def test_a_lone_cell_at_the_last_row_of_a_sheet_is_refused_without_reading_a_million_rows(
    tmp_path,
):
    workbook = Workbook()
    workbook.active["A1"] = "code"
    workbook.active["XFD1048576"] = "far"  # stated dimension A1:XFD1048576
    path = tmp_path / "far.xlsx"
    workbook.save(path)
    code, *_ = refusal(path)
    assert code == "too_many_rows"


def test_a_row_wider_than_the_limit_is_refused_with_its_row(tmp_path):
    rows = [["code", "title", "max_points"], ["1", "t", 1, *(["x"] * limits.MAX_COLUMNS)]]
    code, _, _, row = refusal(_xlsx(tmp_path, rows))
    assert (code, row) == ("too_many_columns", 2)


def test_a_table_with_too_many_cells_is_refused_at_the_row_that_passes_the_limit(tmp_path):
    width = limits.MAX_COLUMNS
    text = "\n".join([",".join(["c"] * width)] * (limits.MAX_CELLS // width + 1)) + "\n"
    path = tmp_path / "wide.csv"
    path.write_text(text, encoding="utf-8")
    code, _, _, row = refusal(path)
    assert (code, row) == ("too_many_cells", limits.MAX_CELLS // width + 1)


# .csv


def test_a_csv_over_the_file_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.write(HEADER.encode())
        handle.truncate(limits.MAX_FILE_BYTES + 1)
    code, vi, en, _ = refusal(path)
    assert code == "file_too_large" and str(limits.MAX_FILE_BYTES) in vi + en


def test_a_csv_with_too_many_rows_is_refused(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "1,t,1\n" * limits.MAX_ROWS, encoding="utf-8")
    assert refusal(path)[0] == "too_many_rows"


def test_a_csv_line_longer_than_the_limit_is_refused_with_its_line_number(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "1,t,1\n" + "2," + "x" * limits.MAX_LINE_CHARS + ",1\n", "utf-8")
    code, _, en, row = refusal(path)
    assert (code, row) == ("line_too_long", 3) and "65536" in en


def test_in_memory_tables_have_the_same_row_limit():
    rows = [["code", "title", "max_points"]] + [["1", "t", "1"]] * limits.MAX_ROWS
    with pytest.raises(ValidationFailed) as caught:
        parse_table(rows, None)  # type: ignore[arg-type]
    assert [p.code for p in caught.value.problems] == ["too_many_rows"]


def test_a_real_workbook_is_not_mistaken_for_a_bomb(tmp_path):
    parts = workbook_members(["code", "title", "max_points"], ["1", "Chỉ đạo", 1])
    assert set(parts) >= {SHEET}
    path = _xlsx(tmp_path, [["code", "title", "max_points"], ["1", "Chỉ đạo", 1]])
    assert [r.cells for r in read_rows(path)] == [
        ("code", "title", "max_points"),
        ("1", "Chỉ đạo", "1"),
    ]
