"""`parindex cycle open|list|show` against a real `parindex serve`, as a
district's administrator would use them with the unit list it keeps in Excel."""

from __future__ import annotations

import json
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


# -- the calendar: schedule, types, extensions, added and merged units ------------------
def test_an_admin_opens_a_scheduled_cycle_with_typed_units_and_runs_its_calendar(site, capsys):
    units = site["root"] / "typed.csv"
    units.write_text(
        "Mã,Tên,Loại\n"
        "hoa-thuong,Xã Hóa Thượng,xã\n"
        "chua-hang,Phường Chùa Hang,Phường\n"
        "song-cau,Thị trấn Sông Cầu,thị trấn\n"
        "co-to,Đặc khu Cô Tô,Đặc khu\n",
        "utf-8",
    )
    args = open_args("lich-2099", units) + [
        "--level",
        "province",
        "--rounds",
        "1",
        "--deadline",
        "self_assessment_due=2099-06-30",
        "--deadline",
        "explanation_due=31/07/2099",
        "--deadline",
        "appraisal_due=2099-08-31T10:00:00Z",
    ]
    code, out, err = cli(capsys, site, "admin", *args)
    assert code == 0, err

    code, out, err = cli(capsys, site, "admin", "cycle", "show", "--cycle", "lich-2099", "--json")
    assert code == 0, err
    doc = json.loads(out)
    # A date is the end of that day in Vietnam (23:59:59 UTC+7), signed in UTC.
    assert doc["deadlines"] == {
        "self_assessment_due": "2099-06-30T16:59:59Z",
        "explanation_due": "2099-07-31T16:59:59Z",
        "appraisal_due": "2099-08-31T10:00:00Z",
    }
    assert (doc["level"], doc["rounds"]) == ("province", 1)
    assert {u["unit"]: u["type"] for u in doc["units"]} == {
        "hoa-thuong": "xa",
        "chua-hang": "phuong",
        "song-cau": "thi_tran",
        "co-to": "dac_khu",
    }

    code, out, err = cli(
        capsys,
        site,
        "admin",
        "cycle",
        "extend",
        "lich-2099",
        "--deadline",
        "self_assessment_due",
        "--until",
        "2099-07-05",
        "--unit",
        "co-to",
        "--reason",
        "Bão số 3, đặc khu mất liên lạc",
    )
    assert code == 0, err
    assert "Đã gia hạn hạn nộp kết quả tự đánh giá của co-to" in out
    more = site["root"] / "more.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Loại đơn vị", "Tên đơn vị", "Mã đơn vị"])
    book.active.append(["Xã", "Xã Linh Sơn", "linh-son"])
    book.save(more)
    code, out, err = cli(
        capsys, site, "admin", "cycle", "add-units", "lich-2099", str(more), "--reason", "Bổ sung"
    )
    assert code == 0, err
    assert "Đã thêm 1 đơn vị" in out
    code, out, err = cli(
        capsys,
        site,
        "admin",
        "cycle",
        "merge",
        "lich-2099",
        "--units",
        "hoa-thuong,linh-son",
        "--into-code",
        "dong-hy",
        "--into-name",
        "Xã Đồng Hỷ",
        "--into-type",
        "xã",
        "--reason",
        "Nghị quyết 1686/NQ-UBTVQH15",
    )
    assert code == 0, err

    code, out, err = cli(capsys, site, "admin", "cycle", "show", "--cycle", "lich-2099")
    assert code == 0, err
    assert "cấp tỉnh" in out and "Số vòng thẩm định: 1" in out
    assert "Hạn nộp tự đánh giá: 30/06/2099 23:59 giờ VN (2099-06-30T16:59:59Z)" in out
    assert "co-to: hạn nộp tự đánh giá riêng 05/07/2099 23:59" in out
    assert "Loại đơn vị: phường 1; thị trấn 1; xã 1; đặc khu 1" in out
    assert "Sáp nhập: hoa-thuong, linh-son -> dong-hy" in out
    assert "lý do: Bão số 3, đặc khu mất liên lạc" in out
    assert "thêm linh-son — lý do: Bổ sung" in out


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--deadline", "self_assessment_due=30-11-2099"], "invalid_time"),
        (["--deadline", "self_assessment_due=2099-02-30"], "invalid_time"),
        (["--deadline", "han_nop=2099-11-30"], "invalid_deadline"),
        (
            [
                "--deadline",
                "self_assessment_due=2099-12-01",
                "--deadline",
                "appraisal_due=2099-11-01",
            ],
            "deadlines_out_of_order",
        ),
    ],
    ids=["dashes", "feb-30", "unknown-kind", "out-of-order"],
)
def test_bad_deadlines_are_refused_and_nothing_is_written(site, capsys, extra, expected):
    world = site["world"]
    before = world.env.app.tlog.size()
    units = site["root"] / "one-unit.csv"
    units.write_text("code,name\nxa-q,Xã Q\n", "utf-8")
    code, _out, err = cli(capsys, site, "admin", *open_args("bad-lich", units), *extra)
    assert code == 1 and expected in err, err
    assert world.env.app.tlog.size() == before


def test_a_unit_file_with_a_bad_type_names_its_row_and_nothing_is_signed(site, capsys):
    world = site["world"]
    before = world.env.app.tlog.size()
    units = site["root"] / "bad-type.csv"
    units.write_text(
        "code,name,loại\nxa-a,Xã A,xã\nxa-b,Xã B,huyện\nxa-c,Xã C,\nxa-d,Xã D,tỉnh\x07\n", "utf-8"
    )
    code, _out, err = cli(capsys, site, "admin", *open_args("bad-type-2026", units))
    assert code == 1
    assert "[invalid_unit_type] row=3, column=type" in err
    assert "[invalid_unit_type] row=5, column=type" in err
    assert "\x07" not in err
    assert world.env.app.tlog.size() == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--until", "ngày mai", "--reason", "x"], "invalid_time"),
        (["--until", "2099-12-31", "--reason", "Lũ\x1b[2J"], "control_character"),
        (["--until", "2099-12-31", "--reason", "x" * 5000], "text_too_long"),
        (["--until", "2000-01-01", "--reason", "Sớm hơn"], "not_an_extension"),
        (["--until", "2099-12-31", "--reason", "x", "--unit", "khong-co"], "unit_not_found"),
    ],
    ids=["words", "ansi", "huge", "earlier", "no-unit"],
)
def test_a_bad_extension_from_the_command_line_writes_nothing(site, capsys, args, expected):
    world = site["world"]
    units = site["root"] / "ext.csv"
    units.write_text("code,name\nxa-e,Xã E\n", "utf-8")
    cli(
        capsys,
        site,
        "admin",
        *open_args("ext-2099", units),
        "--deadline",
        "self_assessment_due=2099-06-30",
    )
    before = world.env.app.tlog.size()
    code, _out, err = cli(
        capsys,
        site,
        "admin",
        "cycle",
        "extend",
        "ext-2099",
        "--deadline",
        "self_assessment_due",
        *args,
    )
    assert code == 1 and expected in err, err
    assert world.env.app.tlog.size() == before


def test_a_merge_by_an_officer_is_not_permitted(site, capsys):
    code, _out, err = cli(
        capsys,
        site,
        "officer",
        "cycle",
        "merge",
        "tn-2025",
        "--units",
        "xa-01,xa-02",
        "--into-code",
        "xa-12",
        "--into-name",
        "Xã 12",
        "--reason",
        "x",
    )
    assert code == 1 and "not_permitted" in err
