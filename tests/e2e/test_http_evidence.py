"""Evidence over HTTP: upload, attach by hash, list, download with its hash as ETag."""

from __future__ import annotations

import hashlib

from interfaces.http.signing import authorization
from tests.e2e.http_support import CYCLE, UNITS, Http, World, assert_problem

PDF = b"%PDF-1.4\n% Ke hoach CCHC 2025\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
BASE = f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/evidence"


def attach(world: World, http: Http, evidence_id: str = "ev-kh", **extra) -> dict:
    blob = http.put_blob(PDF, "application/pdf", world.officer)
    assert blob.status_code == 201, blob.get_json()
    resp = http.send(
        world.officer,
        "attach_evidence",
        cycle=CYCLE,
        unit=UNITS[0],
        evidence_id=evidence_id,
        leaves=["1.1.1", "1.1.2"],
        file={**blob.get_json(), "filename": "ke-hoach.pdf"},
        document={"number": "15/KH-UBND", "date": "2025-01-10", "issuer": "UBND xã"},
        **extra,
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_an_uploaded_file_attached_by_hash_is_listed_and_downloadable(world, http):
    receipt = attach(world, http)

    listing = http.get(f"{BASE}?position={receipt['position']}", world.officer).get_json()
    [item] = listing["items"]
    assert item["evidence_id"] == "ev-kh" and item["status"] == "attached"
    assert item["file"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert item["document"]["number"] == "15/KH-UBND"
    assert http.get(f"{BASE}/ev-kh", world.officer).get_json() == item

    resp = http.get(f"{BASE}/ev-kh/file", world.appraiser)
    assert resp.status_code == 200
    assert resp.data == PDF
    assert resp.mimetype == "application/pdf"
    assert resp.headers["ETag"] == f'"{item["file"]["sha256"]}"'
    assert "ke-hoach.pdf" in resp.headers["Content-Disposition"]

    cached = http.get(
        f"{BASE}/ev-kh/file", world.appraiser, headers={"If-None-Match": resp.headers["ETag"]}
    )
    assert cached.status_code == 304 and cached.data == b""


def test_attaching_a_hash_never_uploaded_is_a_field_error(world, http):
    resp = http.send(
        world.officer,
        "attach_evidence",
        cycle=CYCLE,
        unit=UNITS[0],
        evidence_id="ev-x",
        leaves=["1.1.1"],
        file={"sha256": "0" * 64, "size": 1, "media_type": "application/pdf"},
    )
    body = assert_problem(resp, 422, "validation_failed")
    assert body["errors"][0]["code"] == "evidence_blob_missing"
    assert body["errors"][0]["field"] == "file.sha256"


def test_withdrawn_evidence_stays_listed_as_withdrawn(world, http):
    attach(world, http)
    receipt = http.send(
        world.officer,
        "withdraw_evidence",
        cycle=CYCLE,
        unit=UNITS[0],
        evidence_id="ev-kh",
        reason="Nộp nhầm bản",
    ).get_json()
    item = http.get(f"{BASE}/ev-kh?position={receipt['position']}", world.officer).get_json()
    assert item["status"] == "withdrawn"
    assert item["withdrawn"]["reason"] == "Nộp nhầm bản"


def test_evidence_of_another_commune_is_403_even_the_file(world, http):
    attach(world, http)
    other = world.key("commune_officer", f"commune:{UNITS[1]}")
    for path in (BASE, f"{BASE}/ev-kh", f"{BASE}/ev-kh/file"):
        assert_problem(http.get(path, other), 403, "not_permitted")
        assert_problem(http.get(path), 401, "signature_required")


def test_evidence_without_a_file_has_no_download(world, http):
    http.send(
        world.officer,
        "attach_evidence",
        cycle=CYCLE,
        unit=UNITS[0],
        evidence_id="ev-doc",
        leaves=["1.1.1"],
        document={"number": "20/BC-UBND"},
    )
    assert_problem(http.get(f"{BASE}/ev-doc/file", world.officer), 404, "evidence_file_not_found")


def test_a_raw_upload_declared_octet_stream_is_sniffed(world, http):
    resp = http.put_blob(PDF, "application/octet-stream", world.appraiser)
    assert resp.status_code == 201
    assert resp.get_json()["media_type"] == "application/pdf"


def test_the_upload_signature_covers_the_body(world, http):
    header = authorization(
        world.officer.key_id, world.officer.private, "PUT", "/api/v1/evidence/blobs", PDF
    )
    resp = http.client.put(
        "/api/v1/evidence/blobs",
        data=PDF + b" ",
        headers={"Authorization": header, "Content-Type": "application/pdf"},
    )
    assert_problem(resp, 401, "bad_signature")
