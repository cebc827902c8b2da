"""Every error is problem+json, Vietnamese unless asked otherwise, and no client input
produces a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interfaces.http.app import create_app, services_of
from interfaces.http.signing import authorization
from tests.e2e.http_support import PROBLEM, Http, World, assert_problem, flask_client, make_world
from tests.support import new_key


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("errors"))
    try:
        yield w
    finally:
        w.env.app.close()


@pytest.fixture(scope="module")
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# -- the shape ------------------------------------------------------------------------
def test_an_unknown_path_is_a_404_problem_in_vietnamese_by_default(http):
    resp = http.get("/api/v1/khong-co")
    body = assert_problem(resp, 404, "not_found")
    assert body["title"] == "Không tìm thấy"
    assert resp.headers["Content-Language"] == "vi"


def test_english_on_accept_language_en(http):
    resp = http.get("/api/v1/khong-co", lang="en-US,en;q=0.9")
    body = assert_problem(resp, 404, "not_found")
    assert body["title"] == "Not found"
    assert resp.headers["Content-Language"] == "en"


def test_an_unsupported_language_falls_back_to_vietnamese(http):
    assert http.get("/nope", lang="fr").get_json()["title"] == "Không tìm thấy"


def test_a_wrong_method_is_a_405_problem_with_allow(http):
    resp = http.client.delete("/api/v1/commands")
    assert_problem(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]


def test_bad_query_arguments_list_each_field(http):
    resp = http.get("/api/v1/log/checkpoints?limit=0&offset=-1")
    body = assert_problem(resp, 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"limit", "offset"}
    assert all(e["code"] == "out_of_range" for e in body["errors"])


# -- signed requests --------------------------------------------------------------------
def blob_headers(
    key,
    data: bytes,
    *,
    created: str | None = None,
    method: str = "PUT",
    path: str = "/api/v1/evidence/blobs",
) -> dict:
    return {
        "Content-Type": "application/pdf",
        "Authorization": authorization(
            key.key_id, key.private, method, path, data, created=created
        ),
    }


def put(http, data: bytes, headers: dict):
    return http.client.put("/api/v1/evidence/blobs", data=data, headers=headers)


def test_a_read_without_the_signature_header_is_401(http):
    resp = put(http, PDF, {"Content-Type": "application/pdf"})
    assert_problem(resp, 401, "signature_required")
    assert resp.headers["WWW-Authenticate"].startswith("Parindex-Sig")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Parindex-Sig",
        'Parindex-Sig keyId="x"',
        'Parindex-Sig keyId="x", created="y", signature="not base64!"',
        'Parindex-Sig keyId="x", keyId="x", created="y", signature="AAAA"',
    ],
)
def test_a_malformed_signature_header_is_401(http, header):
    resp = put(http, PDF, {"Content-Type": "application/pdf", "Authorization": header})
    assert_problem(resp, 401, "malformed_signature_header")


def test_an_unregistered_key_is_401(http):
    assert_problem(put(http, PDF, blob_headers(new_key(), PDF)), 401, "unknown_key")


def test_a_signature_over_other_bytes_is_401(world, http):
    headers = blob_headers(world.officer, PDF + b"x")
    assert_problem(put(http, PDF, headers), 401, "bad_signature")
    headers = blob_headers(world.officer, PDF, method="POST")
    assert_problem(put(http, PDF, headers), 401, "bad_signature")


def test_an_old_signature_is_401(world, http):
    old = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    resp = put(http, PDF, blob_headers(world.officer, PDF, created=old))
    assert_problem(resp, 401, "timestamp_out_of_window")


def test_a_role_that_never_submits_evidence_may_not_upload(world, http):
    observer = world.key("observer", "*")
    assert_problem(put(http, PDF, blob_headers(observer, PDF)), 403, "not_permitted")


# -- uploads -------------------------------------------------------------------------
def test_an_upload_returns_its_hash_once_and_then_200(world, http):
    first = put(http, PDF, blob_headers(world.officer, PDF))
    assert first.status_code in (200, 201)
    blob = first.get_json()
    assert blob["media_type"] == "application/pdf" and blob["size"] == len(PDF)
    again = put(http, PDF, blob_headers(world.officer, PDF))
    assert again.status_code == 200 and again.get_json() == blob


def test_a_declared_type_that_is_not_the_content_is_415(world, http):
    headers = {**blob_headers(world.officer, PDF), "Content-Type": "image/png"}
    body = assert_problem(put(http, PDF, headers), 415, "media_type_mismatch")
    assert body["errors"][0]["field"] == "media_type"


def test_an_upload_without_content_type_is_415(world, http):
    headers = blob_headers(world.officer, PDF)
    del headers["Content-Type"]
    assert_problem(put(http, PDF, headers), 415, "content_type_required")


def test_a_kind_of_file_not_accepted_is_415(world, http):
    data = b"MZ\x90\x00\x03" + bytes(range(256)) * 4  # a Windows executable's start
    headers = {**blob_headers(world.officer, data), "Content-Type": "application/octet-stream"}
    assert_problem(put(http, data, headers), 415, "media_type_not_allowed")


def test_too_large_bodies_are_413(tmp_path, monkeypatch):
    monkeypatch.setenv("PARINDEX_MAX_EVIDENCE_BYTES", "100")
    w = make_world(tmp_path)
    flask = create_app(w.env.data_dir, follow=False)
    try:
        http = Http(flask.test_client())
        data = b"a" * 200
        body = assert_problem(
            put(http, data, {**blob_headers(w.officer, data), "Content-Type": "text/plain"}),
            413,
            "evidence_too_large",
        )
        assert body["errors"][0]["field"] == "file"
        huge = b"a" * (2 << 20)  # refused on its declared length, before it is read
        assert_problem(put(http, huge, blob_headers(w.officer, huge)), 413, "evidence_too_large")
    finally:
        services_of(flask).close()
        w.env.app.close()


def test_a_command_body_over_the_request_bound_is_413_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PARINDEX_MAX_REQUEST_BYTES", "3000")
    w = make_world(tmp_path)
    flask = create_app(w.env.data_dir, follow=False)
    try:
        http = Http(flask.test_client())
        fields = {"cycle": "tn-2025", "unit": "xa-01", "leaf": "1.1.1", "points": "1"}
        size = w.app.tlog.size()
        body = assert_problem(
            http.send(w.officer, "record_self_score", note="n" * 3000, **fields),
            413,
            "payload_too_large",
        )
        assert "3000" in body["detail"]
        assert w.app.tlog.size() == size
        assert (
            http.send(w.officer, "record_self_score", note="ghi chú", **fields).status_code == 201
        )
    finally:
        services_of(flask).close()
        w.env.app.close()


# -- never a 500 ----------------------------------------------------------------------
def test_an_unexpected_failure_is_a_500_problem_that_leaks_nothing(http, monkeypatch):
    app = services_of(http.client.application).app

    def explode(envelope):
        raise RuntimeError("password=hunter2 at postgresql://db.internal")

    monkeypatch.setattr(app, "handle", explode)
    resp = http.post({"command": {}, "signature": "x"})
    assert_problem(resp, 500, "internal_error")
    text = resp.get_data(as_text=True)
    assert "hunter2" not in text and "postgresql" not in text and "RuntimeError" not in text


FIXTURES = [HealthCheck.function_scoped_fixture]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
command_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            [
                "record_self_score",
                "register_key",
                "open_cycle",
                "attach_evidence",
                "adjust_score",
                "nope",
            ]
        )
        | st.text(max_size=8),
        "id": st.text(max_size=12),
        "issued_at": st.text(max_size=30),
        "actor": st.text(max_size=40),
        "cycle": st.text(max_size=8),
        "unit": st.text(max_size=8),
        "leaf": st.text(max_size=8),
        "points": json_values,
        "units": json_values,
        "framework": json_values,
        "file": json_values,
        "leaves": json_values,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({"command": command_like | json_values, "signature": json_values}),
    )
)
def test_no_body_posted_as_a_command_produces_a_500(http, body):
    resp = http.client.post(
        "/api/v1/commands", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(command=command_like)
def test_no_command_signed_by_a_real_officer_produces_a_500(world, http, command):
    command = {**command, "actor": world.officer.key_id}
    if not isinstance(command.get("issued_at"), str) or "T" not in command["issued_at"]:
        command["issued_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        envelope = world.officer.sign(command)
    except (TypeError, ValueError):
        return  # not even canonicalizable: nothing a client could sign
    resp = http.post(envelope)
    assert resp.status_code < 500, resp.get_data(as_text=True)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    path=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    query=st.text(max_size=30),
)
def test_no_path_or_query_produces_a_500(http, path, query):
    from urllib.parse import quote

    for base in ("/api/v1/log/proof/inclusion", "/api/v1/frameworks/", "/api/v1/cycles/"):
        resp = http.client.get(base + quote(path) + "?" + quote(query, safe="=&"))
        assert resp.status_code < 500, (base, path, query, resp.get_data(as_text=True))
