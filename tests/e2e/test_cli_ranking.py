"""`parindex close` and `parindex ranking draft|propose|approve|publish|versions|
show|sheet` against a real `parindex serve`, as the council chair, the approver
and anyone without a key would use them (issue 8, step 7)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.http_support import AUTHORITY, CYCLE, PROVINCE, UNITS, cli_site, run_cli, run_cli_as

C = ["--cycle", CYCLE]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    people = lambda w: {  # noqa: E731
        "council": w.key("council_chair", f"authority:{AUTHORITY}"),
        "approver": w.key("approver", f"province:{PROVINCE}"),
        "officer": w.officer,
    }
    with cli_site(tmp_path_factory.mktemp("ranking"), people, workers=1) as site:
        yield site


cli = run_cli_as


def public(capsys, site: dict, *args: str) -> tuple[int, str, str]:
    code = run_cli([*args, "--url", site["url"]])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_whole_ranking_from_close_to_a_public_read(site, capsys):
    code, _out, err = cli(capsys, site, "council", "ranking", "propose", *C)
    assert code == 1 and "appraisal_open" in err
    code, out, err = cli(capsys, site, "council", "close", *C)
    assert code == 0, err
    assert f"Đã kết thúc thẩm định kỳ {CYCLE}" in out

    code, out, err = cli(capsys, site, "council", "ranking", "draft", *C)
    assert code == 0, err
    assert "phiên bản 1" in out and f"Không xếp hạng ({len(UNITS)})" in out
    assert "không nộp hồ sơ" in out

    code, out, err = cli(capsys, site, "council", "ranking", "propose", *C)
    assert code == 0, err
    assert "Đã đề xuất xếp hạng phiên bản 1" in out

    # nothing is public before publication
    code, out, _ = public(capsys, site, "ranking", "versions", "--public", *C, "--json")
    assert code == 0 and json.loads(out)["versions"] == []

    approve = [
        "--version",
        "1",
        "--decision-number",
        "1234/QĐ-UBND",
        "--decision-date",
        "2025-12-20",
    ]
    code, _out, err = cli(capsys, site, "officer", "ranking", "approve", *C, *approve)
    assert code == 1 and "not_permitted" in err
    code, out, err = cli(capsys, site, "approver", "ranking", "approve", *C, *approve)
    assert code == 0, err
    assert "Quyết định 1234/QĐ-UBND ngày 2025-12-20" in out
    code, out, err = cli(capsys, site, "approver", "ranking", "publish", *C, "--version", "1")
    assert code == 0, err

    code, out, err = public(capsys, site, "ranking", "show", "--public", *C, "--version", "1")
    assert code == 0, err
    assert "đã công bố" in out and "Quyết định phê duyệt: 1234/QĐ-UBND ngày 2025-12-20" in out
    assert "(đã kiểm tra với các dòng dưới đây)" in out
    code, out, err = public(
        capsys, site, "ranking", "show", "--public", *C, "--version", "1", "--json"
    )
    assert code == 0, err
    assert {"code": "tot", "minimum": "80", "name_vi": "Tốt", "name_en": "Good"} in json.loads(out)[
        "bands"
    ]
    code, out, err = public(capsys, site, "ranking", "versions", "--public", *C)
    assert code == 0 and "Phiên bản 1: đã công bố" in out, err
    sheet = ["ranking", "sheet", *C, "--version", "1", "--unit", UNITS[0]]
    code, out, err = public(capsys, site, *sheet)
    assert code == 0, err
    assert "Phiếu chấm điểm đã công bố" in out and "1.1.1" in out


def test_an_unknown_version_or_cycle_is_a_clear_404(site, capsys):
    code, _out, err = public(capsys, site, "ranking", "show", "--public", *C, "--version", "9")
    assert code == 1 and "version_not_found" in err
    code, _out, err = public(capsys, site, "ranking", "versions", "--public", "--cycle", "nope")
    assert code == 1 and "cycle_not_found" in err
