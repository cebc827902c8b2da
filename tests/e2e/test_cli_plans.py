"""An improvement plan from the command line against a real `parindex serve`:
the draft written as Excel, filled in as a commune would, signed by the chair
with `parindex plan record --from`, read back with `plan show`, and fetched
over HTTP as a document that `verify-document` passes."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from interfaces.http.signing import authorization
from tests.e2e.http_support import cli_site, run_cli, run_cli_as
from tests.oversight_season import U, play

WHERE = ["--cycle", "c", "--unit", U]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("plans")
    with cli_site(root, lambda w: {}, workers=1) as site:
        world = site["world"]
        played = play(world.env, cycle="c")
        for name, key in (("chair", played.unit.chair), ("officer", played.unit.officer)):
            site[name] = str(world.key_file(key, root / "keys" / f"{name}.key"))
        site["played"] = played
        yield site


def _fill(path, skip_tasks_on: str | None = None) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = next(r for r in sheet.iter_rows() if r[0].value == "STT")
    col = {c.value: c.column - 1 for c in header}
    for row in sheet.iter_rows(min_row=header[0].row + 1):
        if not row[0].value:
            continue
        if row[0].value != skip_tasks_on:
            row[col["Nhiệm vụ, giải pháp"]].value = f"Khắc phục tiêu chí {row[0].value}"
        row[col["Đơn vị chủ trì"]].value = "Văn phòng UBND xã"
        row[col["Thời hạn hoàn thành"]].value = "Quý II/2026"
    book.save(path)


def test_a_commune_fills_in_the_draft_and_its_chair_signs_it(site, tmp_path, capsys):
    data = str(site["world"].env.data_dir)
    draft = tmp_path / "ke-hoach.xlsx"
    assert run_cli(["document", "plan", *WHERE, "--out", str(draft), "--data-dir", data]) == 0
    capsys.readouterr()

    _fill(draft, skip_tasks_on="1.1.2")  # one row left without its tasks
    code, _out, err = run_cli_as(
        capsys, site, "chair", "plan", "record", *WHERE, "--year", "2026", "--from", str(draft)
    )
    assert code == 1 and "items[1].tasks" in err  # row 2 of the table

    code, _out, err = run_cli_as(
        capsys, site, "officer", "plan", "record", *WHERE, "--year", "2026", "--from", str(draft)
    )
    assert code == 1 and "not_permitted" in err

    _fill(draft)
    code, out, err = run_cli_as(
        capsys, site, "chair", "plan", "record", *WHERE, "--year", "2026", "--from", str(draft)
    )
    assert code == 0, err
    assert "Đã ký kế hoạch năm 2026 của xa-a" in out

    code, out, err = run_cli_as(capsys, site, "officer", "plan", "show", *WHERE, "--json")
    assert code == 0, err
    shown = json.loads(out)
    (version,) = shown["plans"]
    assert version["plan_year"] == 2026 and version["actor"] == site["played"].unit.chair.key_id
    assert {i["leaf"] for i in version["items"]} == {r["leaf"] for r in shown["draft"]}
    assert all(i["tasks"].startswith("Khắc phục") for i in version["items"])


def test_the_signed_plan_over_http_checks_against_the_log(site, tmp_path, capsys):
    chair = site["played"].unit.chair
    path = f"/api/v1/cycles/c/units/{U}/documents/improvement-plan.docx"
    request = urllib.request.Request(
        site["url"] + path,
        headers={"Authorization": authorization(chair.key_id, chair.private, "GET", path)},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = resp.read()
        assert resp.headers["Content-Disposition"].startswith("attachment;")
    saved = tmp_path / "ke-hoach.docx"
    saved.write_bytes(body)
    data = str(site["world"].env.data_dir)
    capsys.readouterr()
    assert run_cli(["verify-document", str(saved), "--data-dir", data]) == 0
    assert "KẾT QUẢ: tài liệu khớp với nhật ký." in capsys.readouterr().out
