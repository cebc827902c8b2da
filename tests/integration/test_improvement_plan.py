"""The improvement plan (issue 10, part 4): drafted from a published cycle, the
commune edits it in Excel or Word and its chair signs `record_improvement_plan`;
each version stays in the log, verify re-derives it, and the plan's document
proves itself like the other documents."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from application import plans
from application.documents import export
from application.documents.model import differences
from domain.errors import DomainError
from interfaces.cli.main import main
from interfaces.cli.plan_cmd import items_from
from interfaces.documents import files
from interfaces.framework_io.check import check_table
from interfaces.framework_io.partial import PartialReport
from tests.log_operator import Operator
from tests.oversight_season import OTHER, U, play
from tests.season_unit import Unit, findings
from tests.support import Env, Written

ITEM = {
    "leaf": "1.1.1",
    "target": "1",
    "tasks": "Ban hành kế hoạch CCHC trước ngày 15/12",
    "lead": "Văn phòng UBND xã",
    "partners": "Các ngành chuyên môn",
    "deadline": "Quý IV/2026",
}


@pytest.fixture
def season(env: Env):
    return play(env)


def _refused(env: Env, unit: Unit, signer, code: str, **fields) -> DomainError:
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        unit.send(signer, "record_improvement_plan", **fields)
    assert Written.read(env.app) == before
    assert e.value.code == code, (e.value.code, [p.code for p in e.value.problems])
    return e.value


def test_the_draft_lists_every_criterion_that_lost_points(env, season):
    doc = plans.plan(env.app, "c", U)
    assert doc["published"] and doc["submitted"] and doc["plans"] == []
    lost = {r["leaf"]: r for r in doc["draft"]}
    # 1.1.1 appraised 0.25 of 1; 1.1.2 corrected to 0; 1.2.1 0.375 of 0.5
    assert lost["1.1.1"]["lost"] == "0.75" and lost["1.1.1"]["target"] == "1"
    assert lost["1.1.2"]["appraised"] == "0"
    assert lost["1.2.1"]["lost"] == "0.125"
    assert all(Decimal(r["lost"]) > 0 for r in doc["draft"])


def test_a_plan_filled_in_excel_is_signed_and_kept_by_version(env, season, tmp_path):
    from openpyxl import load_workbook

    draft = export.make(env.app, "improvement_plan", "c", U)
    assert "Bản dự thảo" in draft.title[-1]
    path = tmp_path / "ke-hoach.xlsx"
    files.write(draft, path)
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = next(r for r in sheet.iter_rows() if r[0].value == "STT")
    col = {c.value: c.column - 1 for c in header}
    kept = 0
    for row in list(sheet.iter_rows(min_row=header[0].row + 1)):
        if row[0].value in ("1.1.1", "1.2.1"):
            row[col["Nhiệm vụ, giải pháp"]].value = f"Khắc phục {row[0].value}"
            row[col["Đơn vị chủ trì"]].value = "Văn phòng UBND xã"
            row[col["Thời hạn hoàn thành"]].value = "Quý II/2026"
            kept += 1
        elif row[0].value:
            sheet.delete_rows(row[0].row)  # the commune plans for two criteria only
    book.save(path)
    items = items_from(path)
    assert [i["leaf"] for i in items] == ["1.1.1", "1.2.1"] and kept == 2
    season.unit.send(season.unit.chair, "record_improvement_plan", plan_year=2026, items=items)
    season.unit.send(
        season.unit.chair, "record_improvement_plan", plan_year=2026, items=[ITEM]
    )  # signed again: version 2
    versions = plans.plan(env.app, "c", U)["plans"]
    assert [v["version"] for v in versions] == [1, 2]
    assert [i["leaf"] for i in versions[0]["items"]] == ["1.1.1", "1.2.1"]
    assert versions[1]["items"][0]["tasks"] == ITEM["tasks"]
    assert versions[1]["actor"] == season.unit.chair.key_id
    env.checkpoint()
    assert findings(env) == []
    signed = export.make(env.app, "improvement_plan", "c", U)
    assert "Phiên bản 2" in signed.title[-1]
    rows = dict(signed.rows)
    assert list(rows) == ["1.1.1"]
    assert rows["1.1.1"]["appraised"] == Decimal("0.25") and rows["1.1.1"]["lost"] == Decimal(
        "0.75"
    )


def test_a_plan_needs_a_published_cycle_a_submission_and_the_chair(env, season):
    u = season.unit
    _refused(env, u, u.officer, "not_permitted", plan_year=2026, items=[ITEM])
    _refused(env, u, season.other.chair, "not_permitted", plan_year=2026, items=[ITEM])
    # xa-b withdrew and never submitted again: nothing was appraised to plan from
    other = season.other
    _refused(env, other, other.chair, "not_appraised", plan_year=2026, items=[ITEM])
    fresh = Unit.open(env, cycle="c2", unit="xa-a")
    env.submit_unit("xa-a", fresh.officer, fresh.chair, "c2")
    _refused(env, fresh, fresh.chair, "cycle_not_published", plan_year=2026, items=[ITEM])


@pytest.mark.parametrize(
    "items, plan_year, problem",
    [
        ([{**ITEM, "target": "1.5"}], 2026, "target_out_of_range"),
        ([{**ITEM, "target": "1,0"}], 2026, "decimal_not_canonical"),
        ([ITEM, ITEM], 2026, "duplicate_leaf"),
        ([{**ITEM, "leaf": "1.1"}], 2026, "unknown_leaf"),
        ([{**ITEM, "tasks": "  "}], 2026, "text_required"),
        ([{**ITEM, "lead": '=HYPERLINK("x")\n'}], 2026, None),
        ([{**ITEM, "extra": 1}], 2026, "invalid_item"),
        ([ITEM], 2025, "invalid_plan_year"),
        ([ITEM], "2026", "invalid_plan_year"),
        ([], 2026, "invalid_items"),
    ],
)
def test_a_bad_plan_is_refused_whole_naming_the_item(env, season, items, plan_year, problem):
    u = season.unit
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        u.send(u.chair, "record_improvement_plan", plan_year=plan_year, items=items)
    assert Written.read(env.app) == before
    codes = {e.value.code, *(p.code for p in e.value.problems)}
    if problem is not None:
        assert problem in codes, codes
        assert all(p.field for p in e.value.problems)
    else:  # a line break in a one-line name
        assert any(p.field == "items[0].lead" for p in e.value.problems)


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_the_signed_plan_s_document_proves_itself(env, season, tmp_path, fmt, capsys):
    u = season.unit
    u.send(u.chair, "record_improvement_plan", plan_year=2026, items=[ITEM])
    doc = export.make(env.app, "improvement_plan", "c", U)
    path = tmp_path / f"ke-hoach.{fmt}"
    files.write(doc, path)
    assert differences(files.read(path), doc) == []
    capsys.readouterr()
    assert main(["verify-document", str(path), "--data-dir", str(env.data_dir)]) == 0
    # The target promised, changed in the file, is named.
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        row = next(r for r in book.worksheets[0].iter_rows() if r[0].value == "1.1.1")
        row[5].value = Decimal("0.5")
        book.save(path)
    else:
        import docx

        word = docx.Document(str(path))
        row = next(r for r in word.tables[0].rows if r.cells[0].text == "1.1.1")
        row.cells[5].paragraphs[0].runs[0].text = "0,5"
        word.save(str(path))
    capsys.readouterr()
    assert main(["verify-document", str(path), "--data-dir", str(env.data_dir), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["differences"] == [
        {"row": "1.1.1", "column": "Điểm phấn đấu", "document": "0.5", "log": "1"}
    ]


def test_the_plan_document_reads_back_as_a_partial_table(env, season, tmp_path):
    """Its headings are those a printed plan uses: `framework check` reads it as a
    partial table and finds every row's points lost = maximum - appraised."""
    path = tmp_path / "ke-hoach.xlsx"
    files.write(export.make(env.app, "improvement_plan", "c", U), path)
    report = check_table(path)
    assert isinstance(report, PartialReport) and report.ok
    assert {r.code for r in report.rows} >= {"1.1.1", "1.1.2", "1.2.1"}


def test_an_operator_who_rewrites_a_promise_is_caught(env, season):
    u = season.unit
    receipt = u.send(u.chair, "record_improvement_plan", plan_year=2026, items=[ITEM])
    leaf = receipt["log_index"]
    op = Operator(env)
    op.rewrite(leaf, lambda state: state["items"][0].update(target="0.5"))
    op.reseal()
    env.checkpoint()
    assert leaf in {index for _kind, index in findings(env)}


def test_a_units_plan_is_not_anothers(env, season, tmp_path):
    """A plan signed for xa-a, copied by an operator onto xa-b's assessment, is
    reported: the signed command names its unit."""
    u = season.unit
    receipt = u.send(u.chair, "record_improvement_plan", plan_year=2026, items=[ITEM])
    op = Operator(env)
    from domain.assessment import Assessment

    op.append_copy(receipt["log_index"], onto=Assessment.create_id("c", OTHER))
    op.reseal()
    env.checkpoint()
    kinds = {kind for kind, _index in findings(env)}
    assert kinds & {"wrong_aggregate", "event_not_derived"}


def test_items_from_refuses_another_kind_of_document(env, season, tmp_path):
    path = tmp_path / "phu-luc-1.xlsx"
    files.write(export.make(env.app, "scoring_sheet", "c", U), path)
    with pytest.raises(DomainError) as e:
        items_from(Path(path))
    assert e.value.code == "not_a_plan"


def test_a_plan_signed_before_the_latest_is_refused(env, season):
    """As for scores: a stale plan arriving late must not become the latest
    version, and an operator cannot swap two versions unnoticed."""
    from datetime import UTC, datetime, timedelta

    from tests.season_unit import at

    u = season.unit
    now = datetime.now(UTC)
    u.send(u.chair, "record_improvement_plan", plan_year=2026, items=[ITEM], issued_at=at(now))
    stale = {**ITEM, "leaf": "1.2.1", "target": "0.5"}
    _refused(
        env,
        u,
        u.chair,
        "signed_out_of_order",
        plan_year=2026,
        items=[stale],
        issued_at=at(now - timedelta(seconds=60)),
    )


def test_a_plan_of_every_criterion_with_its_tasks_fits_one_command(env, season):
    u = season.unit
    framework = env.app.framework(u.cycle_now.framework)
    items = [
        {**ITEM, "leaf": leaf.code, "target": "0", "tasks": "Nhiệm vụ cụ thể " * 20}
        for leaf in framework.leaves
    ]
    receipt = u.send(u.chair, "record_improvement_plan", plan_year=2026, items=items)
    assert receipt["log_index"] > 0
    assert len(plans.plan(env.app, "c", U)["plans"][0]["items"]) == 119


def test_a_plan_file_is_read_by_its_headings_even_without_its_proof(env, season, tmp_path):
    """The commune deleted the proof sheet, typed a date Excel made a date of, and
    a target with a decimal comma: the rows still read as the plan they are."""
    import datetime as dt

    from openpyxl import load_workbook

    path = tmp_path / "ke-hoach.xlsx"
    files.write(export.make(env.app, "improvement_plan", "c", U), path)
    book = load_workbook(path)
    del book["Chứng thực"]
    sheet = book.worksheets[0]
    header = next(r for r in sheet.iter_rows() if r[0].value == "STT")
    col = {c.value: c.column - 1 for c in header}
    row = next(r for r in sheet.iter_rows() if r[0].value == "1.1.1")
    row[col["Thời hạn hoàn thành"]].value = dt.datetime(2026, 6, 30)
    row[col["Điểm phấn đấu"]].value = "0,5"
    row[col["Nhiệm vụ, giải pháp"]].value = "Ban hành kế hoạch"
    book.save(path)
    items = {i["leaf"]: i for i in items_from(path, "c", U)}
    assert items["1.1.1"]["deadline"] == "30/06/2026"
    assert items["1.1.1"]["target"] == "0.5"
    assert items["1.1.1"]["tasks"] == "Ban hành kế hoạch"


def test_another_units_plan_file_is_refused(env, season, tmp_path):
    path = tmp_path / "ke-hoach.xlsx"
    files.write(export.make(env.app, "improvement_plan", "c", U), path)
    with pytest.raises(DomainError) as e:
        items_from(path, "c", OTHER)
    assert e.value.code == "not_a_plan"


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_the_draft_read_back_is_the_draft_the_api_gives(env, season, tmp_path, fmt):
    path = tmp_path / f"ke-hoach.{fmt}"
    files.write(export.make(env.app, "improvement_plan", "c", U), path)
    rows = files.read(path).rows
    api = plans.plan(env.app, "c", U)["draft"]
    assert [key for key, _cells in rows] == [r["leaf"] for r in api]
    for (_key, cells), r in zip(rows, api, strict=True):
        assert (cells["max"], cells["appraised"], cells["lost"], cells["target"]) == tuple(
            Decimal(r[k]) for k in ("max_points", "appraised", "lost", "target")
        )
        assert cells["title"] == r["title"]


def test_an_operator_who_replays_an_old_plan_is_caught(env, season):
    """Version 1 stored again after version 2, by someone who holds the store:
    the signed command was already used, and verify says so."""
    u = season.unit
    first = u.send(u.chair, "record_improvement_plan", plan_year=2026, items=[ITEM])
    u.send(u.chair, "record_improvement_plan", plan_year=2026, items=[{**ITEM, "target": "0.5"}])
    op = Operator(env)
    replayed = op.append_copy(first["log_index"])
    op.reseal()
    env.checkpoint()
    assert ("command_replayed", replayed) in findings(env)
