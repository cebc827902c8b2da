"""A cycle's calendar and units as the API shows them: level, rounds, each
deadline and each unit's own, unit types, merged units, and who extended which
deadline, when and why (GET /api/v1/cycles and /api/v1/cycles/{cycle})."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.http_support import AUTHORITY, PROVINCE, Http, World, assert_problem, flask_client
from tests.e2e.http_support import make_world as _make_world
from tests.support import Written

C = "lich-2026"
DEADLINES = {
    "self_assessment_due": "2099-06-30T16:59:59Z",
    "explanation_due": "2099-07-31T16:59:59Z",
    "appraisal_due": "2099-08-31T16:59:59Z",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[World, Http]]:
    w = _make_world(tmp_path_factory.mktemp("calendar"))
    with flask_client(w) as http:
        yield w, http
    w.env.app.close()


def ok(resp) -> dict:
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def test_the_calendar_and_its_changes_are_readable(world):
    w, http = world
    ok(
        http.send(
            w.admin,
            "open_cycle",
            cycle=C,
            name="Kỳ 2026",
            framework=w.framework_id,
            year=2026,
            authority=AUTHORITY,
            province=PROVINCE,
            units=[
                {"code": "hoa-thuong", "name": "Xã Hóa Thượng", "type": "xa"},
                {"code": "linh-son", "name": "Xã Linh Sơn", "type": "xa"},
                {"code": "chua-hang", "name": "Phường Chùa Hang", "type": "phuong"},
            ],
            level="province",
            rounds=1,
            deadlines=DEADLINES,
        )
    )
    ok(
        http.send(
            w.admin,
            "extend_deadline",
            cycle=C,
            deadline="self_assessment_due",
            until="2099-07-10T16:59:59Z",
            unit="linh-son",
            reason="Xã Linh Sơn bị lũ",
        )
    )
    ok(
        http.send(
            w.admin,
            "add_units",
            cycle=C,
            units=[{"code": "dk-co-to", "name": "Đặc khu Cô Tô", "type": "dac_khu"}],
            reason="Bổ sung",
        )
    )
    last = ok(
        http.send(
            w.admin,
            "merge_units",
            cycle=C,
            units=["hoa-thuong", "linh-son"],
            into={"code": "dong-hy", "name": "Xã Đồng Hỷ", "type": "xa"},
            reason="Nghị quyết 1686",
        )
    )
    resp = http.get(f"/api/v1/cycles/{C}?position={last['position']}", w.admin)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    doc = resp.get_json()
    assert (doc["level"], doc["rounds"]) == ("province", 1)
    assert doc["deadlines"] == DEADLINES
    assert doc["unit_deadlines"] == {"linh-son": {"self_assessment_due": "2099-07-10T16:59:59Z"}}
    types = {u["unit"]: u["type"] for u in doc["units"]}
    assert types == {
        "hoa-thuong": "xa",
        "linh-son": "xa",
        "chua-hang": "phuong",
        "dk-co-to": "dac_khu",
        "dong-hy": "xa",
    }
    assert doc["merged"] == {"hoa-thuong": "dong-hy", "linh-son": "dong-hy"}
    assert doc["unit_count"] == 3  # chua-hang, dk-co-to, dong-hy
    [extension] = doc["extensions"]
    assert extension["reason"] == "Xã Linh Sơn bị lũ"
    assert extension["previous"] == DEADLINES["self_assessment_due"]
    assert extension["actor"]["key_id"] == w.admin.key_id and extension["at"].endswith("Z")
    assert [c["kind"] for c in doc["changes"]] == [
        "deadline_extended",
        "units_added",
        "units_merged",
    ]
    assert doc["changes"][2]["units"] == ["hoa-thuong", "linh-son"]

    listed = http.get("/api/v1/cycles", w.admin).get_json()["cycles"]
    mine = next(c for c in listed if c["cycle"] == C)
    assert mine["deadlines"] == DEADLINES and mine["level"] == "province"


def test_a_cycle_nobody_opened_is_404_and_another_provinces_key_is_403(world):
    w, http = world
    assert_problem(http.get("/api/v1/cycles/khong-co", w.admin), 404, "cycle_not_found")
    outsider = w.key("observer", "province:bac-kan")
    assert_problem(http.get(f"/api/v1/cycles/{C}", outsider), 403, "not_permitted")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"until": "31/12/2099"}, "invalid_time"),
        ({"until": "2099-02-30T00:00:00Z"}, "invalid_time"),
        ({"deadline": "han_cuoi"}, "unknown_deadline"),
        ({"reason": "a\x1b[31mb"}, "control_character"),
        ({"reason": "x" * 4001}, "text_too_long"),
        ({"unit": "../../keys"}, "invalid_code"),
    ],
    ids=["vn-date", "feb-30", "kind", "ansi", "huge", "path-unit"],
)
def test_a_hostile_extension_over_http_is_a_422_and_writes_nothing(world, fields, code):
    w, http = world
    before = Written.read(w.app)
    base = {"cycle": C, "deadline": "appraisal_due", "until": "2099-09-30T00:00:00Z"}
    resp = http.send(w.admin, "extend_deadline", **{**base, "reason": "Gia hạn", **fields})
    body = resp.get_json()
    assert resp.status_code == 422, body
    assert code in {body["code"], *(p["code"] for p in body.get("errors") or [])}
    assert Written.read(w.app) == before
