"""`parindex cycle open|list|show` against a real `parindex serve`, as a
district's administrator would use them with the unit list it keeps in Excel."""

from __future__ import annotations

from collections.abc import Iterator

import openpyxl
import pytest

from interfaces.bundled import load_bundled
from tests.e2e.http_support import cli_site, run_cli_as

FRAMEWORK = str(load_bundled("thai-nguyen-2021-commune").id)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    people = lambda w: {"admin": w.admin, "officer": w.officer}  # noqa: E731
    with cli_site(tmp_path_factory.mktemp("cycles"), people, workers=1) as site:
        yield site


cli = run_cli_as


def open_args(cycle: str, units) -> list[str]:
    return [
        "cycle",
        "open",
        "--cycle",
        cycle,
        "--name",
        "Kỳ đánh giá 2026",
        "--framework",
        FRAMEWORK,
        "--year",
        "2026",
        "--authority",
        "dong-hy",
        "--province",
        "thai-nguyen",
        "--units",
        str(units),
    ]


def test_an_admin_opens_a_cycle_from_a_csv_excel_saved_and_lists_it(site, capsys):
    units = site["root"] / "xa.csv"
    # As Excel saves "CSV UTF-8": a byte-order mark, Vietnamese headers, CRLF.
    units.write_bytes(
        "\ufeffMã,Tên,Ghi chú\r\nhoa-thuong,Xã Hóa Thượng,\r\n\r\nlinh-son,Xã Linh Sơn,x\r\n"
        "".encode()
    )
    code, out, err = cli(capsys, site, "admin", *open_args("dh-2026", units))
    assert code == 0, err
    assert "dh-2026" in out and "2 đơn vị" in out

    code, out, _ = cli(capsys, site, "admin", "cycle", "list")
    assert code == 0 and "dh-2026" in out and "tn-2025" in out
    code, out, _ = cli(capsys, site, "admin", "cycle", "show", "--cycle", "dh-2026")
    assert code == 0
    assert "Kỳ đánh giá 2026" in out and "Số đơn vị: 2" in out and FRAMEWORK in out


def test_an_xlsx_with_full_column_names_in_another_order_opens_a_cycle(site, capsys):
    path = site["root"] / "xa.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Tên đơn vị", "Mã đơn vị"])
    sheet.append(["Phường Tân Thịnh", "tan-thinh"])
    book.save(path)
    code, out, err = cli(capsys, site, "admin", *open_args("tn-2026", path))
    assert code == 0, err
    code, out, _ = cli(capsys, site, "admin", "cycle", "show", "--cycle", "tn-2026", "--json")
    assert code == 0 and '"unit_count": 1' in out


def test_a_bad_unit_list_names_each_row_and_nothing_is_signed(site, capsys):
    world = site["world"]
    before = world.env.app.tlog.size()
    units = site["root"] / "bad.csv"
    units.write_text("code,name\nxa-a,Xã A\nXa B,Xã B\nxa-a,Xã A lần hai\nxa-d,\n", "utf-8")
    code, _out, err = cli(capsys, site, "admin", *open_args("bad-2026", units))
    assert code == 1
    assert "validation_failed" in err
    assert "row=3, column=code" in err  # "Xa B" is not a code
    assert "[duplicate_unit] row=4, column=code" in err
    assert "row=5, column=name" in err  # no name
    assert world.env.app.tlog.size() == before


def test_a_file_without_a_code_column_is_refused_naming_the_header(site, capsys):
    units = site["root"] / "nohead.csv"
    units.write_text("stt,tên\n1,Xã A\n", "utf-8")
    code, _out, err = cli(capsys, site, "admin", *open_args("x-2026", units))
    assert code == 1 and "[units_column_missing] row=1, column=code" in err


def test_an_officer_cannot_open_a_cycle(site, capsys):
    units = site["root"] / "one.csv"
    units.write_text("code,name\nxa-z,Xã Z\n", "utf-8")
    code, _out, err = cli(capsys, site, "officer", *open_args("z-2026", units))
    assert code == 1 and "not_permitted" in err


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("ctl.csv", "code,name\nxa-a,Xã\x07A\nxa-b,Xã \u202eB\n", "[control_character] row=2"),
        ("many.csv", "code,name\n" + "".join(f"x-{i},X {i}\n" for i in range(2001)), "rows"),
        ("units.exe", "code,name\nxa-a,Xã A\n", "unsupported_file_type"),
        ("../../etc/passwd.csv", None, "file_not_found"),
    ],
    ids=["control-characters", "too-many-rows", "not-a-table", "path-elsewhere"],
)
def test_a_hostile_unit_file_is_refused_clearly_before_anything_is_signed(
    site, capsys, name, text, expected
):
    world = site["world"]
    before = world.env.app.tlog.size()
    path = site["root"] / name
    if text is not None:
        path.write_text(text, "utf-8")
    code, _out, err = cli(capsys, site, "admin", *open_args("hostile-2026", path))
    assert code == 1 and expected in err, err
    assert world.env.app.tlog.size() == before
