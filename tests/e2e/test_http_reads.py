"""Signed reads: who sees what, read-your-writes, and the why-chain proven end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from interfaces.client import Client, ProofInvalid
from interfaces.http.app import create_app, services_of
from interfaces.http.signing import authorization
from tests.e2e.http_support import (
    AUTHORITY,
    CYCLE,
    PROVINCE,
    UNITS,
    Http,
    World,
    assert_problem,
    flask_client,
    make_world,
)
from tests.support import command

SCORES = f"/api/v1/cycles/{CYCLE}/units/{{unit}}/scores"
READS = {
    "scores": SCORES,
    "history": f"/api/v1/cycles/{CYCLE}/units/{{unit}}/leaves/1.1.1/history",
    "why": f"/api/v1/cycles/{CYCLE}/units/{{unit}}/leaves/1.1.1/why",
    "evidence": f"/api/v1/cycles/{CYCLE}/units/{{unit}}/evidence",
    "status": f"/api/v1/cycles/{CYCLE}/units/{{unit}}/status",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("reads"))
    w.env.send(
        command(
            w.officer,
            "record_self_score",
            cycle=CYCLE,
            unit=UNITS[0],
            leaf="1.1.1",
            points="1",
            note="Kế hoạch 15/KH-UBND",
        ),
        w.officer,
    )
    w.env.submit_unit(UNITS[0], w.officer, cycle=CYCLE)  # appraised after submission
    w.env.send(
        command(
            w.appraiser,
            "adjust_score",
            cycle=CYCLE,
            unit=UNITS[0],
            leaf="1.1.1",
            points="0.5",
            reason="Ban hành muộn",
        ),
        w.appraiser,
    )
    try:
        yield w
    finally:
        w.env.app.close()


@pytest.fixture(scope="module")
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client


# -- who may read what -------------------------------------------------------------------
# (role, scope) -> may it read unit xa-01 / unit xa-02 / the cycle's ranking
READERS = [
    ("commune_officer", f"commune:{UNITS[0]}", True, False, True),
    ("commune_chair", f"commune:{UNITS[0]}", True, False, True),
    ("commune_officer", "commune:xa-99", False, False, False),
    ("appraiser", f"authority:{AUTHORITY}", True, True, True),
    ("council_chair", "authority:phu-binh", False, False, False),
    ("approver", f"province:{PROVINCE}", True, True, True),
    ("approver", "province:bac-kan", False, False, False),
    ("admin", "*", True, True, True),
    ("observer", "*", True, True, True),
    ("auditor", "*", True, True, True),
]


@pytest.mark.parametrize(
    ("role", "scope", "own", "other", "ranking"), READERS, ids=[f"{r[0]}-{r[1]}" for r in READERS]
)
def test_a_key_reads_exactly_what_its_scope_covers(world, http, role, scope, own, other, ranking):
    key = world.key(role, scope)
    for name, path in READS.items():
        for unit, expected in ((UNITS[0], own), (UNITS[1], other)):
            resp = http.get(path.format(unit=unit), key)
            if expected:
                assert resp.status_code == 200, (name, unit, resp.get_json())
            else:
                assert_problem(resp, 403, "not_permitted")
    for path in (f"/api/v1/cycles/{CYCLE}/ranking", f"/api/v1/cycles/{CYCLE}/status"):
        resp = http.get(path, key)
        if ranking:
            assert resp.status_code == 200
        else:
            assert_problem(resp, 403, "not_permitted")
    listed = [c["cycle"] for c in http.get("/api/v1/cycles", key).get_json()["cycles"]]
    assert listed == ([CYCLE] if ranking else [])


@pytest.mark.parametrize(
    "path",
    [
        *(p.format(unit=UNITS[0]) for p in READS.values()),
        "/api/v1/cycles",
        f"/api/v1/cycles/{CYCLE}/ranking",
        f"/api/v1/cycles/{CYCLE}/status",
    ],
)
def test_every_non_public_read_needs_the_signed_header(http, path):
    assert_problem(http.get(path), 401, "signature_required")


def test_a_revoked_key_reads_nothing(world, http):
    key = world.key("observer", "*", name="leaving")
    assert http.get("/api/v1/cycles", key).status_code == 200
    world.env.send(command(world.admin, "revoke_key", key_id=key.key_id, reason="Nghỉ hưu"))
    assert_problem(http.get("/api/v1/cycles", key), 401, "key_revoked")


def test_a_signature_for_another_path_does_not_open_this_one(world, http):
    from interfaces.http.signing import authorization

    header = authorization(
        world.officer.key_id, world.officer.private, "GET", SCORES.format(unit=UNITS[0])
    )
    resp = http.client.get(
        SCORES.format(unit=UNITS[0]) + "?position=1", headers={"Authorization": header}
    )
    assert_problem(resp, 401, "bad_signature")


def test_frameworks_are_public(world, http):
    listing = http.get("/api/v1/frameworks").get_json()["frameworks"]
    assert [f["id"] for f in listing] == [world.framework_id]
    detail = http.get(f"/api/v1/frameworks/{world.framework_id}").get_json()
    assert detail["leaf_count"] == sum(1 for n in detail["nodes"] if n["is_leaf"])
    assert_problem(http.get("/api/v1/frameworks/khong-co@1"), 404, "framework_not_found")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/cycles/khong-co/ranking", "cycle_not_found"),
        ("/api/v1/cycles/khong-co/status", "cycle_not_found"),
        (f"/api/v1/cycles/{CYCLE}/units/xa-99/status", "unit_not_found"),
        (f"/api/v1/cycles/{CYCLE}/units/xa-99/scores", "unit_not_found"),
        (f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/leaves/1.1/history", "leaf_not_found"),
        (f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/leaves/9.9.9/why", "leaf_not_found"),
        (f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/evidence/khong-co", "evidence_not_found"),
    ],
)
def test_unknown_things_are_404_problems(world, http, path, code):
    assert_problem(http.get(path, world.key("observer", "*")), 404, code)


# -- the numbers -------------------------------------------------------------------------
def test_scores_are_exact_strings_and_the_adjustment_shows(world, http):
    doc = http.get(SCORES.format(unit=UNITS[0]), world.officer).get_json()
    assert (doc["self_total"], doc["appraised_total"]) == ("1", "0.5")
    leaf = next(n for n in doc["nodes"] if n["code"] == "1.1.1")
    assert leaf["adjusted"] is True and leaf["reason"] == "Ban hành muộn"
    assert leaf["display"]["appraised_score"] == "0.50"


def test_the_ranking_ranks_submitted_units_and_lists_the_others_apart(world, http):
    page = http.get(f"/api/v1/cycles/{CYCLE}/ranking?limit=1&offset=0", world.appraiser)
    body = page.get_json()
    assert body["total"] == 1 and [r["unit"] for r in body["rows"]] == [UNITS[0]]
    assert body["rows"][0]["rank"] == 1
    assert body["not_submitted"] == [
        {"unit": u, "unit_name": f"Xã {u[-2:]}", "status": "not_submitted", "into": None}
        for u in UNITS[1:]
    ]


def test_the_cycle_status_pages_units_and_counts_every_stage(world, http):
    body = http.get(f"/api/v1/cycles/{CYCLE}/status?limit=2&offset=1", world.appraiser).get_json()
    assert [u["unit"] for u in body["units"]] == list(UNITS[1:])
    assert body["totals"]["round_1"] == 1 and body["totals"]["not_submitted"] == 2
    one = http.get(f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/status", world.officer).get_json()
    assert one["stage"] == "round_1" and one["reviewed"] == 1 and one["scored"] == "119/119"


# -- why, proven ---------------------------------------------------------------------------
def test_why_gives_each_event_a_proof_that_verifies_locally(world, http):
    doc = http.get(READS["why"].format(unit=UNITS[0]), world.officer).get_json()
    assert [e["kind"] for e in doc["chain"]] == ["self_score", "adjustment"]
    assert all(e["proof"]["tree_size"] == doc["checkpoint"]["size"] for e in doc["chain"])

    verified = Client(log_key=world.env.log_key).verify_why(doc, "1.1.1")
    assert all(e["verified"] for e in verified["chain"])
    assert verified["chain"][1]["signed_command"]["reason"] == "Ban hành muộn"
    assert verified["chain"][1]["signed_command"]["actor"] == world.appraiser.key_id


def test_a_why_doctored_by_the_server_fails_local_verification(world, http):
    client = Client(log_key=world.env.log_key)
    path = READS["why"].format(unit=UNITS[0])

    doc = http.get(path, world.officer).get_json()
    doc["chain"][1]["logged"]["state"] = doc["chain"][0]["logged"]["state"]
    with pytest.raises(ProofInvalid):
        client.verify_why(doc, "1.1.1")

    doc = http.get(path, world.officer).get_json()
    doc["chain"][0]["proof"]["hashes"] = list(reversed(doc["chain"][0]["proof"]["hashes"]))
    with pytest.raises(ProofInvalid):
        client.verify_why(doc, "1.1.1")

    doc = http.get(path, world.officer).get_json()
    from application.transparency import note
    from tests.support import new_key

    fake = Client(
        log_key=note.format_verifier_key("parindex.local/par-index", new_key().private.public_key())
    )
    with pytest.raises(ProofInvalid):
        fake.verify_why(doc, "1.1.1")

    doc = http.get(path, world.officer).get_json()
    with pytest.raises(ProofInvalid):
        client.verify_why(doc, "1.1.2")  # events about another leaf


def test_why_issues_a_checkpoint_when_the_latest_does_not_cover_the_chain(world, http):
    before = world.app.tlog.latest_checkpoint().size
    adjust = {"leaf": "1.1.2", "points": "1", "reason": "Đủ văn bản"}  # the unit is submitted
    world.env.send(
        command(world.appraiser, "adjust_score", cycle=CYCLE, unit=UNITS[0], **adjust),
        world.appraiser,
    )
    doc = http.get(
        READS["why"].format(unit=UNITS[0]).replace("1.1.1", "1.1.2"), world.officer
    ).get_json()
    assert doc["checkpoint"]["size"] > before
    assert doc["chain"][0]["leaf_index"] < doc["checkpoint"]["size"]


# -- read-your-writes ------------------------------------------------------------------------
def test_a_read_with_the_receipts_position_sees_the_write(tmp_path):
    w = make_world(tmp_path)
    flask = create_app(w.env.data_dir, follow=True, read_wait=5.0)
    try:
        http = Http(flask.test_client())
        for points in ("0.25", "0.5", "0.75", "1"):
            receipt = http.send(
                w.officer,
                "record_self_score",
                cycle=CYCLE,
                unit=UNITS[0],
                leaf="1.1.1",
                points=points,
            ).get_json()
            doc = http.get(
                SCORES.format(unit=UNITS[0]) + f"?position={receipt['position']}", w.officer
            ).get_json()
            assert doc["self_total"] == points
    finally:
        services_of(flask).close()
        w.env.app.close()


def test_a_position_not_reached_in_time_is_503_with_retry_after(tmp_path):
    w = make_world(tmp_path)
    flask = create_app(w.env.data_dir, follow=True, read_wait=0.3)
    try:
        http = Http(flask.test_client())
        follower = services_of(flask).follower
        follower.catch_up()  # everything so far is projected; then the projection breaks

        def stuck(cur, items):
            raise RuntimeError("projection bug")

        follower.projector.apply = stuck  # the read model cannot move on
        receipt = http.send(
            w.officer, "record_self_score", cycle=CYCLE, unit=UNITS[0], leaf="1.1.1", points="1"
        ).get_json()
        started = time.monotonic()
        resp = http.get(
            SCORES.format(unit=UNITS[0]) + f"?position={receipt['position']}", w.officer
        )
        assert_problem(resp, 503, "projection_lagging")
        assert resp.headers["Retry-After"] == "1"
        assert "projection bug" not in resp.get_data(as_text=True)
        assert time.monotonic() - started < 3  # bounded, however the projection fails
        english = http.get(f"/api/v1/frameworks?position={receipt['position']}", lang="en")
        assert assert_problem(english, 503, "projection_lagging")["title"].startswith("The read")
        # Without a position the read answers from what the read model has.
        assert http.get(SCORES.format(unit=UNITS[0]), w.officer).status_code == 200
    finally:
        services_of(flask).close()
        w.env.app.close()


def test_a_position_the_log_does_not_have_is_409(world, http):
    resp = http.get(SCORES.format(unit=UNITS[0]) + "?position=999999", world.officer)
    body = assert_problem(resp, 409, "position_beyond_log")
    assert body["errors"][0]["field"] == "position"


@pytest.mark.parametrize(
    "value", ["8%09", "%208", "%D9%A8", "%EF%BC%98", "+8", "8.0", "1e3", "0x8", "8_0"]
)
def test_a_position_that_is_not_plain_ascii_digits_is_refused_not_read_as_a_number(
    world, http, value
):
    # int() would read "8\t", " 8", Arabic-Indic or full-width digits and "8_0" as numbers.
    resp = http.get(SCORES.format(unit=UNITS[0]) + f"?position={value}", world.officer)
    assert_problem(resp, 422, "validation_failed")


def test_the_cycle_list_refuses_a_position_with_a_trailing_tab(world, http):
    resp = http.get("/api/v1/cycles?position=8%09", world.officer)
    assert_problem(resp, 422, "validation_failed")


# -- how long a captured header stays usable ---------------------------------------------
def signed_at(world: World, path: str, seconds_from_now: float) -> dict:
    created = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    return {
        "Authorization": authorization(
            world.officer.key_id,
            world.officer.private,
            "GET",
            path,
            created=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    }


@pytest.mark.parametrize(
    "seconds, status", [(-30, 200), (30, 200), (-75, 401), (75, 401), (-600, 401), (-1200, 401)]
)
def test_a_read_header_is_accepted_only_within_a_minute_of_the_servers_clock(
    world, http, seconds, status
):
    path = SCORES.format(unit=UNITS[0])
    resp = http.client.get(path, headers=signed_at(world, path, seconds))
    if status == 401:
        body = assert_problem(resp, 401, "timestamp_out_of_window")
        assert "60" in body["detail"]
    else:
        assert resp.status_code == 200, resp.get_json()


def test_a_captured_header_replays_only_its_own_request_and_only_until_the_window_closes(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PARINDEX_REQUEST_WINDOW_SECONDS", "2")
    w = make_world(tmp_path)
    flask = create_app(w.env.data_dir, follow=False)
    try:
        client = flask.test_client()
        path = SCORES.format(unit=UNITS[0])
        captured = signed_at(w, path, 0)
        assert client.get(path, headers=captured).status_code == 200
        assert client.get(path, headers=captured).status_code == 200  # a replay, in time
        assert_problem(client.get(path + "?position=1", headers=captured), 401, "bad_signature")
        assert_problem(
            client.get(SCORES.format(unit=UNITS[1]), headers=captured), 401, "bad_signature"
        )
        time.sleep(3.1)
        assert_problem(client.get(path, headers=captured), 401, "timestamp_out_of_window")
    finally:
        services_of(flask).close()
        w.env.app.close()
