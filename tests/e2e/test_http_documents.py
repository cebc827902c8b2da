"""Appendix I and II over HTTP (docs/API.md, "Documents"): signed for a unit's
sheet and any ranking version, without a key for a published version's table;
each file is what `parindex verify-document` passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.documents import export
from application.documents.model import differences
from interfaces.cli.main import main
from interfaces.documents import files
from tests.e2e.http_support import Http, World, assert_problem, flask_client, make_world
from tests.oversight_season import OTHER, Played, U, play

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SHEET = "/api/v1/cycles/c/units/{unit}/documents/scoring-sheet.{fmt}"
TABLE = "/api/v1/cycles/c/rankings/{version}/documents/ranking-table.{fmt}"
PUBLIC = "/api/v1/public/cycles/c/rankings/{version}/documents/ranking-table.{fmt}"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("documents"))
    try:
        yield w
    finally:
        w.env.app.close()


@pytest.fixture(scope="module")
def played(world) -> Played:
    p = play(world.env, cycle="c")
    # Version 2 after the correction, then a proposal nobody approved yet (version 3).
    world.env.season_end("c", p.unit.council, p.approver, close=False)
    world.env.season_end("c", p.unit.council, p.approver, "proposed", close=False)
    return p


@pytest.fixture(scope="module")
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client


def _saved(resp, tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"got.{fmt}"
    path.write_bytes(resp.data)
    return path


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_a_units_sheet_over_http_is_the_log_s_and_checks_offline(
    world, played, http, tmp_path, fmt, capsys
):
    observer = world.key("observer", "*")
    resp = http.get(SHEET.format(unit=U, fmt=fmt), observer)
    assert resp.status_code == 200
    assert resp.mimetype == MEDIA[fmt]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    path = _saved(resp, tmp_path, fmt)
    back = files.read(path)
    assert differences(back, export.make(world.app, "scoring_sheet", "c", U)) == []
    assert back.proof.size == int(resp.headers["X-Parindex-Tree-Size"])
    capsys.readouterr()
    assert main(["verify-document", str(path), "--data-dir", str(world.env.data_dir)]) == 0
    assert "KẾT QUẢ: tài liệu khớp với nhật ký." in capsys.readouterr().out


def test_a_units_sheet_needs_a_key_that_reaches_the_unit(world, played, http):
    assert_problem(http.get(SHEET.format(unit=U, fmt="xlsx")), 401, "signature_required")
    neighbour = played.other.officer  # commune:xa-b
    resp = http.get(SHEET.format(unit=U, fmt="xlsx"), neighbour)
    assert resp.status_code in (403, 404) and resp.mimetype == "application/problem+json"
    own = http.get(SHEET.format(unit=OTHER, fmt="xlsx"), neighbour)
    assert own.status_code == 200


def test_ranking_tables_signed_for_any_version_public_only_once_published(world, played, http):
    observer = world.key("observer", "*")
    for version in (1, 2, 3):
        assert http.get(TABLE.format(version=version, fmt="docx"), observer).status_code == 200
    for version in (1, 2):
        resp = http.get(PUBLIC.format(version=version, fmt="xlsx"))
        assert resp.status_code == 200 and resp.mimetype == MEDIA["xlsx"]
    # Version 3 is proposed, not approved: not public, and not there to guess at.
    assert_problem(http.get(PUBLIC.format(version=3, fmt="xlsx")), 404, "version_not_found")
    assert_problem(http.get(PUBLIC.format(version=99, fmt="xlsx")), 404, "version_not_found")


def test_the_same_log_gives_the_same_file(world, played, http):
    first = http.get(PUBLIC.format(version=1, fmt="docx"))
    again = http.get(PUBLIC.format(version=1, fmt="docx"))
    assert first.data == again.data


def test_a_new_event_gives_a_file_at_the_new_checkpoint(world, played, http, tmp_path):
    before = http.get(PUBLIC.format(version=1, fmt="xlsx"))
    world.key("observer", "*", name="Một khóa mới")  # one more event in the log
    after = http.get(PUBLIC.format(version=1, fmt="xlsx"))
    assert int(after.headers["X-Parindex-Tree-Size"]) > int(before.headers["X-Parindex-Tree-Size"])


@pytest.mark.parametrize(
    "path",
    [
        SHEET.format(unit=U, fmt="pdf"),
        SHEET.format(unit="..%2F..%2Fetc", fmt="xlsx"),
        SHEET.format(unit="x" * 300, fmt="docx"),
        PUBLIC.format(version=0, fmt="xlsx"),
        PUBLIC.format(version="99999999999999999999", fmt="xlsx"),
        "/api/v1/public/cycles/khong-co/rankings/1/documents/ranking-table.xlsx",
    ],
)
def test_hostile_paths_get_a_clear_404(world, played, http, path):
    observer = world.key("observer", "*")
    resp = http.get(path, observer)
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"


def test_a_burst_of_asks_for_one_file_makes_it_once(world, played, http, monkeypatch):
    """Anyone may ask for a published table, and making one costs seconds at
    scale: asks that arrive together wait for one making and share its file."""
    import threading
    import time

    from application.documents import export as export_module
    from interfaces.http.views import documents as view

    made = []
    real = export_module.make

    def slow(*args, **kwargs):
        made.append(args[1:])
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(view.export, "make", slow)
    view._MADE.clear()
    world.key("observer", "*", name="Khóa cho lượt mới")  # a new head: nothing kept for it
    flask = http.client.application
    codes: list[int] = []

    def ask() -> None:
        codes.append(flask.test_client().get(PUBLIC.format(version=2, fmt="xlsx")).status_code)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 4
    assert made == [("ranking_table", "c", "2")]
