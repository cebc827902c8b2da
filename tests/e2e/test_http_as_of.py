"""`?as_of=` over HTTP: "this commune's sheet before the appraisal" and "the
ranking as approved" are one call each, proven by the checkpoint that covers
the moment; a bad moment is a clear 422 (docs/API.md, "As of a moment")."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from domain.assessment import Assessment
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
from tests.support import checkpoint_root, command

UNIT = f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    w = make_world(tmp_path_factory.mktemp("asof"))
    where = {"cycle": CYCLE, "unit": UNITS[0], "leaf": "1.1.1"}
    w.env.send(command(w.officer, "record_self_score", **where, points="1"), w.officer)
    w.env.submit_unit(UNITS[0], w.officer, cycle=CYCLE)
    before = w.env.app.tlog.size() - 1  # the submission
    time.sleep(0.01)
    adjusted = w.env.send(
        command(w.appraiser, "adjust_score", **where, points="0.25", reason="Muộn"), w.appraiser
    )
    council = w.key("council_chair", f"authority:{AUTHORITY}")
    approver = w.key("approver", f"province:{PROVINCE}")
    unit = w.env.app.get(Assessment.create_id(CYCLE, UNITS[0]), for_update=False)
    confirm = unit.needs_review(w.env.app.framework(w.framework_id))
    close = {"cycle": CYCLE, "unit": UNITS[0], "confirm": confirm}
    w.env.send(command(council, "close_appraisal", **close), council)
    w.env.season_end(CYCLE, council, approver, upto="approved")
    approved = w.env.app.tlog.size() - 1
    publish = {"cycle": CYCLE, "version": 1}
    w.env.send(command(approver, "publish_ranking", **publish), approver)
    try:
        yield {"world": w, "before": before, "adjusted": adjusted, "approved": approved}
    finally:
        w.env.app.close()


@pytest.fixture(scope="module")
def http(world) -> Iterator[Http]:
    with flask_client(world["world"]) as h:
        yield h


def get(http: Http, world: World, path: str) -> dict:
    resp = http.get(path, world.officer)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_the_sheet_before_the_appraisal_is_one_call(world, http):
    w: World = world["world"]
    now = get(http, w, f"{UNIT}/scores")
    then = get(http, w, f"{UNIT}/scores?as_of={world['before']}")
    leaf = lambda doc: next(n for n in doc["nodes"] if n["code"] == "1.1.1")  # noqa: E731
    assert leaf(now)["appraised_score"] == "0.25" and leaf(now)["review"]["how"] == "adjusted"
    assert leaf(then)["appraised_score"] == "1" and leaf(then)["review"] is None
    assert "point_in_time" not in now
    pit = then["point_in_time"]
    assert pit["log_index"] == world["before"]
    size, root = checkpoint_root(pit["checkpoint"]["note"], w.env.log_key)
    assert size > world["before"] and pit["checkpoint"]["size"] == size
    # by time: the adjustment's own time includes it, a time before the log excludes all
    at = get(http, w, f"{UNIT}/leaves/1.1.1/history")["entries"][-1]["at"]
    by_time = get(http, w, f"{UNIT}/scores?as_of={at}")
    assert leaf(by_time)["appraised_score"] == "0.25"
    assert by_time["point_in_time"]["log_index"] >= world["adjusted"]["log_index"]
    resp = http.get(f"{UNIT}/scores?as_of=2001-01-01T00:00:00Z", w.officer)
    assert_problem(resp, 404, "unit_not_found")


def test_the_ranking_as_approved_is_one_call(world, http):
    w: World = world["world"]
    path = f"/api/v1/cycles/{CYCLE}/rankings"
    now = get(http, w, path)
    assert [v["state"] for v in now["versions"]] == ["published"]
    then = get(http, w, f"{path}?as_of={world['approved']}")
    [v] = then["versions"]
    assert v["state"] == "approved" and v["published"] is None and v["decision"]
    public = http.get(f"/api/v1/public/cycles/{CYCLE}/rankings?as_of={world['approved']}")
    assert public.status_code == 200 and public.get_json()["versions"] == []


@pytest.mark.parametrize("bad", ["-1", "tomorrow", "2025-12-20", "1" * 41, "2025-12-20T00:00Z"])
def test_a_bad_moment_is_a_clear_422(world, http, bad):
    resp = http.get(f"{UNIT}/scores?as_of={bad}", world["world"].officer)
    body = assert_problem(resp, 422, resp.get_json()["code"])
    assert body["code"] in ("invalid_as_of", "validation_failed"), body
    assert "as_of" in str(body)


def test_a_log_index_not_in_the_log_yet_is_a_404(world, http):
    resp = http.get(f"{UNIT}/scores?as_of=99999999", world["world"].officer)
    assert_problem(resp, 404, "as_of_not_found")


def test_the_live_ranking_and_the_progress_as_of_before_the_appraisal(world, http):
    w: World = world["world"]
    before = world["before"]
    ranking = get(http, w, f"/api/v1/cycles/{CYCLE}/ranking?as_of={before}")
    [row] = ranking["rows"]
    assert row["unit"] == UNITS[0] and ranking["point_in_time"]["log_index"] == before
    now = get(http, w, f"/api/v1/cycles/{CYCLE}/ranking")["rows"][0]
    assert row["appraised_total"] != now["appraised_total"]  # the adjustment came after
    status = get(http, w, f"{UNIT}/status?as_of={before}")
    assert status["stage"] == "round_1" and status["reviewed"] == 0
    assert get(http, w, f"{UNIT}/status")["stage"] == "closed"
    page = get(http, w, f"/api/v1/cycles/{CYCLE}/status?as_of={before}&limit=2")
    assert page["totals"]["round_1"] == 1 and page["closed"] is None
    assert page["rankings"]["count"] == 0 and page["rankings"]["latest"] is None


def test_the_oversight_sums_as_of_before_the_appraisal(world, http):
    w: World = world["world"]
    observer = w.key("observer", f"authority:{AUTHORITY}")
    path = f"/api/v1/cycles/{CYCLE}/oversight/summary?by=unit"

    def sums(query: str = "") -> dict:
        resp = http.get(path + query, observer)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    now, then = sums(), sums(f"&as_of={world['before']}")
    [unit_now] = [r for r in now["rows"] if r["key"] == UNITS[0]]
    assert unit_now["points_deducted"] == "0.75" and unit_now["kinds"]["adjustment"] == 1
    assert [r["key"] for r in then["rows"]] == []  # nothing appraised before it
    assert then["total"] == 0 and then["point_in_time"]["log_index"] == world["before"]
    adjusted = sums(f"&as_of={world['adjusted']['log_index']}")
    [unit_then] = adjusted["rows"]
    assert (unit_then["changes"], unit_then["points_deducted"]) == (1, "0.75")
    across = http.get(f"/api/v1/oversight/summary?by=unit&as_of={world['before']}", observer)
    assert across.status_code == 200 and across.get_json()["rows"] == []
    resp = http.get(path + "&as_of=yesterday", observer)
    assert_problem(resp, 422, resp.get_json()["code"])


@pytest.mark.parametrize(
    "hostile",
    [
        "1" * 5000,
        "2025-12-20T00:00:00Z\r\nX-Evil: 1",
        "../../etc/passwd",
        '=HYPERLINK("x")',
        "\x00",
    ],
)
def test_a_hostile_moment_on_the_sums_is_a_clear_422_that_writes_nothing(world, http, hostile):
    from urllib.parse import quote

    w: World = world["world"]
    observer = w.key("observer", f"authority:{AUTHORITY}")
    size = w.env.app.tlog.size()
    for path in (f"/api/v1/cycles/{CYCLE}/oversight/summary", "/api/v1/oversight/summary"):
        resp = http.get(f"{path}?by=unit&as_of={quote(hostile)}", observer)
        body = assert_problem(resp, 422, resp.get_json()["code"])
        assert "as_of" in str(body) and "X-Evil" not in resp.headers
    assert w.env.app.tlog.size() == size
