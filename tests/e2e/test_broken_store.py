"""A store with a table dropped or emptied, rows missing or an event unreadable:
`parindex verify --data-dir` reports each as a finding of its kind at its
position (exit 1, no traceback), and the public log routes answer 200 or a
problem+json, never a 500. On SQLite and on PostgreSQL.

The log (leaf index: event): 0 genesis, 1 first admin key, 2..6 five key
registrations (one command each); checkpoints at 2 and 7.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.http_support import PROBLEM, run_cli
from tests.support import new_key, register_command, set_event_state, sql

LOG_ROUTES = (
    "/api/v1/log/key",
    "/api/v1/log/checkpoint",
    "/api/v1/log/checkpoints",
    "/api/v1/log/proof/inclusion?index=3",
    "/api/v1/log/proof/inclusion?index=3&size=7",
    "/api/v1/log/proof/consistency?from=2&to=7",
)


def _tables(app) -> dict[str, str]:
    t = app.tlog.t
    return {
        "events": app.tlog.events_table,
        "leaves": t.leaves,
        "nodes": t.nodes,
        "state": t.state,
        "commands": t.commands,
        "checkpoints": t.checkpoints,
    }


def _garble_event(app) -> None:
    set_event_state(app, 3, b"not json at all")


# (case id, what the operator does, findings that must be reported: kind -> position subset)
CASES = [
    (
        "checkpoints dropped",
        "DROP TABLE {checkpoints}",
        {"log_table_missing": {"table": "parindex_checkpoints"}},
    ),
    ("checkpoints emptied", "DELETE FROM {checkpoints}", {"checkpoint_missing": {"size": 7}}),
    (
        "a leaf row missing",
        "DELETE FROM {leaves} WHERE leaf_index = 3",
        {"event_missing": {"leaf_index": 3}},
    ),
    (
        "leaves dropped",
        "DROP TABLE {leaves}",
        {
            "log_table_missing": {"table": "parindex_log_leaves"},
            "log_truncated": {"leaf_index": 0, "size": 7},
        },
    ),
    (
        "a node row missing",
        "DELETE FROM {nodes} WHERE level = 1 AND idx = 1",
        {"log_node_missing": {"level": 1, "index": 1}},
    ),
    ("nodes emptied", "DELETE FROM {nodes}", {"log_node_missing": {"level": 1, "index": 0}}),
    ("nodes dropped", "DROP TABLE {nodes}", {"log_table_missing": {"table": "parindex_log_nodes"}}),
    ("state emptied", "DELETE FROM {state}", {"log_state_differs": {"size": 0, "leaves": 7}}),
    ("state dropped", "DROP TABLE {state}", {"log_table_missing": {"table": "parindex_log_state"}}),
    (
        "a command row missing",
        "DELETE FROM {commands} WHERE first_leaf = 4",
        {"command_index_missing": {"leaf_index": 4}},
    ),
    ("commands emptied", "DELETE FROM {commands}", {"command_index_missing": {"leaf_index": 0}}),
    (
        "commands dropped",
        "DROP TABLE {commands}",
        {"log_table_missing": {"table": "parindex_commands"}},
    ),
    (
        "events dropped",
        "DROP TABLE {events}",
        {"log_table_missing": {}, "event_missing": {"leaf_index": 0}},
    ),
    (
        "a leaf row damaged",
        "UPDATE {leaves} SET originator_id = 'zz', leaf_hash = 'x' WHERE leaf_index = 3",
        {"event_missing": {"leaf_index": 3}},
    ),
    (
        "an event unreadable",
        _garble_event,
        {"event_unreadable": {"leaf_index": 3}, "event_altered": {"leaf_index": 3}},
    ),
]


@pytest.fixture
def broken(env, request):
    """The deployment of `env` with one case applied; yields the expected findings."""
    for _ in range(5):
        env.send(register_command(env.admin, new_key()))
    env.checkpoint()
    _name, damage, expected = request.param
    if callable(damage):
        damage(env.app)
    else:
        sql(env.app, damage.format(**_tables(env.app)))
    env.reopen()
    return env, expected


@pytest.mark.parametrize("broken", CASES, ids=[c[0] for c in CASES], indirect=True)
def test_verify_reports_a_broken_store_as_findings_with_exit_1(broken, capsys):
    env, expected = broken
    code = run_cli(["verify", "--data-dir", str(env.data_dir), "--log-key", env.log_key, "--json"])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert code == 1, out
    findings = json.loads(out.out)["findings"]
    for kind, position in expected.items():
        assert any(
            f["kind"] == kind and position.items() <= f["position"].items() for f in findings
        ), (kind, position, findings)


@pytest.mark.parametrize("broken", CASES, ids=[c[0] for c in CASES], indirect=True)
def test_the_log_routes_of_a_broken_store_answer_problems_never_500(broken):
    from interfaces.http.app import create_app, services_of

    env, _expected = broken
    flask = create_app(env.data_dir, follow=False)
    try:
        client = flask.test_client()
        for route in LOG_ROUTES:
            for lang in ("vi", "en"):
                resp = client.get(route, headers={"Accept-Language": lang})
                assert resp.status_code != 500, (route, resp.get_data(as_text=True))
                if resp.status_code >= 400:
                    assert resp.mimetype == PROBLEM, (route, resp.headers)
                    body = resp.get_json(force=True)
                    assert body["code"] and body["detail"], body
                    assert "Traceback" not in body["detail"]
    finally:
        services_of(flask).close()


@pytest.mark.parametrize("broken", [CASES[0]], ids=["checkpoints dropped"], indirect=True)
def test_a_dropped_table_is_a_503_that_tells_the_operator_to_run_verify(broken):
    from interfaces.http.app import create_app, services_of

    env, _expected = broken
    flask = create_app(env.data_dir, follow=False)
    try:
        client = flask.test_client()
        vi = client.get("/api/v1/log/checkpoint").get_json(force=True)
        en = client.get("/api/v1/log/checkpoint", headers={"Accept-Language": "en"})
        assert vi["status"] == 503 and vi["code"] == "store_unavailable"
        assert "parindex verify" in vi["detail"] and "Không đọc được kho dữ liệu" in vi["detail"]
        assert "cannot be read" in en.get_json(force=True)["detail"]
        assert "no such table" not in vi["detail"]  # the driver's words stay in the server log
    finally:
        services_of(flask).close()


@pytest.mark.parametrize(
    "broken", [c for c in CASES if c[0] == "nodes emptied"], ids=["nodes emptied"], indirect=True
)
def test_a_proof_the_store_cannot_build_is_log_incomplete(broken):
    from interfaces.http.app import create_app, services_of

    env, _expected = broken
    flask = create_app(env.data_dir, follow=False)
    try:
        resp = flask.test_client().get("/api/v1/log/proof/inclusion?index=3&size=7")
        assert resp.status_code == 503 and resp.get_json()["code"] == "log_incomplete"
    finally:
        services_of(flask).close()


@pytest.mark.parametrize(
    "broken", [c for c in CASES if c[0] == "state emptied"], ids=["state emptied"], indirect=True
)
def test_the_log_key_never_signs_a_tree_the_store_does_not_hold(broken):
    from application.deployment import issue_checkpoint
    from application.transparency.log_store import LogIncomplete

    env, _expected = broken
    sql(env.app, f"DELETE FROM {env.app.tlog.t.checkpoints}")
    before = env.app.tlog.checkpoints()
    with pytest.raises(LogIncomplete):
        issue_checkpoint(env.app)  # the state says 0 leaves, 7 are stored
    assert env.app.tlog.checkpoints() == before
