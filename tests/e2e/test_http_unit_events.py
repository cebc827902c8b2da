"""GET /api/v1/cycles/{c}/units/{u}/events: a unit's events, exact stored bytes,
for its own monitor. Signed, within the key's scope, bounded, read from the
event store (what the log holds, whatever the read model says)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from application.transparency.leaf import event_leaf_hash
from domain.assessment import Assessment
from tests.e2e.http_support import (
    CYCLE,
    UNITS,
    Http,
    World,
    assert_problem,
    flask_client,
    make_world,
)
from tests.support import command

PATH = f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/events"


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    w = make_world(tmp_path / "site")
    for leaf, points in (("1.1.1", "1"), ("1.1.2", "0.5"), ("1.1.1", "0")):
        where = {"cycle": CYCLE, "unit": UNITS[0], "leaf": leaf}
        w.env.send(command(w.officer, "record_self_score", **where, points=points), w.officer)
    try:
        yield w
    finally:
        w.env.app.close()


@pytest.fixture
def http(world) -> Iterator[Http]:
    with flask_client(world) as h:
        yield h


def test_the_events_are_the_logs_bytes_in_version_order(world, http):
    resp = http.get(f"{PATH}?after=1&limit=2", world.officer)
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert [e["version"] for e in doc["events"]] == [2, 3]
    aid = Assessment.create_id(CYCLE, UNITS[0])
    assert doc["aggregate_id"] == str(aid)
    for e in doc["events"]:
        leaf = world.app.tlog.leaf(e["leaf_index"])
        raw = base64.b64decode(e["state"])
        assert event_leaf_hash(aid, e["version"], e["topic"], raw) == leaf.leaf_hash
        key_id = json.loads(raw)["signed"]["key_id"]
        assert doc["signers"][key_id]["public_key"] == world.officer.public_key
    rest = http.get(f"{PATH}?after=3", world.officer).get_json()["events"]
    assert [e["version"] for e in rest] == [4]


def test_only_a_key_that_may_read_the_unit_gets_its_events(world, http):
    assert_problem(http.get(PATH), 401, "signature_required")
    other = world.key("commune_officer", f"commune:{UNITS[1]}")
    assert_problem(http.get(PATH, other), 403, "not_permitted")
    missing = f"/api/v1/cycles/{CYCLE}/units/xa-99/events"
    assert_problem(http.get(missing, world.officer), 404, "unit_not_found")


@pytest.mark.parametrize("query", ["after=-1", "limit=0", "limit=501", "after=x", "after=1e3"])
def test_bad_bounds_are_a_clear_422(world, http, query):
    resp = http.get(f"{PATH}?{query}", world.officer)
    assert resp.status_code in (400, 422), resp.get_data()
    assert resp.get_json()["code"]
