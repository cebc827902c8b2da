"""Year on year from the command line against a real `parindex serve`: a 2023
unit sheet and ranking table, printed the way provinces print them, imported
with `parindex past import`, read back with `past show`, and a 2025 cycle
linked to it with `parindex cycle link` (docs/SEASON.md "Year on year")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from interfaces.bundled import load_bundled
from tests.e2e.http_support import CYCLE, UNITS, cli_site, run_cli_as

LOST = {"1.1.1": Decimal("0.25"), "2.1.1": Decimal("0.25")}  # points lost in 2023


def _sheet(path: Path) -> Decimal:
    """A unit's 2023 sheet: title lines, STT codes, a year column, the area rows
    typed at 2 places (one rounded before summing), a total row. Returns the
    total summed from the leaves."""
    from openpyxl import Workbook

    framework = load_bundled("thai-nguyen-2021-commune")
    leaves = {leaf.code for leaf in framework.leaves}
    points = {leaf.code: leaf.max_points - LOST.get(leaf.code, 0) for leaf in framework.leaves}
    book = Workbook()
    sheet = book.active
    sheet.append(["PHỤ LỤC I"])
    sheet.append(["KẾT QUẢ CHẤM ĐIỂM CHỈ SỐ CCHC NĂM 2023 CỦA UBND XÃ 01"])
    sheet.append(["STT", "Lĩnh vực/Tiêu chí", "Điểm tối đa", "Điểm 2023 đạt được"])
    sheet.append(["(1)", "(2)", "(3)", "(4)"])
    for node in framework.nodes:
        if node.code in leaves:
            value = points[node.code]
        else:
            value = sum((points[c] for c in leaves if c.startswith(node.code + ".")), Decimal(0))
            value += 1 if node.code == "2" else 0  # a typing error in the printed table
        sheet.append([node.code, node.title, float(node.max_points), float(value)])
    total = sum(points.values(), Decimal(0))
    sheet.append(["", "Tổng cộng", 100, float(total)])
    book.save(path)
    return total


RANKING_CSV = """BẢNG XẾP HẠNG CHỈ SỐ CCHC NĂM 2023;;;;
(Ban hành kèm theo Quyết định số 123/QĐ-UBND);;;;
STT;Mã đơn vị;Đơn vị;Điểm thẩm định;Xếp hạng
1;xa-01;Xã 01;99,25;1
2;xa-02;Xã 02;88,046;2
;;ĐƠN VỊ KHÔNG XẾP HẠNG;;
1;xa-03;Xã 03;;
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("years")
    with cli_site(root, lambda w: {"admin": w.admin, "officer": w.officer}, workers=1) as site:
        yield site


def _past_import(capsys, site, path: Path, *more: str) -> tuple[int, str, str]:
    where = ["--cycle", "tn-2023", "--name", "Chỉ số CCHC năm 2023", "--year", "2023"]
    return run_cli_as(capsys, site, "admin", "past", "import", str(path), *where, *more)


def test_a_province_brings_in_2023_and_compares_2025_with_it(site, tmp_path, capsys):
    sheet = tmp_path / "PL1-xa-01-2023.xlsx"
    total = _sheet(sheet)
    unit = ["--unit", UNITS[0], "--unit-name", "Xã 01"]

    code, out, err = _past_import(capsys, site, sheet, *unit, "--dry-run")
    assert code == 0, err
    assert "Đọc cột achieved_2023: 155 tiêu chí, tổng 99.5 (cộng từ" in out
    assert total == Decimal("99.5")
    # area II was typed 1 point high: shown, and the leaves win
    assert "Dòng 27 (2): bảng ghi 7.75, cộng lại 6.75 (chênh 1.00; SAI)" in out
    assert "(chưa ký: --dry-run)" in out
    code, out, err = run_cli_as(capsys, site, "admin", "past", "show", "tn-2023")
    assert code == 1 and "cycle_not_found" in err  # a dry run signs nothing

    code, out, err = _past_import(capsys, site, sheet, *unit)
    assert code == 0, err
    sheet_sha = hashlib.sha256(sheet.read_bytes()).hexdigest()
    assert f"SHA-256 {sheet_sha}" in out

    table = tmp_path / "PL2-2023.csv"
    table.write_text(RANKING_CSV, encoding="utf-8")
    code, out, err = _past_import(capsys, site, table, "--ranking")
    assert code == 1 and "reason_required" in err  # it restates xa-01's total
    code, out, err = _past_import(
        capsys, site, table, "--ranking", "--reason", "Bảng xếp hạng chính thức"
    )
    assert code == 0, err
    assert "Đọc 2 đơn vị từ bảng xếp hạng (bỏ qua 2 dòng không có mã hoặc không có điểm" in out

    code, out, err = run_cli_as(capsys, site, "officer", "past", "show", "tn-2023", "--json")
    assert code == 0, err
    shown = json.loads(out)
    by_unit = {u["unit"]: u for u in shown["units"]}
    assert by_unit["xa-01"]["total"] == "99.25"  # the ranking table restated it
    assert by_unit["xa-01"]["scores"]["1.1.1"] == str(
        load_bundled("thai-nguyen-2021-commune").node("1.1.1").max_points - LOST["1.1.1"]
    )
    assert by_unit["xa-02"] == by_unit["xa-02"] | {"total": "88.046", "rank": 2, "scores": None}
    table_sha = hashlib.sha256(table.read_bytes()).hexdigest()
    assert by_unit["xa-01"]["sources"] == [sheet_sha, table_sha]
    assert [i["reason"] for i in shown["imports"]] == [None, "Bảng xếp hạng chính thức"]

    code_map = tmp_path / "ma.csv"
    code_map.write_text("Mã năm nay,Mã năm trước\n1.1.2,\n", encoding="utf-8")
    code, out, err = run_cli_as(
        capsys,
        site,
        "admin",
        "cycle",
        "link",
        CYCLE,
        "--previous",
        "tn-2023",
        "--code-map",
        str(code_map),
        "--reason",
        "So sánh với năm 2023",
    )
    assert code == 0, err
    code, out, err = run_cli_as(capsys, site, "officer", "cycle", "show", "--cycle", CYCLE)
    assert code == 0, err
    assert "So sánh với năm trước: kỳ tn-2023 (năm 2023, nhập từ bảng đã công bố)" in out
    # the reads a council looks at show last year beside this year
    code, out, err = run_cli_as(capsys, site, "officer", "ranking", "--cycle", CYCLE)
    assert code == 0, err
    assert "Năm trước: kỳ tn-2023 (năm 2023)" in out
    code, out, err = run_cli_as(
        capsys, site, "officer", "scores", "--cycle", CYCLE, "--unit", UNITS[0]
    )
    assert code == 0, err
    assert (
        "Năm trước: kỳ tn-2023 (năm 2023, nhập từ bảng đã công bố), xa-01: tổng 99.25, hạng 1"
        in out
    )
    row = next(line for line in out.splitlines() if line.strip().startswith("1.1.1 "))
    assert "     0.75  " in row  # last year's 1.1.1, in its own column


def test_a_ranking_table_with_a_bad_figure_names_its_row_and_signs_nothing(site, tmp_path, capsys):
    table = tmp_path / "PL2-sai.csv"
    table.write_text(RANKING_CSV.replace("88,046", "tám mươi"), encoding="utf-8")
    code, _out, err = _past_import(capsys, site, table, "--ranking", "--reason", "x")
    assert code == 1
    assert "invalid_past_score" in err and "Dòng 5" in err


def test_only_the_admin_may_link_a_cycle(site, capsys):
    code, _out, err = run_cli_as(
        capsys, site, "officer", "cycle", "link", CYCLE, "--previous", "tn-2023", "--reason", "x"
    )
    assert code == 1 and "not_permitted" in err
