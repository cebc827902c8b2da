"""A survey's results from the command line against a real `parindex serve`:
`parindex survey record FILE` reads one row per unit, signs one
`record_survey_result` each with the file's SHA-256, and a bad cell or a
commune's key is refused naming the row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from tests.e2e.http_support import cli_site, run_cli_as
from tests.integration.test_survey import open_survey_cycle

RESULTS = "Mã đơn vị;Tên đơn vị;2.1;2.2\nxa-01;Xã 01;0,75;1\nxa-02;Xã 02;0,5;\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("survey")

    def people(world) -> dict:
        open_survey_cycle(world.env, cycle="ks", units=("xa-01", "xa-02"))
        return {
            "survey": world.key("survey", "province:thai-nguyen"),
            "officer": world.officer,
        }

    with cli_site(root, people, workers=1) as site:
        yield site


def test_the_survey_team_records_a_file_of_results(site, tmp_path, capsys):
    path = tmp_path / "SIPAS-2025.csv"
    path.write_text(RESULTS, encoding="utf-8")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    code, out, err = run_cli_as(
        capsys, site, "survey", "survey", "record", str(path), "--cycle", "ks"
    )
    assert code == 0, err
    assert f"Đọc kết quả khảo sát của 2 đơn vị (SHA-256 {sha})" in out and "Đã ghi 2 đơn vị." in out
    code, out, err = run_cli_as(
        capsys, site, "officer", "scores", "--cycle", "ks", "--unit", "xa-01", "--json"
    )
    assert code == 0, err
    nodes = {n["code"]: n for n in json.loads(out)["nodes"]}
    assert (nodes["2.1"]["appraised_score"], nodes["2.1"]["review"]["how"]) == ("0.75", "survey")
    # again, without a reason: refused, naming the row
    code, out, err = run_cli_as(
        capsys, site, "survey", "survey", "record", str(path), "--cycle", "ks"
    )
    assert code == 1 and "reason_required" in err and "Dòng 2 (xa-01)" in err


def test_a_commune_key_cannot_record_a_survey_and_a_bad_cell_names_its_row(site, tmp_path, capsys):
    path = tmp_path / "SIPAS-sai.csv"
    path.write_text(RESULTS.replace("0,5", "năm"), encoding="utf-8")
    code, _out, err = run_cli_as(
        capsys, site, "survey", "survey", "record", str(path), "--cycle", "ks"
    )
    assert code == 1 and "invalid_decimal" in err and "row=3" in err
    path.write_text(RESULTS, encoding="utf-8")
    code, _out, err = run_cli_as(
        capsys, site, "officer", "survey", "record", str(path), "--cycle", "ks", "--reason", "x"
    )
    assert code == 1 and "not_permitted" in err
