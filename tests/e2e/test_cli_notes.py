"""Oversight notes from the command line against a real `parindex serve`: the
MTTQ observer notes a change it read in a leaf's history, the council chair
answers, and the note shows beside that change in `history`, `why` and
`note list` (docs/SEASON.md, "Oversight notes")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from tests.e2e.http_support import AUTHORITY, UNITS, World, cli_site, run_cli_as
from tests.support import command

UNIT = UNITS[0]
CYCLE = "tn-giam-sat"
WHERE = ["--cycle", CYCLE, "--unit", UNIT]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    people = lambda w: {  # noqa: E731
        "officer": w.officer,
        "appraiser": w.appraiser,
        "council": w.key("council_chair", f"authority:{AUTHORITY}"),
        "observer": w.key("observer", f"authority:{AUTHORITY}"),
        "far_observer": w.key("observer", "authority:somewhere-else"),
    }
    with cli_site(tmp_path_factory.mktemp("notes"), people, workers=1) as site:
        world: World = site["world"]
        world.env.send(
            command(
                world.admin,
                "open_cycle",
                cycle=CYCLE,
                name="Kỳ giám sát",
                framework=world.framework_id,
                year=2025,
                authority=AUTHORITY,
                province="thai-nguyen",
                units=[{"code": u, "name": f"Xã {u[-2:]}"} for u in UNITS],
            )
        )
        chair = world.key("commune_chair", f"commune:{UNIT}")
        world.env.submit_unit(UNIT, world.officer, chair, cycle=CYCLE)
        yield site


cli = run_cli_as


def test_an_observer_notes_a_change_and_the_council_answers_beside_it(site, capsys):
    adjust = ["appraise", *WHERE, "--leaf", "1.1.1", "--points", "0", "--reason", "Thiếu kế hoạch"]
    code, _out, err = cli(capsys, site, "appraiser", *adjust, "--json")
    assert code == 0, err
    code, out, err = cli(capsys, site, "observer", "history", *WHERE, "--leaf", "1.1.1", "--json")
    assert code == 0, err
    change = [e for e in json.loads(out)["entries"] if e["kind"] == "adjustment"][-1]["leaf_index"]

    text = "Đề nghị làm rõ: xã đã nộp kế hoạch 15/KH-UBND."
    add = ["note", "add", *WHERE, "--change", str(change), "--note-id", "gs-01", "--text", text]
    code, out, err = cli(capsys, site, "observer", *add)
    assert code == 0 and "Đã ghi chú giám sát gs-01 về xa-01" in out, err
    code, _out, err = cli(capsys, site, "appraiser", *add[:-4], "--note-id", "gs-02", "--text", "?")
    assert code == 1 and "[not_permitted]" in err
    code, out, err = cli(capsys, site, "observer", "history", *WHERE, "--leaf", "1.1.1")
    assert code == 0, err
    assert "↳ Ghi chú giám sát gs-01" in out and text in out and "(Hội đồng chưa trả lời)" in out

    answer = ["note", "answer", *WHERE, "--note-id", "gs-01", "--answer", "Kế hoạch ban hành muộn."]
    code, out, err = cli(capsys, site, "council", *answer)
    assert code == 0 and "Đã trả lời ghi chú giám sát gs-01" in out, err
    code, _out, err = cli(capsys, site, "council", *answer)
    assert code == 1 and "[note_answered]" in err

    code, out, err = cli(capsys, site, "observer", "why", *WHERE, "--leaf", "1.1.1")
    assert code == 0, err
    assert "Ghi chú giám sát gs-01" in out and "Hội đồng trả lời" in out
    assert "Kế hoạch ban hành muộn." in out

    code, out, err = cli(capsys, site, "observer", "note", "list", *WHERE, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["open"] == 0
    [n] = doc["notes"]
    assert (n["about"], n["change"], n["text"]) == ("change", change, text)
    assert n["by"]["role"] == "observer" and n["answer"]["text"] == "Kế hoạch ban hành muộn."
    assert verify(StoreSource(site["world"].env.app.tlog), workers=1).findings == []


def test_notes_on_a_leaf_and_the_unit_and_who_may_read_them(site, capsys):
    code, out, err = cli(
        capsys, site, "observer", "note", "add", *WHERE, "--leaf", "1.2.1", "--text", "Xem lại"
    )
    assert code == 0 and "Đã ghi chú giám sát gs-" in out, err
    code, out, err = cli(capsys, site, "observer", "note", "add", *WHERE, "--text", "Cả đơn vị")
    assert code == 0, err
    code, out, err = cli(capsys, site, "council", "note", "list", *WHERE)
    assert code == 0, err
    assert "về tiêu chí 1.2.1" in out and "về đơn vị" in out and "chưa được trả lời" in out
    code, out, err = cli(capsys, site, "observer", "history", *WHERE, "--leaf", "1.2.1")
    assert "Ghi chú giám sát về tiêu chí này:" in out and "Xem lại" in out
    code, _out, err = cli(capsys, site, "far_observer", "note", "list", *WHERE)
    assert code == 1 and "[not_permitted]" in err
    code, _out, err = cli(
        capsys, site, "far_observer", "note", "add", *WHERE, "--text", "Ngoài phạm vi"
    )
    assert code == 1 and "[not_permitted]" in err


def test_hostile_note_input_is_refused_before_anything_is_signed(site, capsys):
    bad = [
        (["--text", "a\x1b[31mb"], "control_character"),
        (["--text", "ok", "--note-id", "../etc/passwd"], "invalid_note_id"),
        (["--text", "ok", "--change", "999999"], "change_not_found"),
        (["--text", "ok", "--leaf", "1.1.1", "--change", "3"], None),  # argparse refuses
    ]
    for extra, code_ in bad:
        try:
            code, _out, err = cli(capsys, site, "observer", "note", "add", *WHERE, *extra)
        except SystemExit as e:  # mutually exclusive flags: argparse's usage error
            assert code_ is None and e.code == 2
            continue
        assert code == 1 and f"[{code_}]" in err, (extra, err)


def test_scores_history_and_notes_as_of_a_moment_from_the_command_line(site, capsys):
    adjust = ["appraise", *WHERE, "--leaf", "1.1.2", "--points", "0", "--reason", "Thiếu"]
    code, out, err = cli(capsys, site, "appraiser", *adjust, "--json")
    assert code == 0, err
    at = json.loads(out)["log_index"]
    leaf = lambda doc: next(n for n in doc["nodes"] if n["code"] == "1.1.2")  # noqa: E731
    code, out, err = cli(capsys, site, "observer", "scores", *WHERE, "--json")
    assert code == 0 and leaf(json.loads(out))["review"]["how"] == "adjusted", err
    code, out, err = cli(capsys, site, "observer", "scores", *WHERE, "--as-of", str(at - 1))
    assert code == 0, err
    assert out.startswith(f"Như tại vị trí nhật ký {at - 1}")
    code, out, err = cli(
        capsys, site, "observer", "scores", *WHERE, "--as-of", str(at - 1), "--json"
    )
    assert leaf(json.loads(out))["review"] is None
    history = ["history", *WHERE, "--leaf", "1.1.2", "--json"]
    code, out, err = cli(capsys, site, "observer", *history, "--as-of", str(at - 1))
    assert [e["kind"] for e in json.loads(out)["entries"]] == ["self_score"]
    code, _out, err = cli(capsys, site, "observer", "scores", *WHERE, "--as-of", "hôm qua")
    assert code == 1 and "[invalid_as_of]" in err
