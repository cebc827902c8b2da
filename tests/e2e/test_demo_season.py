"""The demo (README command 1) plays a whole season: what its printout claims
is what the log holds, and verify is clean."""

from __future__ import annotations

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.deployment import open_app
from domain.assessment import Assessment
from domain.ranking import Ranking
from interfaces.cli.demo_cmd import season_text
from interfaces.demo_season import CORRECTED, CYCLE, LATE, WITHDRAWS, seed


def test_the_demo_runs_a_whole_season_with_a_late_refusal_explanations_and_a_correction(
    tmp_path,
):
    info = seed(tmp_path / "demo")
    assert info["late_refusal"] == "deadline_passed"
    assert len(info["flagged"]) == 3
    v1, v2 = info["versions"]
    assert [x["unit"] for x in v1["unranked"]] == [LATE]  # listed apart, never ranked as 0
    assert len(v1["ranked"]) == 11
    unit, leaf = CORRECTED
    before = next(x for x in v1["ranked"] if x["unit"] == unit)
    after = next(x for x in v2["ranked"] if x["unit"] == unit)
    assert before["appraised_total"] != after["appraised_total"]
    text = season_text(info)
    assert "bị từ chối [deadline_passed]" in text and "phiên bản 2" in text

    with open_app(tmp_path / "demo") as app:
        ranking = app.get(Ranking.create_id(CYCLE), for_update=False)
        assert [v["state"] for v in ranking.versions] == ["published", "published"]
        assert ranking.versions[0]["manifest"] == v1
        for code in info["flagged"]:
            a = app.get(Assessment.create_id(CYCLE, code), for_update=False)
            assert a.explanations_submitted and a.closed
            assert {a.reviewed[x]["round"] for x in info["flagged"][code]} == {2}
        noted = app.get(Assessment.create_id(CYCLE, unit), for_update=False)
        assert noted.notes == {
            info["note"]["note_id"]: {
                "leaf": None,
                "change": info["note"]["change"],
                "answered": True,
            }
        }
        corrected_at = app.tlog.leaf(info["note"]["change"])
        assert corrected_at.originator_id == noted.id
        assert "MTTQ ghi chú giám sát" in text
        withdrawn = app.get(Assessment.create_id(CYCLE, WITHDRAWS), for_update=False)
        assert withdrawn.submitted and "ev-van-lang-bs-01" in withdrawn.evidence
        late = app.get(Assessment.create_id(CYCLE, LATE), for_update=False)
        assert not late.submitted
        corrected = app.get(Assessment.create_id(CYCLE, unit), for_update=False)
        assert corrected.reviewed[leaf]["how"] == "corrected"
        report = verify(StoreSource(app.tlog, app.evidence))
    assert report.ok, [f.text() for f in report.findings[:5]]


def test_the_demo_s_document_commands_run_as_printed(tmp_path, monkeypatch, capsys):
    """The printout's `parindex document` and `verify-document` lines, run as a
    user would paste them (in a folder of their own), write files that check."""
    import shlex

    from interfaces.cli.demo_cmd import next_steps
    from interfaces.cli.main import main

    data_dir = tmp_path / "demo"
    info = seed(data_dir)
    text = next_steps(data_dir, "127.0.0.1", 8080, info["flagged"])
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(("parindex document", "parindex verify-document"))
    ]
    assert len(lines) == 3
    monkeypatch.chdir(tmp_path)
    for line in lines:
        assert main(shlex.split(line)[1:]) == 0, line
    assert "KẾT QUẢ: tài liệu khớp với nhật ký." in capsys.readouterr().out
    assert (tmp_path / "phu-luc-2.docx").stat().st_size > 0
