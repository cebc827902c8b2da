"""Appendix I and II as Excel and Word files (issue 10): what a council hands
its province and each commune, checked against the log by `verify-document`.

The season is tests/oversight_season.py: one commune appraised in two rounds
with a reason a hostile appraiser typed as a formula, closed, published,
corrected after publication and republished (version 2); another that withdrew and never
submitted again.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from application.audit.bundle import export_bundle
from application.deployment import log_verifier_key
from application.documents import export
from application.documents.model import differences
from domain.errors import DomainError
from interfaces.cli.main import main
from interfaces.documents import files
from interfaces.documents.numbers import vi
from projections.follower import Follower
from projections.queries import Queries
from projections.store import PrivateModel
from tests.log_operator import Operator
from tests.oversight_season import HOSTILE, OTHER, U, play
from tests.support import Env

FORMATS = ("xlsx", "docx")


@pytest.fixture
def season(env: Env):
    played = play(env)
    # the correction republished: ranking version 2
    env.season_end("c", played.unit.council, played.approver, close=False)
    return played


def _queries(env: Env, tmp_path: Path) -> Queries:
    model = PrivateModel(tmp_path / "read.sqlite")
    Follower(env.app, model).catch_up()
    return Queries(model)


def _written(env: Env, tmp_path: Path, kind: str, subject: str, fmt: str):
    doc = export.make(env.app, kind, "c", subject)
    path = tmp_path / f"{kind}-{subject}.{fmt}"
    files.write(doc, path)
    return doc, path


def _verify(env: Env, path: Path, capsys, *source: str) -> tuple[int, dict]:
    capsys.readouterr()
    where = list(source) or ["--data-dir", str(env.data_dir)]
    code = main(["verify-document", str(path), *where, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_scoring_sheet_read_back_shows_what_the_api_shows(env, season, tmp_path, fmt):
    doc, path = _written(env, tmp_path, "scoring_sheet", U, fmt)
    back = files.read(path)
    assert differences(back, doc) == []
    assert back.proof == doc.proof
    rows = dict(back.rows)
    api = _queries(env, tmp_path).unit_scores("c", U)
    assert len(api["nodes"]) == 155
    for node in api["nodes"]:
        row = rows[node["label"] or node["code"]]
        assert row["title"] == node["title"]
        assert row["max"] == Decimal(node["max_points"])
        assert row["self"] == _number(node["self_score"]), node["code"]
        assert row["appraised"] == _number(node["appraised_score"]), node["code"]
        assert row["lost"] == _number(node["points_lost"]), node["code"]
        assert row["percent"] == Decimal(node["display"]["percentage"]), node["code"]
    total = rows["TỔNG ĐIỂM"]
    assert total["appraised"] == Decimal(api["appraised_total"]) == Decimal("0.625")
    assert total["self"] == Decimal(api["self_total"])
    assert rows["XẾP LOẠI"]["appraised"] == api["band"]["vi"] == "Yếu"
    # Two rounds: 1.1.1 adjusted in round 1, 1.2.1 flagged and re-appraised in round 2.
    assert (rows["1.1.1"]["round1"], rows["1.1.1"].get("round2")) == (Decimal("0.25"), None)
    assert (rows["1.2.1"].get("round1"), rows["1.2.1"]["round2"]) == (None, Decimal("0.375"))
    assert "Yêu cầu: Đề nghị bổ sung kế hoạch?" in rows["1.2.1"]["explanation"]
    assert "Giải trình: Đã bổ sung kế hoạch." in rows["1.2.1"]["explanation"]
    # A correction after publication shows beside the round's confirmation.
    assert rows["1.1.2"]["appraised"] == Decimal(0)
    assert "Vòng 1: giữ nguyên điểm tự đánh giá" in rows["1.1.2"]["review"]
    assert "Đính chính" in rows["1.1.2"]["review"]
    assert "Số 02/KL-TTr" in rows["1.1.2"]["evidence"]
    # The hostile reason is kept as typed (the line break included), as text.
    assert HOSTILE.replace('"', "") in rows["1.1.1"]["review"].replace('"', "")


def test_hostile_text_in_a_sheet_stays_text_in_excel(env, season, tmp_path):
    from openpyxl import load_workbook

    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    sheet = load_workbook(path).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    hostile = [c for c in cells if "HYPERLINK" in c.value]
    assert hostile and all(c.data_type == "s" for c in hostile)
    assert not [c for c in cells if c.data_type == "f"]


def test_the_excel_sheet_is_set_up_for_printing(env, season, tmp_path):
    from openpyxl import load_workbook

    doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = len(doc.title) + 2
    assert sheet.cell(header, 1).value == "STT"
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.print_title_rows == f"${header}:${header}"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
    assert str(doc.proof.size) in sheet.oddFooter.left.text
    # Points are numbers Excel can sum, not text.
    leaf = next(r for r in sheet.iter_rows() if r[0].value == "1.1.1")
    assert isinstance(leaf[2].value, int | float)
    assert book.sheetnames == ["Phụ lục I", "Chứng thực"]


def test_the_word_table_repeats_its_header_on_every_page(env, season, tmp_path):
    import docx
    from docx.oxml.ns import qn

    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "docx")
    word = docx.Document(str(path))
    section = word.sections[0]
    assert section.page_width > section.page_height  # landscape
    assert round(section.page_width.mm) == 297
    first = word.tables[0].rows[0]._tr
    assert first.trPr.find(qn("w:tblHeader")) is not None
    assert "verify-document" in section.footer.paragraphs[0].text
    # Numbers written as Vietnamese readers write them.
    row = next(r for r in word.tables[0].rows if r.cells[0].text == "1.2.1")
    assert "0,375" in [c.text for c in row.cells]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_ranking_table_read_back_shows_each_version_as_the_api_does(env, season, tmp_path, fmt):
    q = _queries(env, tmp_path)
    for version in ("1", "2"):
        doc, path = _written(env, tmp_path, "ranking_table", version, fmt)
        back = files.read(path)
        assert differences(back, doc) == []
        api = q.ranking_version("c", int(version))
        rows = dict(back.rows)
        for line in api["ranked"]:
            row = rows[line["unit"]]
            assert row["appraised"] == Decimal(line["appraised_total"])
            assert row["self"] == Decimal(line["self_total"])
            assert row["rank"] == Decimal(line["rank"])
        decision = api["decision"]
        day = decision["date"]
        assert f"Quyết định số {decision['number']} ngày {day[8:]}/{day[5:7]}/{day[:4]}" in (
            " ".join(back.title)
        )
        # The unit that never submitted is listed apart, never ranked as 0.
        assert rows[OTHER]["note"] == "Chưa nộp bản tự đánh giá"
        assert rows[OTHER].get("rank") is None
    assert dict(files.read(tmp_path / f"ranking_table-1.{fmt}").rows)[U]["appraised"] == Decimal(
        "1.625"
    )
    assert dict(files.read(tmp_path / f"ranking_table-2.{fmt}").rows)[U]["appraised"] == Decimal(
        "0.625"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_document_passes_a_true_document(env, season, tmp_path, fmt, capsys):
    _doc, path = _written(env, tmp_path, "scoring_sheet", U, fmt)
    code, out = _verify(env, path, capsys)
    assert (code, out["ok"], out["differences"], out["log"]["findings"]) == (0, True, [], [])
    bundle = tmp_path / "audit.jsonl.gz"
    export_bundle(env.app.tlog, bundle, log_key=log_verifier_key(env.app), origin="x")
    code, out = _verify(env, path, capsys, str(bundle), "--log-key", env.log_key)
    assert (code, out["ok"], out["differences"]) == (0, True, [])


def _change_cell_xlsx(path: Path, row_key: str, column: int, value) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    row = next(r for r in book.worksheets[0].iter_rows() if r[0].value == row_key)
    row[column].value = value
    book.save(path)


def _change_cell_docx(path: Path, row_key: str, column: int, value: str) -> None:
    import docx

    word = docx.Document(str(path))
    row = next(r for r in word.tables[0].rows if r.cells[0].text == row_key)
    paragraph = row.cells[column].paragraphs[0]
    for run in paragraph.runs:
        run.text = ""
    paragraph.add_run(value)
    word.save(str(path))


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_document_names_the_cell_that_was_changed(env, season, tmp_path, fmt, capsys):
    doc, path = _written(env, tmp_path, "scoring_sheet", U, fmt)
    appraised = [c.id for c in doc.columns].index("appraised")
    if fmt == "xlsx":
        _change_cell_xlsx(path, "1.1.1", appraised, 1)
    else:
        _change_cell_docx(path, "1.1.1", appraised, "1")
    code, out = _verify(env, path, capsys)
    assert code == 1 and not out["ok"]
    assert out["log"]["findings"] == []  # the log is sound; the file is not
    assert out["differences"] == [
        {"row": "1.1.1", "column": "Điểm thẩm định", "document": "1", "log": "0.25"}
    ]


def test_verify_document_names_a_changed_rank_and_decision(env, season, tmp_path, capsys):
    doc, path = _written(env, tmp_path, "ranking_table", "1", "docx")
    import docx

    word = docx.Document(str(path))
    for p in word.paragraphs:
        if "Quyết định số" in p.text:
            for run in p.runs:
                run.text = run.text.replace("Quyết định số", "Quyết định số 99")
    word.save(str(path))
    _change_cell_docx(path, "1", [c.id for c in doc.columns].index("rank"), "2")
    code, out = _verify(env, path, capsys)
    assert code == 1
    where = {(d["row"], d["column"]) for d in out["differences"]}
    assert (U, "Xếp hạng") in where
    assert (None, "tiêu đề dòng 4") in where


def test_a_document_whose_proof_was_edited_is_refused(env, season, tmp_path, capsys):
    from openpyxl import load_workbook

    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    book = load_workbook(path)
    proof = book["Chứng thực"]
    size_row = next(r for r in proof.iter_rows() if r[0].value.startswith("Kích thước cây"))
    size_row[1].value = str(int(size_row[1].value) - 5)
    book.save(path)
    code, out = _verify(env, path, capsys)
    assert code == 1
    assert "tree size" in out["proof_mismatch"]


def test_a_checkpoint_signed_by_another_key_is_reported(env, season, tmp_path, capsys):
    from openpyxl import load_workbook

    from application.transparency import note

    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    book = load_workbook(path)
    proof = book["Chứng thực"]
    note_row = next(r for r in proof.iter_rows() if r[0].value.startswith("Điểm kiểm tra"))
    body = note_row[1].value.split("\n\n", 1)[0] + "\n"
    other = note.parse_signer_key(
        note.format_signer_key("parindex.local/par-index", _private_key())
    )
    note_row[1].value = note.sign_note(body, [other])
    book.save(path)
    code, out = _verify(env, path, capsys)
    assert code == 1
    assert "checkpoint_bad_signature" in {f["kind"] for f in out["log"]["findings"]}


def _private_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def test_a_document_from_a_forged_log_is_not_passed(env, season, tmp_path, capsys):
    """The operator rewrites the appraiser's adjustment of 1.1.1 (0.25 -> 1),
    re-hashes the log and re-signs its checkpoints with the real log key; the
    document they export then agrees with the forged log cell for cell. Only
    replaying the signed commands tells: verify-document must not pass it."""
    op = Operator(env)
    leaf = next(
        e.leaf_index
        for e in env.app.tlog.iter_events()
        if e.topic.endswith("ScoreAdjusted") and json.loads(e.state)["leaf"] == "1.1.1"
    )
    op.rewrite(leaf, lambda state: state.update(points="1"))
    op.reseal()
    env.reopen()
    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    assert dict(files.read(path).rows)["1.1.1"]["round1"] == Decimal(1)
    code, out = _verify(env, path, capsys)
    assert code == 1 and not out["ok"]
    assert out["differences"] == []
    assert leaf in {f["position"].get("leaf_index") for f in out["log"]["findings"]}


def test_a_file_without_a_proof_is_reported(env, season, tmp_path, capsys):
    from openpyxl import Workbook

    path = tmp_path / "tu-lam.xlsx"
    book = Workbook()
    book.active.append(["STT", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần"])
    book.save(path)
    code, out = _verify(env, path, capsys)
    assert code == 1 and out["problem"] == "document_unproven"


@pytest.mark.parametrize(
    "name, content",
    [
        ("khong-phai.xlsx", b"not a zip at all"),
        ("khong-phai.docx", b"PK\x03\x04 truncated"),
        ("bang.csv", b"STT,Ten\n"),
    ],
)
def test_a_file_that_is_no_document_gets_a_clear_error(env, tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    capsys.readouterr()
    code = main(["verify-document", str(path), "--data-dir", str(env.data_dir)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and "Lỗi [" in err


def test_a_zip_bomb_named_docx_is_refused_before_it_is_opened(env, tmp_path, capsys):
    import zipfile

    path = tmp_path / "bom.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<a>" + b"<b/>" * 3_000_000 + b"</a>")
    capsys.readouterr()
    code = main(["verify-document", str(path), "--data-dir", str(env.data_dir)])
    assert code == 1
    assert "xlsx_" in capsys.readouterr().err


def test_asking_for_a_unit_or_version_the_log_lacks_writes_nothing(env, season, tmp_path, capsys):
    out = tmp_path / "x.xlsx"
    code = main(
        [
            "document",
            "sheet",
            "--cycle",
            "c",
            "--unit",
            "../../etc/passwd",
            "--out",
            str(out),
            "--data-dir",
            str(env.data_dir),
        ]
    )
    assert code == 1 and not out.exists()
    assert "unit_not_found" in capsys.readouterr().err
    code = main(
        ["document", "ranking", "--cycle", "c", "--version", "9", "--out", str(out)]
        + ["--data-dir", str(env.data_dir)]
    )
    assert code == 1 and not out.exists()
    code = main(
        ["document", "sheet", "--cycle", "c", "--unit", U, "--out", str(tmp_path / "x.pdf")]
        + ["--data-dir", str(env.data_dir)]
    )
    assert code == 1 and not (tmp_path / "x.pdf").exists()
    assert "unsupported_format" in capsys.readouterr().err


def test_a_unit_that_never_submitted_has_no_appraised_figures(env, season, tmp_path):
    doc = export.make(env.app, "scoring_sheet", "c", OTHER)
    rows = dict(doc.rows)
    assert "Chưa nộp" in doc.title[-1]
    assert rows["TỔNG ĐIỂM"].get("appraised") is None
    assert "XẾP LOẠI" not in rows


def test_numbers_are_written_as_vietnamese_readers_write_them():
    assert vi(Decimal("78.046")) == "78,046"  # the precision the value has, never rounded
    assert vi(Decimal("10.00")) == "10"
    assert vi(Decimal("12.5"), 2) == "12,50"
    with pytest.raises(DomainError):
        files.format_of(Path("a.pdf"))


def test_a_document_can_require_a_witness_s_cosignature(env, season, tmp_path, capsys):
    """With --witness, the document's own checkpoint must carry that witness's
    cosignature: a document from a log nobody independent has seen is refused."""
    from application.config import Settings
    from application.transparency.witness_client import ask_for_latest
    from application.transparency.witness_home import init_witness, open_witness
    from interfaces.witness.app import create_witness_app

    def witness(name: str):
        home = tmp_path / name.replace("/", "_")
        init_witness(home, name, [env.log_key])
        return open_witness(home)

    trusted, stranger = witness("mttq.example.vn/witness"), witness("other.example/witness")
    client = create_witness_app(trusted).test_client()

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        r = client.post("/add-checkpoint", data=body)
        return r.status_code, r.get_data()

    settings = Settings.load(env.data_dir)
    settings.witnesses = [{"url": "http://w.test", "vkey": trusted.cosigner.verifier().vkey}]
    settings.save()
    env.reopen()
    env.register()  # the log grows: a new checkpoint for the witness to cosign
    _checkpoint, answers = ask_for_latest(env.app, post)
    assert answers[0].status == "cosigned"
    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    vkey = trusted.cosigner.verifier().vkey
    code, out = _verify(env, path, capsys, "--data-dir", str(env.data_dir), "--witness", vkey)
    assert code == 0 and out["witnesses"] == {
        "required": 1,
        "cosigned": ["mttq.example.vn/witness"],
    }
    other = stranger.cosigner.verifier().vkey
    code, out = _verify(env, path, capsys, "--data-dir", str(env.data_dir), "--witness", other)
    assert code == 1 and out["witnesses"]["cosigned"] == []


def test_what_a_reader_skips_still_fails_the_check(env, season, tmp_path, capsys):
    """A number format that prints 0.25 as "1", or a forged sheet shown in front
    of the true one (hidden): the values read are the log's, but the file is not
    what parindex wrote, and verify-document says which parts differ."""
    from openpyxl import load_workbook

    doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    appraised = [c.id for c in doc.columns].index("appraised")
    book = load_workbook(path)
    row = next(r for r in book.worksheets[0].iter_rows() if r[0].value == "1.1.1")
    row[appraised].number_format = '"1"'
    book.save(path)
    code, out = _verify(env, path, capsys)
    assert code == 1 and out["differences"] == [] and out["log"]["findings"] == []
    assert "xl/styles.xml" in out["altered_parts"]

    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    book = load_workbook(path)
    true_sheet = book.worksheets[0]
    forged = book.copy_worksheet(true_sheet)
    next(r for r in forged.iter_rows() if r[0].value == "1.1.1")[appraised].value = 1
    true_sheet.sheet_state = "hidden"
    book.active = book.index(forged)
    book.save(path)
    code, out = _verify(env, path, capsys)
    assert code == 1 and out["differences"] == [] and out["altered_parts"]


def test_a_file_saved_again_is_checked_cell_by_cell_with_cells_only(env, season, tmp_path, capsys):
    """Opened and saved again (here by openpyxl, as Excel would rewrite it), a
    true document is no longer the file parindex wrote; --cells-only still
    compares every cell with the log, and says what it did not check."""
    from openpyxl import load_workbook

    _doc, path = _written(env, tmp_path, "ranking_table", "2", "xlsx")
    load_workbook(path).save(path)
    code, out = _verify(env, path, capsys)
    assert code == 1 and out["differences"] == [] and out["altered_parts"]
    code, out = _verify(env, path, capsys, "--data-dir", str(env.data_dir), "--cells-only")
    assert code == 0 and out["altered_parts"] is None
    capsys.readouterr()
    main(["verify-document", str(path), "--data-dir", str(env.data_dir), "--cells-only"])
    assert "--cells-only" in capsys.readouterr().out


def test_a_document_the_log_has_since_moved_past_is_true_and_says_so(env, season, tmp_path, capsys):
    """Version 1's table, made before the correction was republished, stays true
    of its checkpoint; verify-document passes it and notes that, at the log's
    head, the cycle has a newer version."""
    _doc, path = _written(env, tmp_path, "scoring_sheet", U, "xlsx")
    u = season.unit
    u.send(
        u.appraiser,
        "correct_score",
        leaf="1.2.1",
        points="0.5",
        reason="Phúc tra",
        evidence_ids=["ev-tt-01"],
    )
    code, out = _verify(env, path, capsys)
    assert code == 0
    newer = out["newer_log"]
    assert newer["size"] > out["document"]["size"]
    assert {(d["row"], d["column"]) for d in newer["differences"]} >= {("1.2.1", "Điểm thẩm định")}
    later = export.make(env.app, "ranking_table", "c", "1")
    assert later.title[-1] == "Đã có phiên bản xếp hạng mới hơn: phiên bản 2"


def test_a_sheet_declares_a_merged_unit_and_sums_nothing_for_no_scores(env, tmp_path):
    from tests.season_unit import Unit
    from tests.support import command

    Unit.open(env, cycle="m", unit="xa-a")
    env.send(
        command(
            env.admin,
            "merge_units",
            cycle="m",
            units=["xa-a", "xa-b"],
            into={"code": "xa-ab", "name": "Xã AB"},
            reason="Sáp nhập",
        )
    )
    doc = export.make(env.app, "scoring_sheet", "m", "xa-a")
    assert "Đã sáp nhập vào đơn vị xa-ab" in doc.title[-1]
    assert all(cells.get("self") is None for _key, cells in doc.rows)


def test_a_workbook_claiming_16384_columns_is_read_in_bounds(tmp_path):
    """The stated dimension is never trusted: a row is read to its own last cell,
    at most 40 cells (a crafted A1:XFD20000 once cost 2.5 GB)."""
    import zipfile

    from interfaces.documents.xlsx_doc import MAX_READ_COLUMNS

    src = tmp_path / "a.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["STT", "x"])
    book.active.cell(20000, 1, "1")
    book.save(src)
    out = tmp_path / "b.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b'<dimension ref="A1:B20000"/>', b'<dimension ref="A1:XFD20000"/>'
                )
                assert b"XFD20000" in data
            zout.writestr(item, data)
    doc = files.read(out)
    assert len(doc.columns) <= MAX_READ_COLUMNS and len(doc.rows) == 1
