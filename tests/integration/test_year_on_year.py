"""Year on year (docs/SEASON.md "Year on year"): a cycle names its previous one,
a cycle run here or a past cycle imported from its published tables, and
every read shows last year's appraised figures beside this year's, through
the link's code and unit maps. Refusals write nothing; verify replays both
commands and reports what an operator forges."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.errors import DomainError
from domain.past_results import PastCycle
from tests.e2e.http_support import Http, assert_problem
from tests.log_operator import Operator
from tests.season_unit import OTHER, U, Unit, open_cycle
from tests.support import Env, Written, command, make_env

SHA_2023 = "3f" * 32
SHA_2023_FIX = "a1" * 32
PAST = {
    "cycle": "k2023",
    "name": "Chỉ số CCHC năm 2023 (bảng công bố)",
    "year": 2023,
    "source": {"file_name": "PL2-2023.xlsx", "sha256": SHA_2023},
    "units": [
        {
            "unit": U,
            "name": "Xã A",
            "total": "78.046",
            "rank": 2,
            "scores": {"1": "8.5", "1.1": "2", "1.1.1": "0.75"},
        },
        {"unit": OTHER, "name": "Xã B", "total": "70", "rank": 5},
    ],
}


@dataclass
class Years:
    env: Env
    u: Unit
    http: Http
    leaves: dict[str, int]


@pytest.fixture(scope="module")
def years(tmp_path_factory) -> Iterator[Years]:
    from interfaces.http.app import create_app, services_of

    env = make_env(tmp_path_factory.mktemp("years"), None)
    leaves = {}
    # 2024, run here: xa-a scores 1.1.1 "1", appraised to "0.5"; xa-b never submits.
    u = Unit.open(env, cycle="c2024", year=2024)
    u.score("1.1.1", "1")
    u.submit()
    u.adjust("1.1.1", "0.5")
    u.close(confirm=u.unreviewed())
    approver = env.register("approver", "province:thai-nguyen")[0]
    env.season_end("c2024", u.council, approver)
    # 2023, imported from its published table; 2024 compared with it.
    leaves["import"] = env.send(command(env.admin, "import_past_results", **PAST))["log_index"]
    leaves["link_2024"] = env.send(
        command(
            env.admin, "link_previous_cycle", cycle="c2024", previous="k2023", reason="Năm 2023"
        )
    )["log_index"]
    # 2025: xa-a again, and xa-moi, which was xa-b; 1.1.2 is a new criterion.
    open_cycle(env, "c2025", units=(U, "xa-moi"), year=2025)
    leaves["link_2025"] = env.send(
        command(
            env.admin,
            "link_previous_cycle",
            cycle="c2025",
            previous="c2024",
            code_map={"1.1.2": None},
            unit_map={"xa-moi": OTHER},
            reason="So sánh với năm 2024",
        )
    )["log_index"]
    flask = create_app(env.data_dir, follow=False)
    try:
        yield Years(env, u, Http(flask.test_client()), leaves)
    finally:
        services_of(flask).close()
        env.app.close()


def _scores(y: Years, cycle: str, unit: str) -> dict:
    resp = y.http.get(f"/api/v1/cycles/{cycle}/units/{unit}/scores", y.u.council)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _node(doc: dict, code: str) -> dict:
    return next(n for n in doc["nodes"] if n["code"] == code)


def _published_line(y: Years, cycle: str, unit: str) -> dict:
    resp = y.http.get(f"/api/v1/cycles/{cycle}/rankings/1", y.u.council)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    doc = resp.get_json()
    lines = [*doc["ranked"], *doc["unranked"]]
    return next(line for line in lines if line["unit"] == unit)


def test_a_cycle_shows_the_previous_cycles_published_figures_beside_its_own(years):
    doc = _scores(years, "c2025", U)
    last = _published_line(years, "c2024", U)
    assert doc["previous"]["cycle"] == "c2024"
    assert doc["previous"]["year"] == 2024
    assert doc["previous"]["imported"] is False
    assert doc["previous"]["version"] == 1
    assert doc["previous"]["total"] == last["appraised_total"]
    assert doc["previous"]["rank"] == 1
    assert _node(doc, "1.1.1")["previous_appraised"] == "0.5"  # appraised, not self-scored 1
    assert _node(doc, "1.2.1")["previous_appraised"] == "0"
    # 1.1.2 is mapped to nothing: the old 1.1.2 is another criterion
    assert _node(doc, "1.1.2")["previous_appraised"] is None
    before = _scores(years, "c2024", U)
    assert _node(doc, "1")["previous_appraised"] == _node(before, "1")["appraised_score"]


def test_the_unit_map_follows_a_renamed_unit_and_an_unsubmitted_one_has_no_figures(years):
    doc = _scores(years, "c2025", "xa-moi")
    assert doc["previous"]["unit"] == OTHER
    assert doc["previous"]["status"] == "not_submitted"
    assert doc["previous"]["total"] is None  # never ranked as if it scored 0
    assert all(n["previous_appraised"] is None for n in doc["nodes"])


def test_an_imported_past_cycle_shows_as_imported_with_its_files_hash(years):
    doc = _scores(years, "c2024", U)
    assert doc["previous"]["imported"] is True
    assert doc["previous"]["total"] == "78.046"  # as published, never rounded
    assert doc["previous"]["rank"] == 2
    assert doc["previous"]["sources"] == [SHA_2023]
    assert _node(doc, "1.1.1")["previous_appraised"] == "0.75"
    assert _node(doc, "1.1.2")["previous_appraised"] is None  # the table did not say


def test_the_live_ranking_and_the_cycle_name_the_previous_cycle(years):
    resp = years.http.get("/api/v1/cycles/c2024/ranking", years.u.council)
    ranking = resp.get_json()
    row = next(r for r in ranking["rows"] if r["unit"] == U)
    assert row["previous"] == {"unit": U, "total": "78.046", "rank": 2}
    assert ranking["previous"]["cycle"] == "k2023"
    cycle = years.http.get("/api/v1/cycles/c2025", years.u.council).get_json()
    assert cycle["previous"] == {
        "cycle": "c2024",
        "year": 2024,
        "imported": False,
        "version": 1,
        "mapped_codes": 1,
        "mapped_units": 1,
    }
    linked = [c for c in cycle["changes"] if c["kind"] == "previous_linked"]
    assert [(c["previous"], c["reason"]) for c in linked] == [("c2024", "So sánh với năm 2024")]


def test_past_cycles_are_public_with_every_import(years):
    listed = years.http.get("/api/v1/past-cycles").get_json()["past_cycles"]
    assert [(p["cycle"], p["year"], p["unit_count"]) for p in listed] == [("k2023", 2023, 2)]
    doc = years.http.get("/api/v1/past-cycles/k2023").get_json()
    assert [u["unit"] for u in doc["units"]] == [U, OTHER]  # by rank
    assert doc["imports"][0]["source"] == PAST["source"]
    assert_problem(years.http.get("/api/v1/past-cycles/nope"), 404, "cycle_not_found")


def _refused(env: Env, code: str, type_: str, **fields) -> DomainError:
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        env.send(command(env.admin, type_, **fields))
    assert Written.read(env.app) == before
    found = {e.value.code, *(p.code for p in e.value.problems)}
    assert code in found, (code, found, e.value)
    return e.value


def _import(**changes):
    return {**PAST, **changes}


HOSTILE = '=HYPERLINK("http://x")\u202e\x07'


@pytest.mark.parametrize(
    ("code", "type_", "fields"),
    [
        ("previous_not_found", "link_previous_cycle", {"previous": "k1999", "reason": "x"}),
        ("previous_not_earlier", "link_previous_cycle", {"previous": "c2025", "reason": "x"}),
        ("invalid_previous", "link_previous_cycle", {"previous": "c2024", "reason": "x"}),
        (
            "unknown_code",
            "link_previous_cycle",
            {"previous": "k2023", "code_map": {"9.9": "1.1"}, "reason": "x"},
        ),
        (
            "unknown_previous_code",
            "link_previous_cycle",
            {"previous": "k2023", "code_map": {"1.1.1": "7.7"}, "reason": "x"},
        ),
        (
            "unknown_previous_code",
            "link_previous_cycle",
            {"previous": "k2023", "unit_map": {U: "../../etc"}, "reason": "x"},
        ),
        ("reason_required", "link_previous_cycle", {"previous": "k2023"}),
        ("control_character", "link_previous_cycle", {"previous": "k2023", "reason": HOSTILE}),
    ],
)
def test_a_bad_link_is_refused_naming_the_field_and_writes_nothing(years, code, type_, fields):
    _refused(years.env, code, type_, cycle="c2024", **fields)


@pytest.mark.parametrize(
    ("code", "changes"),
    [
        ("cycle_exists", {"cycle": "c2024"}),
        ("past_cycle_differs", {"year": 2022}),
        ("reason_required", {}),  # restates xa-a's figures without saying why
        ("invalid_sha256", {"source": {"file_name": "a.xlsx", "sha256": "../" * 20}}),
        ("invalid_source", {"source": {"file_name": "a.xlsx"}}),
        ("decimal_not_canonical", {"units": [{"unit": "xa-z", "name": "Z", "total": "1e3"}]}),
        ("invalid_past_score", {"units": [{"unit": "xa-z", "name": "Z", "total": "-1"}]}),
        ("invalid_decimal", {"units": [{"unit": "xa-z", "name": "Z", "total": "bảy mươi"}]}),
        ("invalid_leaf", {"units": [{"unit": "xa-z", "name": "Z", "scores": {"../x": "1"}}]}),
        ("invalid_unit", {"units": [{"unit": "xa-z", "name": "Z"}]}),  # no figure
        ("invalid_rank", {"units": [{"unit": "xa-z", "name": "Z", "rank": 0}]}),
        ("control_character", {"units": [{"unit": "xa-z", "name": HOSTILE, "rank": 1}]}),
        ("duplicate_unit", {"units": [{"unit": "xa-z", "name": "Z", "rank": 1}] * 2}),
    ],
)
def test_a_bad_import_is_refused_naming_the_field_and_writes_nothing(years, code, changes):
    _refused(years.env, code, "import_past_results", **_import(**changes))


def test_a_cycle_cannot_open_on_a_past_cycles_code(years):
    _refused(
        years.env,
        "cycle_exists",
        "open_cycle",
        cycle="k2023",
        name="x",
        framework="thai-nguyen-2021-commune@1",
        year=2023,
        authority="dong-hy",
        province="thai-nguyen",
        units=[{"code": "xa-a", "name": "Xã A"}],
    )


def test_only_an_admin_imports_or_links(years):
    _refused_by = years.u.council
    for type_, fields in (
        ("import_past_results", _import(units=[{"unit": "xa-z", "name": "Z", "rank": 1}])),
        ("link_previous_cycle", {"cycle": "c2024", "previous": "k2023", "reason": "x"}),
    ):
        before = Written.read(years.env.app)
        with pytest.raises(DomainError) as e:
            years.env.send(command(_refused_by, type_, **fields), _refused_by)
        assert e.value.status == 403, e.value
        assert Written.read(years.env.app) == before


def test_verify_replays_the_imports_and_the_links(years):
    years.env.checkpoint()
    report = verify(StoreSource(years.env.app.tlog), log_key=years.env.log_key, workers=1)
    assert report.findings == []


# -- on a deployment of its own: the changes and the forgeries ---------------------------
@pytest.fixture
def small(tmp_path: Path) -> Iterator[Env]:
    env = make_env(tmp_path, None)
    open_cycle(env, "c2025", units=(U,), year=2025)
    yield env
    env.app.close()


def test_a_reimport_with_a_reason_replaces_the_figure_and_keeps_both_files(small, tmp_path):
    small.send(command(small.admin, "import_past_results", **PAST))
    fixed = _import(
        source={"file_name": "PL2-2023-dinh-chinh.xlsx", "sha256": SHA_2023_FIX},
        units=[{"unit": U, "name": "Xã A", "total": "78.5"}],
        reason="Quyết định đính chính số 12/QĐ-UBND",
    )
    small.send(command(small.admin, "import_past_results", **fixed))
    past = small.app.get(PastCycle.create_id("k2023"), for_update=False)
    assert past.results[U]["total"] == "78.5"
    assert past.results[U]["scores"]["1.1.1"] == "0.75"  # kept: not restated
    assert past.results[U]["sources"] == (SHA_2023, SHA_2023_FIX)
    assert [i["reason"] for i in past.imports] == [None, fixed["reason"]]
    small.checkpoint()
    assert verify(StoreSource(small.app.tlog), workers=1).findings == []


def _findings(env: Env) -> set[tuple[str, int]]:
    report = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=1)
    return {(f.kind, f.position.get("leaf_index")) for f in report.findings}


def test_an_operator_who_edits_a_link_or_an_import_is_reported(small):
    small.send(command(small.admin, "import_past_results", **PAST))
    link = small.send(
        command(small.admin, "link_previous_cycle", cycle="c2025", previous="k2023", reason="x")
    )["log_index"]
    op = Operator(small)
    # the map no one signed: this year's 1.1.2 shown with last year's 1.1.1
    op.rewrite(link, lambda state: state.update(code_map={"1.1.2": "1.1.1"}))
    op.reseal()
    assert any(leaf == link for _kind, leaf in _findings(small))


def test_an_import_copied_onto_another_past_cycle_is_reported(small):
    first = small.send(command(small.admin, "import_past_results", **PAST))["log_index"]
    other = _import(cycle="k2022", year=2022, name="Năm 2022")
    small.send(command(small.admin, "import_past_results", **other))
    op = Operator(small)
    forged = op.append_copy(first, onto=PastCycle.create_id("k2022"))
    op.reseal()
    assert any(leaf == forged for _kind, leaf in _findings(small))


def test_an_import_replayed_is_reported(small):
    first = small.send(command(small.admin, "import_past_results", **PAST))["log_index"]
    op = Operator(small)
    forged = op.append_copy(first)
    op.reseal()
    assert any(leaf == forged for _kind, leaf in _findings(small))


# -- documents: the previous year's column, proven like the rest ---------------------
def _document(y: Years, tmp: Path, kind: str, cycle: str, subject: str, fmt: str):
    from application.documents import export
    from interfaces.documents import files

    doc = export.make(y.env.app, kind, cycle, subject)
    path = tmp / f"{kind}-{cycle}-{subject}.{fmt}"
    files.write(doc, path)
    return doc, files.read(path), path


def _verify_document(path: Path, capsys, *source: str) -> tuple[int, dict]:
    import json

    from interfaces.cli.main import main

    capsys.readouterr()
    code = main(["verify-document", str(path), *source, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_a_scoring_sheet_shows_last_years_score_as_the_api_does(years, tmp_path, capsys, fmt):
    from decimal import Decimal

    doc, back, path = _document(years, tmp_path, "scoring_sheet", "c2025", U, fmt)
    assert [c.heading for c in back.columns][2:4] == ["Điểm tối đa", "Điểm thẩm định năm trước"]
    rows = dict(back.rows)
    api = _scores(years, "c2025", U)
    for node in api["nodes"]:
        shown = rows[node["label"] or node["code"]].get("previous")
        expected = node["previous_appraised"]
        assert shown == (None if expected is None else Decimal(expected)), node["code"]
    assert rows["TỔNG ĐIỂM"]["previous"] == Decimal(api["previous"]["total"])
    assert any("kỳ c2024 (năm 2024), phiên bản xếp hạng 1 đã công bố" in t for t in back.title)
    code, result = _verify_document(path, capsys, "--data-dir", str(years.env.data_dir))
    assert (code, result["differences"]) == (0, [])


def test_an_imported_previous_year_names_its_files_hash_on_the_sheet(years, tmp_path):
    from decimal import Decimal

    _doc, back, _path = _document(years, tmp_path, "scoring_sheet", "c2024", U, "xlsx")
    rows = dict(back.rows)
    assert rows["TỔNG ĐIỂM"]["previous"] == Decimal("78.046")
    line = next(t for t in back.title if t.startswith("Năm trước"))
    assert "nhập từ bảng kết quả đã công bố" in line and SHA_2023 in line


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_the_ranking_table_shows_last_years_total_and_rank(years, tmp_path, capsys, fmt):
    from decimal import Decimal

    _doc, back, path = _document(years, tmp_path, "ranking_table", "c2024", "1", fmt)
    rows = dict(back.rows)
    assert (rows[U]["previous_total"], rows[U]["previous_rank"]) == (Decimal("78.046"), 2)
    # xa-b did not submit in 2024; its 2023 figures still show beside it
    assert (rows[OTHER]["previous_total"], rows[OTHER]["previous_rank"]) == (Decimal(70), 5)
    code, result = _verify_document(path, capsys, "--data-dir", str(years.env.data_dir))
    assert (code, result["differences"]) == (0, [])


@pytest.mark.parametrize("unit", [U, "xa-moi"])  # xa-moi: through the unit map
def test_verify_document_from_a_bundle_reads_the_previous_cycle_too(years, tmp_path, capsys, unit):
    from application.audit.bundle import export_bundle

    _doc, _back, path = _document(years, tmp_path, "scoring_sheet", "c2025", unit, "xlsx")
    bundle = tmp_path / "audit.jsonl"
    app = years.env.app
    export_bundle(app.tlog, bundle, log_key=years.env.log_key, origin=app.settings.origin)
    code, result = _verify_document(path, capsys, str(bundle))
    assert (code, result["differences"], result["recompute_error"]) == (0, [], None)


def test_a_forged_previous_year_cell_is_reported(years, tmp_path, capsys):
    import openpyxl

    _doc, back, path = _document(years, tmp_path, "scoring_sheet", "c2025", U, "xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    column = next(
        c.column for c in sheet[_header_row(sheet)] if c.value == "Điểm thẩm định năm trước"
    )
    row = next(r for r in sheet.iter_rows() if r[0].value == "1.1.1")
    sheet.cell(row[0].row, column, 1)  # last year "looked" better: 1 instead of 0.5
    book.save(path)
    code, result = _verify_document(
        path, capsys, "--data-dir", str(years.env.data_dir), "--cells-only"
    )
    assert code == 1
    assert {
        "row": "1.1.1",
        "column": "Điểm thẩm định năm trước",
        "document": "1",
        "log": "0.5",
    } in (result["differences"])


def _header_row(sheet) -> int:
    return next(r[0].row for r in sheet.iter_rows() if r[0].value == "STT")


def test_a_ranking_version_read_carries_last_years_total_beside_each_line(years):
    for path in ("/api/v1/cycles/c2024/rankings/1", "/api/v1/public/cycles/c2024/rankings/1"):
        key = None if "public" in path else years.u.council
        doc = years.http.get(path, key).get_json()
        lines = {x["unit"]: x for x in [*doc["ranked"], *doc["unranked"]]}
        assert lines[U]["previous"] == {"unit": U, "total": "78.046", "rank": 2}
        assert doc["previous"]["cycle"] == "k2023" and doc["previous"]["imported"] is True
    # the link came after the version was published: as of then, none
    version = years.http.get("/api/v1/cycles/c2024/rankings", years.u.council).get_json()
    published = version["versions"][0]["published"]["leaf_index"]
    doc = years.http.get(
        f"/api/v1/cycles/c2024/rankings/1?as_of={published}", years.u.council
    ).get_json()
    assert doc["previous"] is None


def test_a_log_changed_between_the_two_reads_is_reported(years):
    """A reader of records that needs last year's events reads the log again:
    an operator who swaps an event between the two reads cannot pass it off."""
    from application.audit.bundle import StoreSource
    from application.documents.recompute import RecordsLog, recompute

    app = years.env.app
    size = app.tlog.size()
    reads = []

    def records():
        reads.append(1)
        for index, hash_, oid, version, topic, state in StoreSource(app.tlog).records():
            if len(reads) > 1 and index == years.leaves["link_2024"]:
                state = bytes(state).replace(b"k2023", b"k2022")
            yield index, hash_, oid, version, topic, state

    log = RecordsLog(records, size, "scoring_sheet", "c2025", "xa-moi")
    with pytest.raises(DomainError) as e:
        recompute(log, "scoring_sheet", "c2025", "xa-moi")
    assert e.value.code == "log_changed" and len(reads) == 2


def test_an_import_under_a_code_nobody_signed_is_reported(small):
    """The operator renames the past cycle in the stored event (the signed
    command still names k2023): verify reports that event."""
    leaf = small.send(command(small.admin, "import_past_results", **PAST))["log_index"]
    op = Operator(small)
    op.rewrite(leaf, lambda state: state.update(cycle="k2021"))
    op.reseal()
    assert any(found == leaf for _kind, found in _findings(small))
