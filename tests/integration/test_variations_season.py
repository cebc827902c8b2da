"""A season on a framework with a bonus and a penalty area (docs/FRAMEWORKS.md,
"Variations"): the commune claims its bonus, the appraisers apply a penalty,
and the capped figures are what the submission signs, the ranking's manifest
lists, the reads show and Appendix I and II print; verify re-derives them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.documents import export
from domain.framework import to_dict
from domain.ranking import Ranking
from interfaces.cli.main import main
from interfaces.documents import files
from projections.follower import Follower
from projections.queries import Queries
from projections.store import PrivateModel
from tests.support import Env, command
from tests.unit.test_framework_variations import _documented

CYCLE, A, B = "bt-2025", "xa-a", "xa-b"


@pytest.fixture
def season(env: Env, tmp_path: Path) -> dict:
    framework = _documented(tmp_path)
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=CYCLE,
            name="Kỳ có điểm thưởng",
            framework=str(framework.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": A, "name": "Xã A"}, {"code": B, "name": "Xã B"}],
        )
    )
    appraiser = env.register("appraiser", "authority:dong-hy")[0]
    council = env.register("council_chair", "authority:dong-hy")[0]
    approver = env.register("approver", "province:thai-nguyen")[0]
    for unit, claims in ((A, {"1.1": "10", "9.1": "2", "9.2": "1"}), (B, {"1.1": "8"})):
        officer = env.register("commune_officer", f"commune:{unit}")[0]
        for leaf, points in claims.items():
            env.send(
                command(
                    officer, "record_self_score", cycle=CYCLE, unit=unit, leaf=leaf, points=points
                ),
                officer,
            )
        env.submit_unit(unit, officer, cycle=CYCLE)  # the rest self-scored 0
    # the appraisers find a violation at xa-a: 5 points off, at most 3 count
    env.send(
        command(
            appraiser,
            "adjust_score",
            cycle=CYCLE,
            unit=A,
            leaf="10.1",
            points="5",
            reason="Vi phạm kỷ luật hành chính (Quyết định 12/QĐ-UBND)",
        ),
        appraiser,
    )
    for unit in (A, B):
        env.send(
            command(council, "close_appraisal", cycle=CYCLE, unit=unit, confirm=_open(env, unit)),
            council,
        )
    manifest = env.season_end(CYCLE, council, approver)
    return {"manifest": manifest, "framework": framework}


def _open(env: Env, unit: str) -> list[str]:
    from domain.assessment import Assessment
    from domain.cycle import Cycle

    assessment = env.app.get(Assessment.create_id(CYCLE, unit), for_update=False)
    cycle = env.app.get(Cycle.create_id(CYCLE), for_update=False)
    return assessment.needs_review(cycle.framework_for(env.app.framework(cycle.framework), unit))


def test_the_ranking_lists_the_capped_totals(env, season):
    lines = {line["unit"]: line for line in season["manifest"]["ranked"]}
    # xa-a: 10 + min(3, 2) bonus; appraised: - min(5, 3) penalty
    assert (lines[A]["self_total"], lines[A]["appraised_total"]) == ("12", "9")
    assert (lines[B]["self_total"], lines[B]["appraised_total"]) == ("8", "8")
    assert [lines[A]["rank"], lines[B]["rank"]] == [1, 2]
    ranking = env.app.get(Ranking.create_id(CYCLE), for_update=False)
    assert ranking.versions[-1]["state"] == "published"


def test_the_reads_show_the_areas_capped(env, season, tmp_path):
    model = PrivateModel(tmp_path / "read.sqlite")
    Follower(env.app, model).catch_up()
    doc = Queries(model).unit_scores(CYCLE, A)
    nodes = {n["code"]: n for n in doc["nodes"]}
    assert (doc["max_total"], doc["self_total"], doc["appraised_total"]) == ("10", "12", "9")
    assert (nodes["9"]["self_score"], nodes["10"]["appraised_score"]) == ("2", "3")
    assert nodes["10.1"]["appraised_score"] == "5"  # the leaf as appraised; the area caps it
    assert doc["index"] == "90"


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_appendix_i_and_ii_print_the_capped_figures_and_verify(env, season, tmp_path, fmt, capsys):
    sheet = export.make(env.app, "scoring_sheet", CYCLE, A)
    path = tmp_path / f"phu-luc-1.{fmt}"
    files.write(sheet, path)
    rows = dict(files.read(path).rows)
    assert rows["TỔNG ĐIỂM"]["max"] == 10 and rows["TỔNG ĐIỂM"]["appraised"] == 9
    assert rows["9"]["appraised"] == 2 and rows["10"]["appraised"] == 3
    assert rows["9"]["title"] == "Điểm thưởng (điểm thưởng: cộng tối đa 2 điểm)"
    assert rows["10"]["title"] == "Điểm trừ (điểm trừ: trừ tối đa 3 điểm)"
    table = export.make(env.app, "ranking_table", CYCLE, "1")
    table_path = tmp_path / f"phu-luc-2.{fmt}"
    files.write(table, table_path)
    assert dict(files.read(table_path).rows)[A]["appraised"] == Decimal(9)
    for p in (path, table_path):
        capsys.readouterr()
        code = main(["verify-document", str(p), "--data-dir", str(env.data_dir), "--json"])
        out = json.loads(capsys.readouterr().out)
        assert (code, out["differences"]) == (0, [])


def test_verify_re_derives_the_season(env, season):
    env.checkpoint()
    assert verify(StoreSource(env.app.tlog), workers=1).findings == []


# -- a ward and a commune on one table with maxima by type --------------------------------
def test_a_ward_is_scored_on_its_types_table_everywhere(env, tmp_path, capsys):
    from domain.errors import DomainError
    from tests.unit.test_framework_variations import _typed

    framework = _typed(tmp_path)
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    units = [
        {"code": A, "name": "Xã A", "type": "xa"},
        {"code": "ph-b", "name": "Phường B", "type": "phuong"},
    ]
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=CYCLE,
            name="Kỳ xã và phường",
            framework=str(framework.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=units,
        )
    )
    ward = env.register("commune_officer", "commune:ph-b")[0]
    where = {"cycle": CYCLE, "unit": "ph-b"}
    # 1.2 is not assessed for a ward: refused, nothing written
    with pytest.raises(DomainError) as e:
        env.send(command(ward, "record_self_score", leaf="1.2", points="1", **where), ward)
    assert e.value.code in ("unknown_leaf", "invalid_leaf"), e.value
    with pytest.raises(DomainError) as e:  # 1.1 is worth 3 for a ward: 3 is allowed, 3.5 not
        env.send(command(ward, "record_self_score", leaf="1.1", points="3.5", **where), ward)
    env.send(command(ward, "record_self_score", leaf="1.1", points="3", **where), ward)
    env.submit_unit("ph-b", ward, cycle=CYCLE)  # the ward's table has one leaf: submitted
    officer = env.register("commune_officer", f"commune:{A}")[0]
    for leaf, points in (("1.1", "2"), ("1.2", "0")):
        env.send(
            command(officer, "record_self_score", cycle=CYCLE, unit=A, leaf=leaf, points=points),
            officer,
        )
    env.submit_unit(A, officer, cycle=CYCLE)
    council = env.register("council_chair", "authority:dong-hy")[0]
    approver = env.register("approver", "province:thai-nguyen")[0]
    for unit in (A, "ph-b"):
        env.send(
            command(council, "close_appraisal", cycle=CYCLE, unit=unit, confirm=_open(env, unit)),
            council,
        )
    manifest = env.season_end(CYCLE, council, approver)
    lines = {line["unit"]: line for line in manifest["ranked"]}
    assert (lines["ph-b"]["appraised_total"], lines["ph-b"]["index"], lines["ph-b"]["rank"]) == (
        "3",
        "100",
        1,
    )
    assert (lines[A]["appraised_total"], lines[A]["rank"]) == ("2", 2)

    model = PrivateModel(tmp_path / "read.sqlite")
    Follower(env.app, model).catch_up()
    doc = Queries(model).unit_scores(CYCLE, "ph-b")
    assert [(n["code"], n["max_points"]) for n in doc["nodes"]] == [("1", "3"), ("1.1", "3")]
    assert (doc["max_total"], doc["appraised_total"], doc["index"]) == ("3", "3", "100")
    # a leaf's own reads follow the unit's table too
    assert Queries(model).leaf_history(CYCLE, "ph-b", "1.1")["max_points"] == "3"
    assert Queries(model).leaf_history(CYCLE, "ph-b", "1.2") is None
    assert Queries(model).leaf_history(CYCLE, A, "1.2")["max_points"] == "1"
    # and its progress counts the leaves of its table: "1/1" for the ward, "2/2" for xa-a
    assert Queries(model).unit_status(CYCLE, "ph-b")["scored"] == "1/1"
    assert Queries(model).unit_status(CYCLE, A)["scored"] == "2/2"

    sheet = export.make(env.app, "scoring_sheet", CYCLE, "ph-b")
    path = tmp_path / "phu-luc-1-phuong.xlsx"
    files.write(sheet, path)
    rows = dict(files.read(path).rows)
    assert "1.2" not in rows and rows["1.1"]["max"] == 3
    capsys.readouterr()
    code = main(["verify-document", str(path), "--data-dir", str(env.data_dir), "--json"])
    assert (code, json.loads(capsys.readouterr().out)["differences"]) == (0, [])
    env.checkpoint()
    assert verify(StoreSource(env.app.tlog), workers=1).findings == []
