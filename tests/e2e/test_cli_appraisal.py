"""A unit's appraisal season from the command line against a real `parindex
serve`: `appraise`, `confirm`, `explain request|answer|submit`, `review`,
`close --unit`, `correct`, as the appraiser, the commune and the council would
type them (docs/SEASON.md, "One unit's states")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.assessment import Assessment
from interfaces.bundled import load_bundled
from interfaces.client import Client
from tests.e2e.http_support import AUTHORITY, PROVINCE, UNITS, World, cli_site, run_cli_as
from tests.support import command

LEAVES = [leaf.code for leaf in load_bundled("thai-nguyen-2021-commune").leaves]
UNIT = UNITS[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    people = lambda w: {  # noqa: E731
        "officer": w.officer,
        "chair": w.key("commune_chair", f"commune:{UNIT}"),
        "appraiser": w.appraiser,
        "council": w.key("council_chair", f"authority:{AUTHORITY}"),
        "approver": w.key("approver", f"province:{PROVINCE}"),
    }
    with cli_site(tmp_path_factory.mktemp("appraisal"), people, workers=1) as site:
        yield site


cli = run_cli_as


def submitted_cycle(site: dict, cycle: str, *, evidence: str | None = None) -> list[str]:
    """Opens `cycle` (units xa-01..03), the officer scores every leaf of xa-01
    "0" (attaching `evidence` to 1.1.1 first, when named) and its chair submits;
    returns the CLI's --cycle/--unit arguments."""
    world: World = site["world"]
    world.env.send(
        command(
            world.admin,
            "open_cycle",
            cycle=cycle,
            name="Kỳ thẩm định",
            framework=world.framework_id,
            year=2025,
            authority=AUTHORITY,
            province=PROVINCE,
            units=[{"code": u, "name": f"Xã {u[-2:]}"} for u in UNITS],
        )
    )
    if evidence:
        attach = {"cycle": cycle, "unit": UNIT, "evidence_id": evidence, "leaves": ["1.1.1"]}
        attach["document"] = {"number": "12/QĐ-UBND", "date": "2025-02-01"}
        world.env.send(command(world.officer, "attach_evidence", **attach), world.officer)
    chair = world.key("commune_chair", f"commune:{UNIT}")
    world.env.submit_unit(UNIT, world.officer, chair, cycle=cycle)
    return ["--cycle", cycle, "--unit", UNIT]


def review(capsys, site: dict, where: list[str]) -> dict:
    code, out, err = cli(capsys, site, "council", "review", *where, "--json")
    assert code == 0, err
    return json.loads(out)


def head(site: dict) -> int:
    return Client(site["url"]).catch_up()


def assessment(site: dict, where: list[str]) -> Assessment:
    """The unit's assessment as the log holds it (the read model does not show the
    season's unit events yet: another branch adds them)."""
    app = site["world"].env.app
    return app.get(Assessment.create_id(where[1], where[3]), for_update=False)


def verify_clean(site: dict) -> None:
    assert verify(StoreSource(site["world"].env.app.tlog), workers=1).findings == []


def test_two_rounds_with_an_explanation_from_the_command_line(site, capsys):
    where = submitted_cycle(site, "tn-hai-vong")
    leaf = lambda code: ["--leaf", code]  # noqa: E731

    # Round 1: an adjustment, a confirmation, a question.
    adjust = ["appraise", *where, *leaf("1.1.1"), "--points", "0.5", "--reason", "Ban hành muộn"]
    code, out, err = cli(capsys, site, "appraiser", *adjust)
    assert code == 0 and "Đã điều chỉnh điểm 1.1.1" in out, err
    code, out, err = cli(
        capsys, site, "appraiser", "confirm", *where, *leaf("1.1.2"), "--note", "Đủ"
    )
    assert code == 0 and "Đã xác nhận điểm tự chấm 1.1.2 của xa-01" in out, err
    code, _out, err = cli(capsys, site, "officer", "confirm", *where, *leaf("1.1.2"))
    assert code == 1 and "[not_permitted]" in err

    ask = ["explain", "request", *where, *leaf("1.2.1"), "--question", "Thiếu báo cáo quý?"]
    code, out, err = cli(capsys, site, "appraiser", *ask)
    assert code == 0 and "Đã yêu cầu xa-01 giải trình tiêu chí 1.2.1" in out, err
    doc = review(capsys, site, where)
    assert doc["stage"] == "explanation"
    assert [(f["leaf"], f["question"], f["answer"]) for f in doc["flags"]] == [
        ("1.2.1", "Thiếu báo cáo quý?", None)
    ]
    assert "1.1.1" not in doc["needs_review"] and "1.2.1" in doc["needs_review"]
    code, out, _ = cli(capsys, site, "council", "review", *where)
    assert "đang giải trình" in out and "1.2.1: Thiếu báo cáo quý? (chưa trả lời)" in out

    # The explanation: only a flagged leaf is answered; evidence and a revised score.
    answer = ["explain", "answer", *where, "--answer", "Đã bổ sung báo cáo"]
    code, _out, err = cli(capsys, site, "officer", *answer, *leaf("1.2.2"))
    assert code == 1 and "[not_flagged]" in err
    code, _out, err = cli(capsys, site, "chair", "explain", "submit", *where)
    assert code == 1 and "[explanation_missing]" in err and "1.2.1" in err
    evidence = ["evidence", "add", *where, "--leaves", "1.2.1", "--id", "ev-bc", "--number", "9/BC"]
    code, _out, err = cli(capsys, site, "officer", *evidence)
    assert code == 0, err
    revised = [*answer, *leaf("1.2.1"), "--evidence", "ev-bc", "--points", "0.25"]
    code, out, err = cli(capsys, site, "officer", *revised)
    assert code == 0 and "Đã giải trình tiêu chí 1.2.1 của xa-01 (có sửa điểm tự chấm)" in out, err
    flag = review(capsys, site, where)["flags"][0]
    assert (flag["answer"], flag["evidence_ids"]) == ("Đã bổ sung báo cáo", ["ev-bc"])
    assert assessment(site, where).self_inputs["1.2.1"] == {"points": "0.25"}

    code, _out, err = cli(capsys, site, "council", "close", *where, "--confirm-remaining")
    assert code == 1 and "[explanations_pending]" in err
    code, out, err = cli(capsys, site, "chair", "explain", "submit", *where)
    assert code == 0 and "Đã gửi giải trình của xa-01" in out, err

    # Round 2: flagged leaves only, the last value given stands.
    assert review(capsys, site, where)["stage"] == "round_2"
    again = ["appraise", *where, "--points", "0.5", "--reason", "Vòng 2"]
    code, _out, err = cli(capsys, site, "appraiser", *again, *leaf("1.1.1"))
    assert code == 1 and "[not_flagged]" in err
    code, out, err = cli(capsys, site, "appraiser", *again, *leaf("1.2.1"))
    assert code == 0, err

    # The close: refused while leaves are left, then every remaining one listed.
    code, _out, err = cli(capsys, site, "council", "close", *where)
    assert code == 1 and "[leaves_not_reviewed]" in err and "1.2.2" in err
    remaining = [c for c in LEAVES if c not in ("1.1.1", "1.1.2", "1.2.1")]
    assert review(capsys, site, where)["needs_review"] == remaining
    code, out, err = cli(capsys, site, "council", "close", *where, "--confirm-remaining")
    assert code == 0, err
    shown, done = out.splitlines()[:2]
    assert shown == f"Xác nhận theo điểm tự chấm {len(remaining)} tiêu chí: {', '.join(remaining)}"
    assert f"Đã kết thúc thẩm định xa-01 (kỳ tn-hai-vong), xác nhận {len(remaining)}" in done
    doc = review(capsys, site, where)
    assert (doc["stage"], doc["needs_review"]) == ("closed", [])
    code, _out, err = cli(capsys, site, "appraiser", *again, *leaf("1.2.1"))
    assert code == 1 and "[appraisal_closed]" in err

    appraised = assessment(site, where).appraised_view()
    assert (appraised["1.2.1"], appraised["1.1.1"]) == ({"points": "0.5"}, {"points": "0.5"})
    verify_clean(site)


def test_closing_with_a_list_and_correcting_after_publication(site, capsys):
    where = submitted_cycle(site, "tn-dinh-chinh", evidence="ev-qd")
    code, _out, err = cli(capsys, site, "council", "close", *where, "--confirm", "1.1.1,1.1.2")
    assert code == 1 and "[leaves_not_reviewed]" in err
    code, _out, err = cli(capsys, site, "council", "close", *where, "--confirm", "1.1.1,1.1.1")
    assert code == 1 and "[duplicate_leaf]" in err
    code, out, err = cli(capsys, site, "council", "close", *where, "--confirm-remaining", "--json")
    assert code == 0, err
    assert json.loads(out)["confirmed"] == LEAVES  # nothing reviewed: every leaf, as listed

    fix = ["correct", *where, "--leaf", "1.1.1", "--points", "1", "--reason", "Sai sót nhập liệu"]
    code, _out, err = cli(capsys, site, "appraiser", *fix, "--evidence", "ev-qd")
    assert code == 1 and "[not_published]" in err

    world = site["world"]
    council = world.key("council_chair", f"authority:{AUTHORITY}")
    approver = world.key("approver", f"province:{PROVINCE}")
    world.env.season_end("tn-dinh-chinh", council, approver)

    code, _out, err = cli(capsys, site, "officer", *fix, "--evidence", "ev-qd")
    assert code == 1 and "[not_permitted]" in err
    code, _out, err = cli(capsys, site, "appraiser", *fix, "--evidence", "ev-khong-co")
    assert code == 1 and "[evidence_not_found]" in err
    code, out, err = cli(capsys, site, "appraiser", *fix, "--evidence", "ev-qd")
    assert code == 0 and "Đã đính chính điểm 1.1.1 của xa-01" in out, err
    assert assessment(site, where).appraised_view()["1.1.1"] == {"points": "1"}
    verify_clean(site)


def test_the_python_client_scripts_a_unit_close(site):
    submitted_cycle(site, "tn-script")
    council = Client(site["url"], site["council"])
    appraiser = Client(site["url"], site["appraiser"])
    appraiser.confirm("tn-script", UNIT, "1.1.1", note="Đủ hồ sơ")
    council.catch_up()
    remaining = council.review("tn-script", UNIT)["needs_review"]
    assert remaining == LEAVES[1:]
    receipt = council.close_unit("tn-script", UNIT, remaining)
    assert receipt["log_index"] > 0
    council.catch_up()
    assert council.review("tn-script", UNIT)["stage"] == "closed"


HOSTILE_CYCLE = "tn-thu-hai"
R = "--reason"
HOSTILE = [
    # (who, the command's words, its options after --cycle/--unit, the code printed)
    ("appraiser", ["confirm"], ["--leaf", "1.1.1", "--note", "ok\x1b[2J"], "control_character"),
    ("appraiser", ["confirm"], ["--leaf", "1.1.1", "--note", "a\u202eb"], "control_character"),
    ("appraiser", ["confirm"], ["--leaf", "1.1.1;rm", "--note", "x"], "invalid_leaf"),
    ("appraiser", ["confirm"], ["--leaf", "9.9.9"], "unknown_leaf"),
    ("appraiser", ["explain", "request"], ["--leaf", "1.1", "--question", "?"], "unknown_leaf"),
    (
        "appraiser",
        ["explain", "request"],
        ["--leaf", "1.1.1", "--question", "?" * 5000],
        "text_too_long",
    ),
    (
        "appraiser",
        ["explain", "request"],
        ["--leaf", "1.1.1", "--question", "  "],
        "question_required",
    ),
    (
        "officer",
        ["explain", "answer"],
        ["--leaf", "1.1.1", "--answer", "a\x00b"],
        "control_character",
    ),
    (
        "officer",
        ["explain", "answer"],
        ["--leaf", "1.1.1", "--answer", "x", "--evidence", "ev 1"],
        "invalid_evidence_id",
    ),
    (
        "officer",
        ["explain", "answer"],
        ["--leaf", "1.1.1", "--answer", "x", "--points", "0,5"],
        "decimal_not_canonical",
    ),
    ("council", ["close"], ["--confirm", "1.1.1,../x"], "invalid_leaf"),
    ("council", ["close"], ["--confirm", "9.9.9"], "unknown_leaf"),
    (
        "appraiser",
        ["correct"],
        ["--leaf", "1.1.1", "--points", "1", R, "r" * 5000, "--evidence", "ev-1"],
        "text_too_long",
    ),
    (
        "appraiser",
        ["correct"],
        ["--leaf", "1.1.1", "--points", "1", R, "r\rr", "--evidence", "ev-1"],
        "control_character",
    ),
]


@pytest.fixture(scope="module")
def hostile_cycle(site) -> str:
    submitted_cycle(site, HOSTILE_CYCLE)
    return HOSTILE_CYCLE


@pytest.mark.parametrize(("who", "words", "options", "printed"), HOSTILE)
def test_hostile_input_is_refused_and_nothing_is_written(
    site, hostile_cycle, capsys, who, words, options, printed
):
    before = head(site)
    where = ["--cycle", hostile_cycle, "--unit", UNIT]
    code, out, err = cli(capsys, site, who, *words, *where, *options)
    assert code == 1 and f"[{printed}]" in err, (out, err)
    assert head(site) == before


def test_a_hostile_unit_code_never_reaches_a_url(site, capsys):
    before = head(site)
    code, _out, err = cli(capsys, site, "council", "review", "--cycle", "tn-2025", "--unit", "../x")
    assert code == 1 and "[invalid_code]" in err
    close = ["close", "--cycle", "tn-2025"]
    code, _out, err = cli(capsys, site, "council", *close, "--unit", "XA 01", "--confirm-remaining")
    assert code == 1 and "[invalid_code]" in err
    code, _out, err = cli(capsys, site, "council", *close, "--confirm", "1.1.1")
    assert code == 1 and "[unit_required]" in err
    assert head(site) == before


def test_the_review_is_read_within_the_key_scope(site, capsys):
    other = ["--cycle", "tn-2025", "--unit", UNITS[1]]
    doc = review(capsys, site, other)
    assert (doc["stage"], doc["needs_review"], doc["flags"]) == ("not_submitted", LEAVES, [])
    code, _out, err = cli(capsys, site, "officer", "review", *other)
    assert code == 1 and "[not_permitted]" in err
    code, out, err = cli(capsys, site, "officer", "review", "--cycle", "tn-2025", "--unit", UNIT)
    assert code == 0 and "xa-01 (tn-2025): chưa nộp hồ sơ" in out, err
    code, _out, err = cli(
        capsys, site, "council", "review", "--cycle", "tn-2025", "--unit", "xa-99"
    )
    assert code == 1 and "[unit_not_found]" in err
