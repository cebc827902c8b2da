"""Evidence file paths: a command names a file only by the hash of bytes uploaded
through the API, a refusal says nothing about any other file, a download serves
nothing but a blob of the store, and a stored file name cannot break its header."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.http import parse_options_header

import application.handlers.assessments as assessment_handlers
from interfaces.http.signing import authorization
from tests.e2e.http_support import (
    CYCLE,
    UNITS,
    Http,
    World,
    assert_problem,
    flask_client,
)
from tests.e2e.key_files import assert_nothing_secret, fill_64, secret_needles, short_world
from tests.support import Written

PDF = b"%PDF-1.4\n% Ke hoach CCHC 2025\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
BASE = f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/evidence"


@pytest.fixture
def world(backend) -> Iterator[World]:
    with short_world(backend) as w:
        yield w


@pytest.fixture
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client


def evidence_files(world: World) -> list[str]:
    root = world.app.evidence.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


# -- hashes aimed at other files -------------------------------------------------------
def planted_hex(world: World, label: str, target: Path, *, as_dir: bool = False) -> str:
    """A hex name inside the evidence folder that is really a symlink to `target`
    (or whose shard folder is a symlink to a folder holding a copy of it)."""
    store = world.app.evidence.root
    store.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256(label.encode()).hexdigest()
    if as_dir:
        outside = world.env.data_dir.parent / "outside"
        outside.mkdir(exist_ok=True)
        shutil.copyfile(target, outside / sha)
        (store / sha[:2]).symlink_to(outside, target_is_directory=True)
    else:
        (store / sha[:2]).mkdir(exist_ok=True)
        (store / sha[:2] / sha).symlink_to(target)
    return sha


def hostile_hashes(world: World, uploaded: str) -> dict[str, tuple[str, str]]:
    """shape -> (file.sha256, the code its refusal carries)."""
    data = world.env.data_dir
    up = f"../{data.name}"  # from evidence/<'..'> = DIR, up one and back in
    log_key = data / "keys" / "log.key"
    assert len(str(log_key)) < 64, "the world's folder must be short"
    bad = "invalid_sha256"
    shapes = {
        "dot-dot to the log key": (fill_64("../", f"{up[3:]}/keys/log.key"), bad),
        "dot-dot to the admin key": (fill_64("../", f"{up[3:]}/keys/admin.key"), bad),
        "dot-dot to parindex.json": (fill_64("../", f"{up[3:]}/parindex.json"), bad),
        "dot-dot to the read model": (fill_64("../", f"{up[3:]}/readmodel.sqlite"), bad),
        "absolute path": (fill_64("", str(log_key), "/"), bad),
        "percent-encoded": (fill_64("%2e%2e%2f", f"{up[3:]}%2fkeys%2flog.key", "%2e%2f"), bad),
        "one dot leader U+2024": (fill_64("\u2024\u2024/", f"{up[3:]}/keys/log.key"), bad),
        "fullwidth dots U+FF0E": (
            fill_64("\uff0e\uff0e\uff0f", f"{up[3:]}\uff0fkeys\uff0flog.key", "\uff0e\uff0f"),
            bad,
        ),
        "backslashes": (fill_64("..\\", f"{up[3:]}\\keys\\log.key", ".\\"), bad),
        "uppercase hex of an uploaded file": (uploaded.upper(), bad),
        "63 characters": (uploaded[:63], bad),
        "65 characters": (uploaded + "0", bad),
        "NUL inside": (uploaded[:32] + "\x00" + uploaded[33:], bad),
        "newline at the end": (uploaded[:63] + "\n", bad),
        "not text": (123, bad),
        "hex never uploaded": ("a" * 64, "evidence_blob_missing"),
        "hex that is a planted symlink to the log key": (
            planted_hex(world, "link", log_key),
            "evidence_blob_missing",
        ),
        "hex under a planted symlinked folder": (
            planted_hex(world, "dir", log_key, as_dir=True),
            "evidence_blob_missing",
        ),
    }
    # A regular file under a hex name whose bytes are not that hash: not an upload.
    forged = hashlib.sha256(b"forged").hexdigest()
    (world.app.evidence.root / forged[:2]).mkdir(exist_ok=True)
    shutil.copyfile(log_key, world.app.evidence.root / forged[:2] / forged)
    shapes["hex naming bytes that are not its hash"] = (forged, "evidence_blob_missing")
    return shapes


def attach(http: Http, world: World, file: dict, evidence_id: str = "ev-x", **kw):
    return http.send(
        world.officer,
        "attach_evidence",
        cycle=CYCLE,
        unit=UNITS[0],
        evidence_id=evidence_id,
        leaves=["1.1.1"],
        file=file,
        **kw,
    )


def upload_pdf(http: Http, world: World) -> dict:
    resp = http.put_blob(PDF, "application/pdf", world.officer)
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


# -- attach_evidence -------------------------------------------------------------------
def test_a_hash_aimed_at_another_file_is_refused_and_says_nothing_about_it(world, http):
    uploaded = upload_pdf(http, world)["sha256"]
    shapes = hostile_hashes(world, uploaded)
    needles = secret_needles(world)
    log_key = world.env.data_dir / "keys" / "log.key"
    before, files_before = Written.read(world.app), evidence_files(world)
    # The attack of the report: a first try, then one with the size and type the
    # first refusal would have revealed.
    guesses = (
        {"size": 1, "media_type": "application/pdf"},
        {"size": log_key.stat().st_size, "media_type": "text/plain"},
    )
    for shape, (sha, code) in shapes.items():
        for guess in guesses:
            resp = attach(http, world, {"sha256": sha, **guess, "filename": "x.pdf"})
            body = assert_problem(resp, 422, "validation_failed")
            assert [(e["code"], e["field"]) for e in body["errors"]] == [(code, "file.sha256")], (
                shape,
                body,
            )
            assert "text/plain" not in resp.get_data(as_text=True), shape
            assert_nothing_secret(resp, needles, shape)
    assert Written.read(world.app) == before
    assert evidence_files(world) == files_before
    assert_problem(http.get(f"{BASE}/ev-x/file", world.officer), 404, "evidence_not_found")


def test_a_malformed_hash_is_explained_in_english_on_request(world, http):
    resp = http.post(
        world.officer.sign(
            {
                "type": "attach_evidence",
                "id": "t-en",
                "issued_at": _now(),
                "actor": world.officer.key_id,
                "cycle": CYCLE,
                "unit": UNITS[0],
                "evidence_id": "ev-x",
                "leaves": ["1.1.1"],
                "file": {"sha256": "../" * 21 + "x", "size": 1, "media_type": "application/pdf"},
            }
        ),
        lang="en",
    )
    body = assert_problem(resp, 422, "validation_failed")
    assert body["errors"][0]["message"] == (
        "sha256 is exactly 64 lowercase hex characters (0-9, a-f)."
    )


def _now() -> str:
    from tests.support import timestamp

    return timestamp()


def test_an_uploaded_file_is_described_by_its_real_size_and_type(world, http):
    blob = upload_pdf(http, world)
    resp = attach(http, world, {**blob, "size": 3, "media_type": "image/png"})
    body = assert_problem(resp, 422, "validation_failed")
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("evidence_size_mismatch", "file.size"),
        ("media_type_mismatch", "file.media_type"),
    }
    assert f"({len(PDF)})" in resp.get_data(as_text=True)
    assert attach(http, world, {**blob, "filename": "ke-hoach.pdf"}).status_code == 201


BAD_NAMES = {
    "line feed": "bao-cao\n.pdf",
    "carriage return and a header": "a.pdf\r\nSet-Cookie: x=1",
    "NUL": "bao-cao\x00.pdf",
    "escape sequence": "\x1b[31mdo.pdf",
    "DEL": "a\x7f.pdf",
    "C1 control": "a\x85.pdf",
    "line separator U+2028": "a\u2028.pdf",
    "right-to-left override": "hoa-don-\u202efdp.exe",
    "slash": "../keys/log.key",
    "absolute path": "/etc/passwd",
    "backslash": "..\\..\\log.key",
    "fullwidth solidus": "a\uff0fb.pdf",
    "dot-dot": "..",
    "dot": ".",
    "one dot leaders": "\u2024\u2024",
    "fullwidth dots": "\uff0e\uff0e",
    "empty": "",
    "256 bytes": "x" * 252 + ".pdf",
    "Vietnamese over 255 bytes": "ả" * 84 + ".pdf",
    "not text": 5,
}


def test_a_file_name_that_is_not_a_plain_name_is_refused(world, http):
    blob = upload_pdf(http, world)
    before = Written.read(world.app)
    for shape, name in BAD_NAMES.items():
        resp = attach(http, world, {**blob, "filename": name})
        body = assert_problem(resp, 422, "validation_failed")
        assert [(e["code"], e["field"]) for e in body["errors"]] == [
            ("invalid_filename", "file.filename")
        ], shape
    assert Written.read(world.app) == before


def test_an_ordinary_file_name_up_to_255_bytes_is_accepted(world, http):
    blob = upload_pdf(http, world)
    names = [
        "Kế hoạch CCHC 2025 (bản ký).pdf",
        "x" * 251 + ".pdf",
        "ả" * 83 + ".pdf",
        'báo cáo; "số 2".pdf',
    ]
    for i, name in enumerate(names):
        resp = attach(http, world, {**blob, "filename": name}, f"ev-{i}")
        assert resp.status_code == 201, (name, resp.get_json())
        item = http.get(f"{BASE}/ev-{i}?position={resp.get_json()['position']}", world.officer)
        assert item.get_json()["file"]["filename"] == name


# -- the download ----------------------------------------------------------------------
def _legacy_attach(monkeypatch, http: Http, world: World, file: dict, evidence_id: str):
    """An EvidenceAttached event as a store written before these rules may hold
    one: the `file` member stored exactly as the client sent it."""
    with monkeypatch.context() as m:
        m.setattr(assessment_handlers, "_file", lambda ctx, problems: ctx.command.get("file"))
        resp = attach(http, world, file, evidence_id)
    assert resp.status_code == 201, resp.get_json()


def test_a_stored_event_aimed_at_the_log_key_downloads_nothing(world, http, monkeypatch):
    upload_pdf(http, world)  # the evidence folder exists, as in any real deployment
    data = world.env.data_dir
    log_key = data / "keys" / "log.key"
    sha = fill_64("../", f"{data.name}/keys/log.key")
    _legacy_attach(
        monkeypatch,
        http,
        world,
        {"sha256": sha, "size": log_key.stat().st_size, "media_type": "text/plain"},
        "ev-old",
    )
    resp = http.get(f"{BASE}/ev-old/file", world.officer)
    assert_problem(resp, 404, "evidence_file_not_found")
    assert_nothing_secret(resp, secret_needles(world), "download")


def test_a_blob_replaced_by_a_symlink_downloads_nothing(world, http):
    blob = upload_pdf(http, world)
    assert attach(http, world, {**blob, "filename": "a.pdf"}).status_code == 201
    path = world.app.evidence.root / PDF_SHA[:2] / PDF_SHA
    path.unlink()
    path.symlink_to(world.env.data_dir / "keys" / "log.key")
    resp = http.get(f"{BASE}/ev-x/file", world.officer)
    assert_problem(resp, 404, "evidence_file_not_found")
    assert_nothing_secret(resp, secret_needles(world), "download")


def test_a_stored_name_with_line_breaks_still_downloads_with_a_safe_header(
    world, http, monkeypatch
):
    blob = upload_pdf(http, world)
    _legacy_attach(
        monkeypatch,
        http,
        world,
        {**blob, "filename": 'Kế hoạch\r\nSet-Cookie: a=b\x00/../x".pdf'},
        "ev-old",
    )
    resp = http.get(f"{BASE}/ev-old/file", world.appraiser)
    assert resp.status_code == 200 and resp.data == PDF
    header = resp.headers["Content-Disposition"]
    assert not set(header) & {"\r", "\n", "\x00"} and "Set-Cookie" not in resp.headers
    assert header == (
        'attachment; filename="Ke hoachSet-Cookie_ a_b_.._x_.pdf"; '
        "filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1chSet-Cookie%3A%20a%3Db_.._x%22.pdf"
    )
    _kind, options = parse_options_header(header)
    assert options["filename"] == 'Kế hoạchSet-Cookie: a=b_.._x".pdf'
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_vietnamese_name_downloads_with_an_ascii_fallback(world, http):
    name = "Báo cáo Đồng Hỷ.pdf"
    assert attach(http, world, {**upload_pdf(http, world), "filename": name}).status_code == 201
    resp = http.get(f"{BASE}/ev-x/file", world.officer)
    header = resp.headers["Content-Disposition"]
    assert header.startswith("attachment; filename=\"Bao cao Dong Hy.pdf\"; filename*=UTF-8''")
    assert parse_options_header(header)[1]["filename"] == name
    assert resp.mimetype == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_stored_media_type_that_is_not_allowed_is_served_as_octet_stream(
    world, http, monkeypatch
):
    blob = upload_pdf(http, world)
    _legacy_attach(monkeypatch, http, world, {**blob, "media_type": "text/html"}, "ev-html")
    resp = http.get(f"{BASE}/ev-html/file", world.officer)
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.mimetype == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{PDF_SHA}"'


def test_a_download_still_answers_ranges_and_if_none_match(world, http):
    assert attach(http, world, {**upload_pdf(http, world)}).status_code == 201
    part = http.get(f"{BASE}/ev-x/file", world.officer, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == PDF[:8]
    cached = http.get(f"{BASE}/ev-x/file", world.officer, headers={"If-None-Match": f'"{PDF_SHA}"'})
    assert cached.status_code == 304 and cached.data == b""


def _signed_get(http: Http, world: World, path: str, key=None):
    from urllib.parse import unquote

    key = key or world.officer
    target = unquote(path)
    return http.client.get(
        path, headers={"Authorization": authorization(key.key_id, key.private, "GET", target)}
    )


URL_TRAVERSALS = [
    f"{BASE}/..%2f..%2f..%2f..%2f..%2fkeys%2flog.key/file",
    f"{BASE}/%2e%2e%2f%2e%2e%2fkeys%2flog.key/file",
    f"{BASE}/%2e%2e/file",
    f"{BASE}/..%5c..%5ckeys%5clog.key/file",
    f"{BASE}/%E2%80%A4%E2%80%A4%2fkeys%2flog.key/file",
    f"{BASE}/%EF%BC%8E%EF%BC%8E%EF%BC%8Fkeys%EF%BC%8Flog.key/file",
    f"{BASE}/%00/file",
    f"{BASE}/{PDF_SHA}/file",
    f"/api/v1/cycles/{CYCLE}/units/..%2f..%2fkeys/evidence/log.key/file",
    "/api/v1/cycles/%2e%2e/units/%2e%2e/evidence/%2e%2e/file",
    f"{BASE}/../../../../keys/log.key",
    f"{BASE}/ev-x/file/../../../../../keys/log.key",
]


def test_a_download_url_aimed_at_another_file_serves_none_of_it(world, http):
    assert attach(http, world, {**upload_pdf(http, world)}).status_code == 201
    needles = secret_needles(world)
    for path in URL_TRAVERSALS:
        resp = _signed_get(http, world, path)
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
        assert_nothing_secret(resp, needles, path)
