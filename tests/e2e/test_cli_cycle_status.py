"""`parindex cycle status` against a real `parindex serve`: where the cycle and
each commune stand, in Vietnamese, and as JSON; `scores` and `why` tell a
confirmed leaf from one never reviewed; `ranking` lists the units that did
not submit apart."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from domain.assessment import Assessment
from tests.e2e.http_support import (
    AUTHORITY,
    CYCLE,
    PROVINCE,
    UNITS,
    World,
    cli_site,
    run_cli_as,
)
from tests.support import command

cli = run_cli_as
LEAVES = 119


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    def people(w: World) -> dict:
        return {
            "officer": w.officer,
            "council": w.key("council_chair", f"authority:{AUTHORITY}"),
            "observer": w.key("observer", "*"),
        }

    with cli_site(tmp_path_factory.mktemp("status"), people, workers=1) as site:
        world: World = site["world"]
        env, appraiser = world.env, world.appraiser
        env.submit_unit(UNITS[0], world.officer, cycle=CYCLE)
        where = {"cycle": CYCLE, "unit": UNITS[0]}
        env.send(command(appraiser, "confirm_score", **where, leaf="1.1.1"), appraiser)
        env.send(
            command(appraiser, "request_explanation", **where, leaf="1.1.2", question="Văn bản?"),
            appraiser,
        )
        second = world.key("commune_officer", f"commune:{UNITS[1]}")
        for leaf in ("1.1.1", "1.1.2", "1.2.1"):
            env.send(
                command(
                    second, "record_self_score", cycle=CYCLE, unit=UNITS[1], leaf=leaf, points="0"
                ),
                second,
            )
        yield site


def test_cycle_status_in_vietnamese_and_as_json(site, capsys):
    code, out, err = cli(capsys, site, "officer", "cycle", "status", "--cycle", CYCLE)
    assert code == 0, err
    assert f"Đã chấm {LEAVES}/{LEAVES}" in out and f"Đã chấm 3/{LEAVES}" in out
    assert f"Đã chấm 0/{LEAVES}" in out
    assert "đang giải trình" in out and "chưa nộp" in out
    assert "giải trình: 1 chờ, 0 đã trả lời" in out
    assert "đã thẩm định 1 tiêu chí" in out
    assert "chỉ để hiển thị" in out  # the server's clock decides nothing
    assert "Tổng 3 đơn vị" in out

    code, out, err = cli(capsys, site, "observer", "cycle", "status", "--cycle", CYCLE, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["totals"]["explanation"] == 1 and doc["totals"]["not_submitted"] == 2
    assert [u["stage"] for u in doc["units"]] == ["explanation", "not_submitted", "not_submitted"]

    args = ["cycle", "status", "--cycle", CYCLE, "--unit", UNITS[0], "--json"]
    code, out, err = cli(capsys, site, "officer", *args)
    assert code == 0, err
    one = json.loads(out)
    assert one["unit"] == UNITS[0] and one["scored"] == f"{LEAVES}/{LEAVES}"
    assert one["flags"] == {"open": 1, "answered": 0} and one["submitted_at"]
    code, out, _ = cli(capsys, site, "officer", *args[:-1])
    assert code == 0 and "Nộp hồ sơ lúc" in out and "giờ VN" in out

    code, _out, err = cli(capsys, site, "officer", "cycle", "status", "--cycle", "khong-co")
    assert code == 1 and "cycle_not_found" in err


def test_scores_why_and_ranking_show_the_season(site, capsys):
    unit = ["--cycle", CYCLE, "--unit", UNITS[0]]
    code, out, err = cli(capsys, site, "officer", "scores", *unit)
    assert code == 0, err
    assert "xác nhận v1" in out and "chưa thẩm định" in out and "chờ GT" in out
    assert "Giai đoạn: đang giải trình" in out

    code, out, err = cli(capsys, site, "observer", "why", *unit, "--leaf", "1.1.1")
    assert code == 0, err
    assert "Thẩm định: xác nhận v1" in out and "KHÔNG KHỚP" not in out
    code, out, err = cli(capsys, site, "observer", "why", *unit, "--leaf", "1.1.2")
    assert code == 0, err
    assert "Thẩm định: chưa thẩm định" in out and "Yêu cầu giải trình: Văn bản?" in out

    code, out, err = cli(capsys, site, "observer", "ranking", "--cycle", CYCLE, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [r["unit"] for r in doc["rows"]] == [UNITS[0]]
    assert [x["unit"] for x in doc["not_submitted"]] == list(UNITS[1:])
    code, out, _ = cli(capsys, site, "observer", "ranking", "--cycle", CYCLE)
    assert code == 0 and "chưa nộp hồ sơ" in out and "không tính là 0 điểm" in out


def test_why_proves_and_recomputes_confirmations_answers_the_close_and_corrections(site, capsys):
    """The client checks every chain event of the season (its proof, its signer)
    and recomputes the values from the signed commands: no mismatch."""
    world: World = site["world"]
    env, appraiser, officer = world.env, world.appraiser, world.officer
    council = world.key("council_chair", f"authority:{AUTHORITY}")
    cycle, unit = "tn-why", UNITS[0]
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=cycle,
            name="Kỳ thử why",
            framework=world.framework_id,
            year=2025,
            authority=AUTHORITY,
            province=PROVINCE,
            units=[{"code": unit, "name": "Xã 01"}],
        )
    )
    where = {"cycle": cycle, "unit": unit}

    def send(key, type_: str, **fields) -> None:
        env.send(command(key, type_, **where, **fields), key)

    send(officer, "record_self_score", leaf="1.1.1", points="1")
    chair = env.submit_unit(unit, officer, cycle=cycle)
    send(appraiser, "confirm_score", leaf="1.1.1")
    send(appraiser, "request_explanation", leaf="1.1.1", question="Văn bản?")
    send(officer, "answer_explanation", leaf="1.1.1", answer="Bổ sung", points="0.5")
    send(chair, "submit_explanations")
    send(appraiser, "confirm_score", leaf="1.1.1")  # round 2: the revised self input
    rest = env.app.get(Assessment.create_id(cycle, unit), for_update=False).needs_review(
        env.app.framework(world.framework_id)
    )
    send(council, "close_appraisal", confirm=rest)
    send(
        appraiser,
        "attach_evidence",
        evidence_id="ev-tt-01",
        leaves=["1.2.1"],
        file=None,
        document={"number": "02/KL-TTr"},
        description=None,
    )
    env.season_end(cycle, council, world.key("approver", f"province:{PROVINCE}"))
    send(
        appraiser,
        "correct_score",
        leaf="1.2.1",
        points="0",
        reason="Thanh tra phát hiện sai sót",
        evidence_ids=["ev-tt-01"],
    )
    expected = {
        "1.1.1": ({"points": "0.5"}, {"how": "confirmed", "round": 2}),
        "1.1.2": ({"points": "0"}, {"how": "confirmed", "round": 2}),
        "1.2.1": ({"points": "0"}, {"how": "corrected", "round": 2}),
    }
    for leaf, (appraised, review) in expected.items():
        args = ["why", "--cycle", cycle, "--unit", unit, "--leaf", leaf, "--json"]
        code, out, err = cli(capsys, site, "observer", *args)
        assert code == 0, (leaf, err)
        doc = json.loads(out)
        assert doc["verified"] and all(e["verified"] for e in doc["chain"])
        assert doc["recomputed"]["mismatches"] == [], leaf
        assert doc["appraised"]["input"] == appraised and doc["appraised"]["review"] == review
