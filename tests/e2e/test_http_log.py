"""The public log endpoints: what an outside checker gets, checked as it would check it."""

from __future__ import annotations

import base64

import pytest

from application.transparency import merkle, note
from tests.e2e.http_support import CYCLE, UNITS, assert_problem


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def opened(checkpoint_note: str, vkey: str) -> note.Checkpoint:
    return note.parse_checkpoint(note.open_note(checkpoint_note, [vkey]).text)


def test_the_log_key_is_the_deployments(world, http):
    body = http.get("/api/v1/log/key").get_json()
    assert body["log_key"] == world.env.log_key
    assert body["origin"] == "parindex.local/par-index"


def test_the_latest_checkpoint_covers_the_whole_log_and_is_signed_by_the_log_key(world, http):
    size = world.app.tlog.size()
    cp = http.get("/api/v1/log/checkpoint").get_json()
    body = opened(cp["note"], world.env.log_key)
    assert (body.size, base64.b64encode(body.root).decode()) == (size, cp["root"])
    assert cp["size"] == size

    again = http.get("/api/v1/log/checkpoint").get_json()
    assert again == cp  # nothing grew: the same checkpoint, not a new one

    http.send(
        world.officer, "record_self_score", cycle=CYCLE, unit=UNITS[0], leaf="1.1.1", points="1"
    )
    grown = http.get("/api/v1/log/checkpoint").get_json()
    assert grown["size"] == size + 1


def test_every_checkpoint_issued_is_listed_oldest_first(world, http):
    http.get("/api/v1/log/checkpoint")
    listing = http.get("/api/v1/log/checkpoints").get_json()
    sizes = [c["size"] for c in listing["checkpoints"]]
    assert sizes == sorted(sizes) and listing["total"] == len(sizes) >= 2
    page = http.get("/api/v1/log/checkpoints?limit=1&offset=1").get_json()
    assert page["checkpoints"] == listing["checkpoints"][1:2]


def test_an_inclusion_proof_leads_to_the_signed_root(world, http):
    cp = opened(http.get("/api/v1/log/checkpoint").get_json()["note"], world.env.log_key)
    for index in range(cp.size):
        proof = http.get(f"/api/v1/log/proof/inclusion?index={index}").get_json()
        assert proof["tree_size"] == cp.size
        merkle.verify_inclusion(
            b64(proof["leaf_hash"]), index, cp.size, [b64(h) for h in proof["hashes"]], cp.root
        )
        assert opened(proof["checkpoint"], world.env.log_key).root == cp.root


def test_an_inclusion_proof_to_an_older_size(world, http):
    proof = http.get("/api/v1/log/proof/inclusion?index=0&size=3").get_json()
    merkle.verify_inclusion(
        b64(proof["leaf_hash"]), 0, 3, [b64(h) for h in proof["hashes"]], b64(proof["root"])
    )


def test_a_consistency_proof_between_two_checkpoints_verifies(world, http):
    first = http.get("/api/v1/log/checkpoint").get_json()
    http.send(
        world.officer, "record_self_score", cycle=CYCLE, unit=UNITS[0], leaf="1.1.1", points="1"
    )
    second = http.get("/api/v1/log/checkpoint").get_json()
    proof = http.get(
        f"/api/v1/log/proof/consistency?from={first['size']}&to={second['size']}"
    ).get_json()
    assert (proof["from"], proof["to"]) == (first["size"], second["size"])
    merkle.verify_consistency(
        first["size"],
        second["size"],
        b64(first["root"]),
        b64(second["root"]),
        [b64(h) for h in proof["hashes"]],
    )


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("index=999", 404),
        ("index=0&size=999", 404),
        ("index=5&size=5", 404),
        ("index=-1", 422),
        ("index=abc", 422),
        ("", 422),
        ("index=0&size=0", 422),
    ],
)
def test_impossible_inclusion_queries_are_problems(http, query, status):
    resp = http.get(f"/api/v1/log/proof/inclusion?{query}")
    assert_problem(resp, status, "proof_not_found" if status == 404 else "validation_failed")
    assert resp.get_json()["errors"][0]["field"] in ("index", "size")


@pytest.mark.parametrize(
    ("query", "status"),
    [("from=5&to=2", 404), ("from=0&to=999", 404), ("from=1", 422), ("to=x&from=1", 422)],
)
def test_impossible_consistency_queries_are_problems(http, query, status):
    resp = http.get(f"/api/v1/log/proof/consistency?{query}")
    assert_problem(resp, status, "proof_not_found" if status == 404 else "validation_failed")


def test_the_log_is_public(http):
    for path in (
        "/api/v1/log/key",
        "/api/v1/log/checkpoint",
        "/api/v1/log/checkpoints",
        "/api/v1/log/proof/inclusion?index=0",
        "/api/v1/log/proof/consistency?from=1&to=2",
        "/healthz",
    ):
        assert http.get(path).status_code == 200, path
