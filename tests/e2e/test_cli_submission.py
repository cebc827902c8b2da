"""`parindex submit` and `parindex withdraw` against a real `parindex serve`, as a
commune chair would use them (issue 8, step 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from interfaces.bundled import load_bundled
from tests.e2e.http_support import CYCLE, UNITS, cli_site, run_cli_as
from tests.support import command

UNIT = ["--cycle", CYCLE, "--unit", UNITS[0]]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    people = lambda w: {  # noqa: E731
        "officer": w.officer,
        "chair": w.key("commune_chair", f"commune:{UNITS[0]}"),
    }
    with cli_site(tmp_path_factory.mktemp("submit"), people, workers=1) as site:
        yield site


cli = run_cli_as


def test_a_chair_cannot_submit_before_every_leaf_is_scored(site, capsys):
    code, _out, err = cli(capsys, site, "chair", "submit", *UNIT)
    assert code == 1
    assert "assessment_incomplete" in err and "[leaf_not_scored] field=1.1.1" in err


def test_a_chair_submits_the_officer_is_locked_out_until_the_chair_withdraws(site, capsys):
    world = site["world"]
    for leaf in load_bundled("thai-nguyen-2021-commune").leaves:
        cmd = command(
            world.officer, "record_self_score", cycle=CYCLE, unit=UNITS[0], leaf=leaf.code
        )
        world.env.send({**cmd, "points": "0.5" if leaf.code == "1.1.1" else "0"}, world.officer)

    code, out, _ = cli(capsys, site, "chair", "scores", *UNIT)
    assert "Hồ sơ tự đánh giá: chưa nộp" in out
    code, out, err = cli(capsys, site, "chair", "submit", *UNIT)
    assert code == 0, err
    assert "119 tiêu chí" in out and "tổng điểm tự chấm 0.5" in out and "sha256:" in out
    code, out, _ = cli(capsys, site, "chair", "scores", *UNIT, "--json")
    shown = json.loads(out)["submission"]
    assert (shown["status"], shown["self_total"]) == ("submitted", "0.5")
    assert shown["digest"].startswith("sha256:")

    score = ["score", "set", *UNIT, "--leaf", "1.1.2", "--points", "0.25"]
    code, _out, err = cli(capsys, site, "officer", *score)
    assert code == 1 and "assessment_submitted" in err

    code, out, err = cli(capsys, site, "chair", "withdraw", *UNIT, "--reason", "Sửa tiêu chí 1.1.2")
    assert code == 0, err
    code, out, _ = cli(capsys, site, "chair", "scores", *UNIT)
    assert "Hồ sơ tự đánh giá: đã rút" in out and "Sửa tiêu chí 1.1.2" in out
    code, _out, err = cli(capsys, site, "officer", *score)
    assert code == 0, err


def test_an_officer_cannot_submit(site, capsys):
    code, _out, err = cli(capsys, site, "officer", "submit", *UNIT)
    assert code == 1 and "not_permitted" in err
