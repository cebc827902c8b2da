"""Over HTTP, every malformed input listed in issue 7 is a clear 4xx problem, never a
500: deep JSON, a signed-read header with an impossible time, oversized or
non-canonical commands; and nothing is written."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interfaces.http.limits import MAX_COMMAND_BODY, depth_exceeds
from tests.e2e.http_support import Http, World, assert_problem, flask_client, make_world
from tests.support import Written

CREATED_BAD = [
    "2026-13-45T99:99:99Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T24:00:00Z",
    "0000-01-01T00:00:00Z",
    "２０２６-01-01T00:00:00Z",
    "2026-01-01T00:00:00+07:00",
    "2026-01-01T00:00:00.1234567Z",
    "yesterday",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("limits"))
    try:
        yield w
    finally:
        w.env.app.close()


@pytest.fixture(scope="module")
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client


def post_raw(http: Http, body: bytes, content_type: str = "application/json", **headers):
    return http.client.post(
        "/api/v1/commands", data=body, content_type=content_type, headers=headers
    )


# -- nesting ------------------------------------------------------------------------------
@pytest.mark.parametrize("levels", [33, 1_000, 100_000])
def test_deeply_nested_json_is_a_400_json_too_deep_before_parsing(http, world, levels):
    before = Written.read(world.app)
    body = b'{"command": ' + b"[" * levels + b"]" * levels + b', "signature": "x"}'
    body = b"[" * levels + b"]" * levels if levels > 1000 else body
    resp = post_raw(http, body)
    problem = assert_problem(resp, 400, "json_too_deep")
    assert "32" in problem["detail"]
    assert Written.read(world.app) == before


def test_deep_json_is_refused_whatever_content_type_it_claims(http):
    resp = post_raw(http, b"[" * 1000 + b"]" * 1000, content_type="text/plain")
    assert_problem(resp, 400, "json_too_deep")


def test_brackets_inside_strings_do_not_count_as_nesting(http, world):
    cmd = {"type": "record_self_score", "note": "[" * 1000 + '\\"{' * 100}
    resp = post_raw(http, json.dumps({"command": cmd, "signature": "x"}).encode())
    assert_problem(resp, 400, "malformed_command")  # judged on its content, not its depth


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
        lambda kids: (
            st.lists(kids, max_size=3)
            | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=3), kids, max_size=3)
        ),
        max_leaves=40,
    )
)
def test_the_flat_scan_measures_the_same_depth_the_parser_sees(value):
    def depth(v) -> int:
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0

    body = json.dumps(value).encode()
    for limit in range(0, 6):
        assert depth_exceeds(body, limit) == (depth(value) > limit)


# -- size ---------------------------------------------------------------------------------
def test_a_body_above_the_command_limit_is_a_413(http, world):
    before = Written.read(world.app)
    resp = post_raw(http, b'{"command": {"note": "' + b"x" * MAX_COMMAND_BODY + b'"}}')
    assert_problem(resp, 413, "payload_too_large")
    assert Written.read(world.app) == before


def test_a_signed_note_of_megabytes_is_refused_as_too_large_a_command(http, world):
    before = Written.read(world.app)
    note = "x" * (3 << 20)  # fits the body limit; a 10 MiB body is refused as shown above
    resp = http.send(
        world.officer,
        "record_self_score",
        cycle="tn-2025",
        unit="xa-01",
        leaf="1.1.1",
        points="1",
        note=note,
    )
    problem = assert_problem(resp, 413, "command_too_large")
    assert problem["errors"][0]["field"] == "command"
    assert Written.read(world.app) == before


# -- canonical decimals and text over HTTP -----------------------------------------------
@pytest.mark.parametrize(
    ("points", "accepted"),
    [("٠.٥", "0.5"), ("０.５", "0.5"), ("-0", "0"), (".5", "0.5"), ("0.50", "0.5"), ("1e0", "1")],
)
def test_a_non_canonical_decimal_is_a_422_naming_the_accepted_form(http, world, points, accepted):
    before = Written.read(world.app)
    resp = http.send(
        world.officer,
        "record_self_score",
        cycle="tn-2025",
        unit="xa-01",
        leaf="1.1.1",
        points=points,
    )
    problem = assert_problem(resp, 422, "decimal_not_canonical")
    assert problem["errors"][0]["field"] == "points"
    assert problem["errors"][0]["message"].endswith(f"dạng đúng: {accepted}")
    assert Written.read(world.app) == before


def test_a_control_character_in_a_document_issuer_is_a_422_with_its_path(http, world):
    resp = http.send(
        world.officer,
        "attach_evidence",
        cycle="tn-2025",
        unit="xa-01",
        evidence_id="ev-ctl",
        leaves=["1.1.1"],
        document={"number": "1/QĐ", "issuer": "UBND\r\nSet-Cookie: x"},
    )
    problem = assert_problem(resp, 422, "validation_failed")
    assert [(e["code"], e["field"]) for e in problem["errors"]] == [
        ("control_character", "document.issuer")
    ]


# -- the signed read header ---------------------------------------------------------------
@pytest.mark.parametrize("created", CREATED_BAD)
def test_an_impossible_created_time_is_a_401_malformed_header(http, world, created):
    resp = http.get("/api/v1/cycles", world.officer, created=created)
    problem = assert_problem(resp, 401, "malformed_signature_header")
    assert resp.headers["WWW-Authenticate"].startswith("Parindex-Sig")
    assert "created" in problem["detail"]


@pytest.mark.parametrize(
    "header",
    [
        'Parindex-Sig keyId="pk_x", created="2026-01-01T00:00:00Z", signature="AA=="',
        'Parindex-Sig keyId="' + "pk_" + "a" * 32 + '", created="2026-13-45T99:99:99Z", '
        'signature="' + base64.b64encode(bytes(64)).decode() + '"',
        "Parindex-Sig " + "x" * 100_000,
        'Parindex-Sig keyId="a", keyId="b"',
        "Parindex-Sig",
        "Bearer abc",
        'Parindex-Sig keyId="\u00e9", created="x", signature="y"',
    ],
)
def test_every_malformed_signed_read_header_is_a_401_problem(http, header):
    resp = http.client.get("/api/v1/cycles", headers={"Authorization": header})
    problem = assert_problem(resp, 401, "malformed_signature_header")
    assert len(problem["detail"]) < 200  # never echoes the header


def test_the_header_problem_is_english_on_request(http, world):
    resp = http.get("/api/v1/cycles", world.officer, created="2026-13-45T99:99:99Z", lang="en")
    problem = assert_problem(resp, 401, "malformed_signature_header")
    assert "created is not a real date and time" in problem["detail"]
