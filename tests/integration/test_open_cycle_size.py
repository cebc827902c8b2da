"""Opening a cycle keeps the signed command once, whatever the number of units."""

from __future__ import annotations

import json

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.assessment import Assessment
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.support import Env, command, sql

UNITS = 3321  # every commune-level unit of Vietnam since July 2025


def _store_bytes(env: Env) -> int:
    """What the store takes on disk: every table and index, as an operator pays it."""
    if env.app.tlog.t.dialect == "sqlite":
        # New pages sit in the WAL until a checkpoint copies them into the file.
        sql(env.app, "PRAGMA wal_checkpoint(TRUNCATE)")
        return (env.data_dir / "events.sqlite").stat().st_size
    rows = sql(
        env.app,
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c "
        "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = ? AND c.relkind = 'r'",
        (env.app.recorder.datastore.schema,),
    )
    return int(rows[0]["n"])


def _state_bytes(env: Env) -> int:
    rows = sql(env.app, f"SELECT SUM(LENGTH(state)) AS n FROM {env.app.tlog.events_table}")
    return int(rows[0]["n"])


def test_opening_3321_units_adds_under_5_mb_and_verifies(env: Env):
    framework = load_bundled("thai-nguyen-2021-commune")
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    before, store_before = _state_bytes(env), _store_bytes(env)
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
    assert _store_bytes(env) - store_before < 5_000_000  # with the log's leaves, nodes, indexes

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


def test_each_leaf_of_a_3321_unit_cycle_names_the_position_of_its_own_event(env: Env):
    """The rows of one large write go in as many-row statements whose returned
    positions are matched to the events by order: a mix-up would give receipts
    and readers the position of another unit's event."""
    framework = load_bundled("thai-nguyen-2021-commune")
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    units = [{"code": f"xa-{i:05d}", "name": f'Xã "{i}" {{}},\\'} for i in range(UNITS)]
    receipt = env.send(
        command(
            env.admin,
            "open_cycle",
            cycle="vn-2025",
            name="Kỳ 2025",
            framework=str(framework.id),
            year=2025,
            authority="bo-noi-vu",
            province="vn",
            units=units,
        )
    )
    position = "notification_id" if env.app.tlog.t.dialect == "postgres" else "rowid"
    events = {
        (str(r["originator_id"]).replace("-", ""), int(r["originator_version"])): r["n"]
        for r in sql(
            env.app,
            f"SELECT originator_id, originator_version, {position} AS n "
            f"FROM {env.app.tlog.events_table}",
        )
    }
    leaves = env.app.tlog.leaves_range(receipt["log_index"], UNITS + 1)
    assert len(leaves) == UNITS + 1
    for leaf in leaves:
        assert leaf.notification_id == events[(leaf.originator_id.hex, leaf.originator_version)]
    assert receipt["position"] == max(events.values())
    names = {
        a.unit: a.unit_name
        for a in (
            env.app.repository.get(Assessment.create_id("vn-2025", u["code"]))
            for u in (units[0], units[-1])
        )
    }
    assert names == {units[0]["code"]: units[0]["name"], units[-1]["code"]: units[-1]["name"]}


def receipt_digest(env: Env, command_id: str) -> str:
    digest, _leaves = env.app.tlog.command(command_id)
    return digest
