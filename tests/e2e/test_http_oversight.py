"""The oversight reads over HTTP (docs/API.md, "Oversight"): an observer gets every
change of a cycle with its flags in one call, a commune only its own, another
province nothing; every bad filter is a 4xx naming its field, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.http_support import Http, World, assert_problem, flask_client, make_world
from tests.oversight_season import OTHER, Played, U, play

C = "c-ov"
PATH = f"/api/v1/cycles/{C}/oversight"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[World, Played, Http]]:
    world = make_world(tmp_path_factory.mktemp("oversight"))
    played = play(world.env, C)
    try:
        with flask_client(world) as http:
            yield world, played, http
    finally:
        world.env.app.close()


def get(site, path: str, key) -> dict:
    _world, _played, http = site
    resp = http.get(path, key)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_an_observer_gets_every_change_of_the_cycle_with_its_flags_in_one_call(site):
    world, played, _http = site
    observer = world.key("observer", "*")
    doc = get(site, PATH, observer)
    assert doc["total"] == 10 and len(doc["changes"]) == 10
    correction = doc["changes"][-1]
    assert correction["kind"] == "correction" and correction["delta"] == "-1"
    assert correction["flags"]["after_publication"] and correction["flags"]["large_deduction"]
    assert correction["actor"]["key_id"] == played.unit.appraiser.key_id

    late = get(site, f"{PATH}?after_deadline=true&limit=1", observer)
    assert late["total"] == 2 and [c["kind"] for c in late["changes"]] == ["deadline_extended"]
    big = get(site, f"{PATH}?large=true&large_share=0.25&kind=adjustment", observer)
    assert [c["leaf"] for c in big["changes"]] == ["1.1.1", "1.2.1"]
    assert big["large_share"] == "0.25"
    small = get(site, f"{PATH}?min_change=0.5&round=1", observer)
    assert [c["leaf"] for c in small["changes"]] == ["1.1.1"]

    sums = get(site, f"{PATH}/summary?order=deducted", observer)  # by actor unless told
    assert sums["rows"][0]["key"] == played.unit.appraiser.key_id
    assert sums["rows"][0]["points_deducted"] == "1.875"
    areas = get(site, f"{PATH}/summary?by=area", observer)
    assert [(r["key"], r["changes"]) for r in areas["rows"]] == [("1", 6)]

    across = get(site, f"/api/v1/oversight?cycle={C}&cycle=tn-2025&kind=correction", observer)
    assert across["total"] == 1 and across["changes"][0]["cycle"] == C
    assert get(site, "/api/v1/oversight/summary?by=unit", observer)["total"] == 2


def test_an_unsigned_read_is_refused(site):
    _world, _played, http = site
    assert_problem(http.get(PATH), 401, "signature_required")
    assert_problem(http.get("/api/v1/oversight"), 401, "signature_required")


def test_an_observer_of_another_province_reads_nothing_of_it(site):
    world, _played, http = site
    elsewhere = world.key("observer", "province:bac-kan")
    assert_problem(http.get(PATH, elsewhere), 403, "not_permitted")
    assert_problem(http.get(f"{PATH}/summary?by=unit", elsewhere), 403, "not_permitted")
    assert get(site, "/api/v1/oversight", elsewhere)["total"] == 0
    assert get(site, "/api/v1/oversight/summary?by=actor", elsewhere)["rows"] == []
    assert_problem(http.get(f"/api/v1/oversight?cycle={C}", elsewhere), 403, "not_permitted")
    province = world.key("observer", "province:thai-nguyen")
    assert get(site, "/api/v1/oversight", province)["total"] == 10


def test_a_commune_reads_its_own_changes_only_and_no_sums(site):
    world, _played, http = site
    commune = world.key("commune_chair", f"commune:{OTHER}")
    doc = get(site, PATH, commune)
    assert [c["kind"] for c in doc["changes"]] == ["submission_withdrawn", "deadline_extended"]
    assert {c["unit"] for c in get(site, "/api/v1/oversight", commune)["changes"]} == {OTHER}
    assert_problem(http.get(f"{PATH}?unit={U}", commune), 403, "not_permitted")
    assert_problem(http.get(f"{PATH}/summary?by=actor", commune), 403, "not_permitted")
    assert_problem(http.get("/api/v1/oversight/summary?by=unit", commune), 403, "not_permitted")


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("after=-1", "after"),
        ("round=3", "round"),
        ("kind=xoa", "kind"),
        ("min_change=abc", "min_change"),
        ("min_change=-1", "min_change"),
        ("min_change=0.00001", "min_change"),
        ("min_change=1e9", "min_change"),
        ("large_share=-0.5", "large_share"),
        ("large_share=.5", "large_share"),
        ("after_deadline=maybe", "after_deadline"),
        ("unit=" + "x" * 65, "unit"),
        ("actor=", "actor"),
    ],
)
def test_a_bad_filter_is_a_422_naming_its_field(site, query, field):
    world, _played, http = site
    body = assert_problem(
        http.get(f"{PATH}?{query}", world.key("observer", "*")), 422, "validation_failed"
    )
    assert field in [e["field"] for e in body["errors"]], body


@pytest.mark.parametrize(
    "path, status, code",
    [
        (f"{PATH}/summary?by=tinh", 422, "validation_failed"),
        (f"{PATH}/summary?by=unit&order=random", 422, "validation_failed"),
        ("/api/v1/cycles/khong-co/oversight", 404, "cycle_not_found"),
        ("/api/v1/cycles/khong-co/oversight/summary?by=unit", 404, "cycle_not_found"),
        ("/api/v1/oversight?cycle=khong-co", 404, "cycle_not_found"),
        (f"{PATH}?position=999999999", 409, "position_beyond_log"),
    ],
)
def test_other_bad_reads_are_clear_4xx(site, path, status, code):
    world, _played, http = site
    assert_problem(http.get(path, world.key("observer", "*"), lang="en"), status, code)


def test_the_oversight_view_as_of_a_moment_lists_the_changes_made_by_then(site):
    world, _played, _http = site
    observer = world.key("observer", "*")
    every = get(site, PATH, observer)["changes"]
    middle = every[4]["log_index"]
    then = get(site, f"{PATH}?as_of={middle}", observer)
    assert [c["log_index"] for c in then["changes"]] == [c["log_index"] for c in every[:5]]
    assert then["total"] == 5 and then["point_in_time"]["log_index"] == middle
    assert then["point_in_time"]["checkpoint"]["size"] > middle
    across = get(site, f"/api/v1/oversight?as_of={middle}", observer)
    assert across["total"] == 5 and "point_in_time" in across
    resp = site[2].get(f"{PATH}?as_of=yesterday", observer)
    assert_problem(resp, 422, resp.get_json()["code"])
