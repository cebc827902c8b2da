"""Snapshots of assessments (docs/FORMATS.md 9.4): a server just started loads
a unit from its last snapshot and the events after it, into exactly the state
its events alone give; a snapshot is a cache, not part of the log, so verify
never reads one, a damaged one is loaded around, and a forged one can at worst
make the server decide on a wrong state, whose events verify reports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from unittest import mock

from application.app import SNAPSHOT_INTERVAL, ParIndex, _project
from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.store.snapshots import SnapshotStore
from domain.assessment import Assessment
from domain.ranking import unit_totals
from domain.snapshot import LIBRARY_MEMBERS, AggregateSnapshot
from tests.season_unit import C, U, Unit, clean, findings
from tests.support import Env, command, oid_param, sql, truncate_log

AID = Assessment.create_id(C, U)
SUBMITTED = 121  # a unit's version after its 119 self-scores and its submission
LAST = SUBMITTED // SNAPSHOT_INTERVAL * SNAPSHOT_INTERVAL  # its snapshot's version


def snapshot_table(app: ParIndex) -> str:
    recorder = app.snapshots.recorder
    if app.tlog.t.dialect == "postgres":
        return f'"{recorder.datastore.schema}".{recorder.events_table_name}'
    return recorder.events_table_name


def snapshot_versions(app: ParIndex, aggregate_id=AID) -> list[int]:
    return [s.originator_version for s in app.snapshots.get(aggregate_id)]


def from_events(app: ParIndex, aggregate_id=AID) -> Assessment:
    """The aggregate from its stored events alone, no snapshot."""
    return _project(None, app.events.get(aggregate_id))


def loaded_cold(env: Env, aggregate_id=AID) -> tuple[Assessment, list[int | None]]:
    """The aggregate as a server just started loads it, and the `gt` of each
    read of its events (the version of the snapshot it started from)."""
    app = env.reopen()
    reads: list[int | None] = []
    real = app.events.get

    def spy(originator_id: Any, **kw: Any) -> Any:
        if originator_id == aggregate_id:
            reads.append(kw.get("gt"))
        return real(originator_id, **kw)

    with mock.patch.object(app.events, "get", spy):
        return app.get(aggregate_id, for_update=False), reads


def members(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def assert_same_state(loaded: Any, expected: Any) -> None:
    assert type(loaded) is type(expected)
    got, want = members(loaded), members(expected)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name
        assert type(got[name]) is type(want[name]), name


def approver(env: Env):
    return env.register("approver", "province:thai-nguyen")[0]


def test_a_unit_loaded_from_its_snapshot_equals_the_unit_from_its_events(env: Env):
    u = Unit.open(env)
    u.submit()  # 119 self-scores and the submission: events 2..121
    assert snapshot_versions(env.app) == [LAST]  # the newest only
    u.adjust("1.1.1", "0")
    u.confirm("1.2.1", note="Đúng hồ sơ")
    u.flag("1.1.2")
    u.answer("1.1.2", points="0.5")
    u.submit_explanations()
    u.adjust("1.1.2", "0.25", reason="Giải trình chưa đủ")
    u.close(confirm=u.unreviewed())
    env.season_end(C, u.council, approver(env))
    loaded, reads = loaded_cold(env)
    version = loaded.version
    assert version == SUBMITTED + 7  # six appraisal events and the close
    # the snapshot, then the events after it
    assert reads == [version // SNAPSHOT_INTERVAL * SNAPSHOT_INTERVAL]
    assert_same_state(loaded, from_events(env.app))

    # a snapshot of the whole season: every member (flags, reviews, signed
    # times, the close) goes through the snapshot store and back
    env.app.take_snapshot(AID, projector_func=_project)
    assert snapshot_versions(env.app) == [version]
    loaded, reads = loaded_cold(env)
    assert reads == [version]
    assert_same_state(loaded, from_events(env.app))
    assert loaded.flags and loaded.reviewed and loaded.closed
    assert loaded.signed_last and all(
        isinstance(t, datetime) and t.tzinfo is not None for t in loaded.signed_last.values()
    )
    clean(env)


def test_a_snapshot_keeps_the_state_and_not_the_memo_entries_beside_it(env: Env):
    u = Unit.open(env)
    u.submit()
    # an open unit's totals are kept beside its state (domain.ranking.unit_totals)
    unit_totals(u.assessment, env.app.framework(u.cycle_now.framework))
    u.close(confirm=u.unreviewed())
    env.season_end(C, u.council, approver(env))
    for aggregate, memo in ((u.assessment, "_ranking_totals"), (u.cycle_now, "_unit_codes")):
        assert memo in vars(aggregate)
        snapshot = AggregateSnapshot.take(aggregate)
        assert memo not in snapshot.state
        assert {k for k in snapshot.state if k.startswith("_")} == set(LIBRARY_MEMBERS)
        env.app.mapper.to_stored_event(snapshot)  # storable (a Framework is not)
        assert_same_state(snapshot.mutate(None), from_events(env.app, aggregate.id))


def test_verify_never_reads_a_snapshot(env: Env):
    u = Unit.open(env)
    u.submit()
    env.checkpoint()
    with (
        mock.patch.object(SnapshotStore, "get", side_effect=AssertionError("read")),
        mock.patch.object(env.app.snapshots.recorder, "select_events", side_effect=AssertionError),
    ):
        assert findings(env) == []
        # with the store's whole tables (verify --data-dir) too
        assert verify(StoreSource(env.app.tlog, env.app.evidence), workers=1).findings == []


def test_a_damaged_snapshot_is_loaded_around(env: Env):
    u = Unit.open(env)
    u.submit()
    table = snapshot_table(env.app)
    sql(
        env.app,
        f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?",
        (b"{not json", oid_param(env.app, AID), LAST),
    )
    loaded, reads = loaded_cold(env)
    assert reads == [None]  # from the first event
    assert_same_state(loaded, from_events(env.app))
    u.adjust("1.1.1", "0")  # the unit goes on
    clean(env)


def test_a_store_made_before_snapshots_gets_its_table_with_the_first_snapshot(env: Env):
    assert env.app.snapshots.table_ready  # made by `parindex init`
    u = Unit.open(env)
    for leaf in ("1.1.1", "1.1.2"):
        u.score(leaf, "0")
    sql(env.app, f"DROP TABLE {snapshot_table(env.app)}")
    app = env.reopen()
    assert not app.snapshots.table_ready
    assert u.assessment.self_inputs == {"1.1.1": {"points": "0"}, "1.1.2": {"points": "0"}}
    u.submit()
    assert app.snapshots.table_ready
    assert snapshot_versions(app) == [LAST]
    clean(env)


def forge_snapshot(app: ParIndex, version: int, change: Any) -> None:
    """Plays an operator who rewrites a snapshot row in the database."""
    table = snapshot_table(app)
    where = "WHERE originator_id = ? AND originator_version = ?"
    params = (oid_param(app, AID), version)
    (row,) = sql(app, f"SELECT state FROM {table} {where}", params)
    doc = json.loads(bytes(row["state"]))
    change(doc)
    sql(app, f"UPDATE {table} SET state = ? {where}", (json.dumps(doc).encode(), *params))


def test_a_forged_snapshot_misleads_the_server_and_verify_reports_what_it_decided(env: Env):
    """A snapshot that says a submitted unit is closed lets the council close the
    cycle with the unit still open; the close is not what the log yields."""
    u = Unit.open(env)
    u.submit()
    forge_snapshot(env.app, LAST, lambda doc: doc["state"].update(closed=True))
    env.reopen()
    assert u.assessment.closed and not from_events(env.app).closed
    receipt = env.send(command(u.council, "close_appraisal", cycle=C), u.council)
    env.checkpoint()
    found = verify(StoreSource(env.app.tlog), workers=1).findings
    assert [(f.kind, f.position.get("leaf_index")) for f in found] == [
        ("event_not_derived", receipt["log_index"])
    ]
    assert f"units_not_closed ({U})" in found[0].detail


def test_a_snapshot_of_another_aggregate_is_not_used(env: Env):
    """A row whose topic names an aggregate that is not snapshotted (a forged
    Cycle or key) is a miss, not a state."""
    u = Unit.open(env)
    u.submit()
    forge_snapshot(env.app, LAST, lambda doc: doc.update(topic="domain.cycle:Cycle"))
    loaded, reads = loaded_cold(env)
    assert reads == [None]
    assert_same_state(loaded, from_events(env.app))


def test_a_log_cut_back_does_not_load_a_snapshot_of_what_it_lost(env: Env):
    """A restore that cut the log back below a snapshot's event: the unit loads
    from the events it has, not from the snapshot of history the log lost, until
    its events reach that version again and a new snapshot replaces it."""
    u = Unit.open(env)
    u.submit()
    leaf = env.app.tlog.leaf_of_event(AID, LAST - 10)
    truncate_log(env.app, leaf.leaf_index)  # versions LAST - 10 .. 121 are gone
    loaded, reads = loaded_cold(env)
    assert reads == [None] and loaded.version == LAST - 11
    assert_same_state(loaded, from_events(env.app))
    leaves = env.app.framework(u.cycle_now.framework).leaves
    for lf in leaves[:10]:  # versions LAST - 10 .. LAST - 1, written again differently
        u.score(lf.code, "1" if lf.code == "1.1.1" else "0")
    loaded, reads = loaded_cold(env)
    assert reads == [None]  # the snapshot at LAST names an event the log lost
    assert loaded.self_inputs["1.1.1"] == {"points": "1"}
    assert_same_state(loaded, from_events(env.app))
    for lf in leaves[10:15]:  # version LAST and after: a new snapshot replaces it
        u.score(lf.code, "0")
    assert snapshot_versions(env.app) == [LAST]
    loaded, reads = loaded_cold(env)
    assert reads == [LAST] and loaded.self_inputs["1.1.1"] == {"points": "1"}
    assert_same_state(loaded, from_events(env.app))
