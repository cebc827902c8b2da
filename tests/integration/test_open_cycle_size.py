"""Opening a cycle keeps the signed command once, whatever the number of units."""

from __future__ import annotations

import json

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.support import Env, command, sql

UNITS = 3321  # every commune-level unit of Vietnam since July 2025


def _state_bytes(env: Env) -> int:
    rows = sql(env.app, f"SELECT SUM(LENGTH(state)) AS n FROM {env.app.tlog.events_table}")
    return int(rows[0]["n"])


def test_opening_3321_units_adds_under_5_mb_and_verifies(env: Env):
    framework = load_bundled("thai-nguyen-2021-commune")
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    before = _state_bytes(env)
    units = [{"code": f"xa-{i:05d}", "name": f"Xã Số {i} tỉnh Thái Nguyên"} for i in range(UNITS)]
    opened = command(
        env.admin,
        "open_cycle",
        cycle="vn-2025",
        name="Kỳ đánh giá 2025",
        framework=str(framework.id),
        year=2025,
        authority="bo-noi-vu",
        province="vn",
        units=units,
    )
    receipt = env.send(opened)  # its time is the store's to bound (bench, not a test)
    assert len(receipt["events"]) == UNITS + 1
    assert _state_bytes(env) - before < 5_000_000  # was 631 MB with a copy per unit

    first = receipt["log_index"]
    rows = [env.app.tlog.leaf(first + k) for k in (0, 1, UNITS)]
    states = [
        json.loads(
            bytes(
                sql(
                    env.app,
                    f"SELECT state FROM {env.app.tlog.events_table} "
                    "WHERE originator_id = ? AND originator_version = 1",
                    (
                        r.originator_id
                        if env.app.tlog.t.dialect == "postgres"
                        else r.originator_id.hex,
                    ),
                )[0]["state"]
            )
        )
        for r in rows
    ]
    cycle_state, *assessments = states
    assert json.loads(cycle_state["signed"]["command"])["units"] == units
    for state in assessments:
        assert "signed" not in state
        assert state["command"]["id"] == opened["id"]
        assert state["command"]["digest"] == receipt_digest(env, opened["id"])
    report = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=1)
    assert report.ok, report.findings[:3]


def receipt_digest(env: Env, command_id: str) -> str:
    digest, _leaves = env.app.tlog.command(command_id)
    return digest
