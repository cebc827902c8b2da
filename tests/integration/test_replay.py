"""Verify replays every signed command: the five forgeries of issue 7.

The attacker is the log operator: write access to the database and the log's
private key. After each forgery the operator re-hashes every leaf, rebuilds
the Merkle nodes and the stored frontier and re-signs every checkpoint with the
log key, so hashes, roots and checkpoint signatures all agree with the forged
log. What is left to catch it is replay: each event must be exactly what its
signed command yields, applied by the same rules, at its place in the log.
Each forgery is checked on the store and on an exported bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.audit.bundle import BundleSource, StoreSource, export_bundle
from application.audit.verify import Report, verify
from application.commands import parse_envelope
from application.transparency import merkle
from application.transparency.leaf import event_leaf_hash
from domain.assessment import Assessment, When
from domain.cycle import Cycle
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.support import (
    Env,
    Key,
    command,
    event_row,
    forged_checkpoint,
    make_env,
    new_key,
    register_command,
    set_event_state,
)

CYCLE = "tn-2025"


@dataclass
class Season:
    env: Env
    tmp: Path
    framework: object
    officers: dict[str, Key] = field(default_factory=dict)
    appraiser: Key | None = None
    leaves: dict[str, int] = field(default_factory=dict)  # label -> leaf index
    signed: dict[str, dict] = field(default_factory=dict)  # label -> stored `signed`

    @property
    def app(self):
        return self.env.app

    def send(self, label: str, signer: Key, type_: str, **fields) -> dict:
        cmd = command(signer, type_, **fields)
        envelope = signer.sign(cmd)
        receipt = self.app.handle(envelope)
        self.leaves[label] = receipt["log_index"]
        self.signed[label] = parse_envelope(envelope).stored()
        return receipt

    def assessment(self, unit: str) -> Assessment:
        return self.app.get(Assessment.create_id(CYCLE, unit))

    def when(self) -> When:
        return When(self.app.get(Cycle.create_id(CYCLE)), datetime.now(UTC))

    def reports(self) -> tuple[list, list]:
        store = verify(StoreSource(self.app.tlog), log_key=self.env.log_key, workers=1)
        out = self.tmp / "bundle.jsonl"
        export_bundle(self.app.tlog, out, log_key=self.env.log_key, origin=self.app.settings.origin)
        bundle = verify(BundleSource(out), log_key=self.env.log_key, workers=1)
        return findings(store), findings(bundle)


def findings(report: Report) -> list[tuple[str, dict, str]]:
    return [(f.kind, f.position, f.detail) for f in report.findings]


def kinds(found: list[tuple[str, dict, str]]) -> list[tuple[str, dict]]:
    return [(k, p) for k, p, _d in found]


@pytest.fixture
def season(env: Env, tmp_path) -> Season:
    framework = load_bundled("thai-nguyen-2021-commune")
    s = Season(env, tmp_path, framework)
    s.send("publish", env.admin, "publish_framework", framework=to_dict(framework))
    s.send(
        "open",
        env.admin,
        "open_cycle",
        cycle=CYCLE,
        name="Kỳ đánh giá 2025",
        framework=str(framework.id),
        year=2025,
        authority="dong-hy",
        province="thai-nguyen",
        units=[
            {"code": "xa-a", "name": "Xã A"},
            {"code": "xa-b", "name": "Xã B"},
            {"code": "xa-s", "name": "Xã S"},
        ],
    )
    for unit in ("xa-a", "xa-b", "xa-s"):
        key = new_key()
        s.send(
            f"reg-{unit}",
            env.admin,
            "register_key",
            **_register(key, "commune_officer", f"commune:{unit}"),
        )
        s.officers[unit] = key
    s.appraiser = new_key()
    s.send(
        "reg-appraiser",
        env.admin,
        "register_key",
        **_register(s.appraiser, "appraiser", "authority:dong-hy"),
    )
    s.send(
        "score-a-1",
        s.officers["xa-a"],
        "record_self_score",
        cycle=CYCLE,
        unit="xa-a",
        leaf="1.1.1",
        points="0.5",
    )
    s.send(
        "score-a-2",
        s.officers["xa-a"],
        "record_self_score",
        cycle=CYCLE,
        unit="xa-a",
        leaf="1.1.1",
        points="0",
    )
    s.send(
        "score-b",
        s.officers["xa-b"],
        "record_self_score",
        cycle=CYCLE,
        unit="xa-b",
        leaf="1.1.1",
        points="0.25",
    )
    env.submit_unit("xa-s", s.officers["xa-s"], cycle=CYCLE)  # appraised after submission
    s.send(
        "adjust-s",
        s.appraiser,
        "adjust_score",
        cycle=CYCLE,
        unit="xa-s",
        leaf="1.1.2",
        points="0",
        reason="Không có văn bản",
    )
    env.checkpoint()
    assert s.reports() == ([], [])  # the honest season verifies clean
    return s


def _register(key: Key, role: str, scope: str) -> dict:
    return {
        "key_id": key.key_id,
        "public_key": key.public_key,
        "role": role,
        "scope": scope,
        "display_name": "Nguyễn Văn An",
    }


def rehash_and_resign(app) -> None:
    """What an operator holding the log key does after editing events: every leaf
    hash recomputed from the stored events, nodes and frontier rebuilt, every
    checkpoint re-signed over the new roots."""
    t = app.tlog.t
    frontier = merkle.CompactRange()
    roots: dict[int, bytes] = {}
    leaves, nodes = [], []
    for e in app.tlog.iter_events():
        digest = event_leaf_hash(e.originator_id, e.originator_version, e.topic, e.state)
        leaves.append((digest, e.leaf_index))
        nodes += [(lvl, idx, h) for lvl, idx, h in frontier.append(digest) if lvl > 0]
        roots[frontier.size] = frontier.root()
    notes = [
        (roots[cp.size], forged_checkpoint(app, cp.size, roots[cp.size]), cp.size)
        for cp in app.tlog.checkpoints()
    ]
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.executemany(t.q(f"UPDATE {t.leaves} SET leaf_hash = ? WHERE leaf_index = ?"), leaves)
        cur.execute(t.q(f"DELETE FROM {t.nodes}"))
        cur.executemany(t.q(f"INSERT INTO {t.nodes} (level, idx, hash) VALUES (?, ?, ?)"), nodes)
        cur.execute(
            t.q(f"UPDATE {t.state} SET size = ?, frontier = ? WHERE id = 1"),
            (frontier.size, frontier.to_bytes()),
        )
        cur.executemany(t.q(f"UPDATE {t.checkpoints} SET root = ?, note = ? WHERE size = ?"), notes)


def edit_state(app, index: int, old: bytes, new: bytes) -> None:
    *_, state = event_row(app, index)
    assert state.count(old) == 1, state
    set_event_state(app, index, state.replace(old, new))


def append_forged(season: Season, aggregate) -> int:
    """Stores an aggregate's pending events through the production recorder (so
    they get proper leaves), bypassing every check of the write path, then signs
    a checkpoint over the new head as the operator would. A careful operator also
    indexes the command, which works only for a command id not indexed yet."""
    signed = getattr(aggregate.pending_events[0], "signed", None)
    command_id = json.loads(signed["command"])["id"] if signed else None
    if command_id is not None and season.app.tlog.command(command_id) is None:
        season.app.save(aggregate, command_id=command_id, command_digest="forged")
    else:
        season.app.save(aggregate)
    index = season.app.recorder.last_append.leaves[0].leaf_index
    season.env.checkpoint()
    return index


def with_index_gap(found: list, index: int) -> list:
    """A copied command id cannot be indexed twice: the store also shows the leaf
    no command row covers (a bundle carries no command index)."""
    return sorted(
        [*found, ("command_index_missing", {"leaf_index": index})],
        key=lambda f: (f[1]["leaf_index"], f[0]),
    )


# -- the five forgeries ------------------------------------------------------------------
def test_a_signed_appraisal_copied_onto_another_communes_assessment_is_reported(season: Season):
    b = season.assessment("xa-b")
    b._adjusted(
        leaf="1.1.2",
        points="0",
        done=None,
        numerator=None,
        denominator=None,
        not_applicable=None,
        reason="Không có văn bản",
        evidence_ids=None,
        round=1,
        signed=season.signed["adjust-s"],
    )
    index = append_forged(season, b)
    expected = [
        ("command_replayed", {"leaf_index": index}),
        ("wrong_aggregate", {"leaf_index": index}),
    ]
    store, bundle = season.reports()
    assert kinds(bundle) == expected
    assert kinds(store) == with_index_gap(expected, index)
    assert f"leaf {season.leaves['adjust-s']}" in bundle[0][2]


def test_an_old_signed_command_appended_again_is_command_replayed(season: Season):
    # The officer scored 0.5, then corrected it to 0; the operator appends the
    # first command again so the score reverts to 0.5.
    a = season.assessment("xa-a")
    # The operator writes the event itself; the server's rule would refuse it.
    a._self_scored(
        leaf="1.1.1",
        points="0.5",
        done=None,
        numerator=None,
        denominator=None,
        not_applicable=None,
        note=None,
        signed=season.signed["score-a-1"],
    )
    index = append_forged(season, a)
    store, bundle = season.reports()
    # Older than the correction it would overwrite: also out of signed order.
    expected = [
        ("command_replayed", {"leaf_index": index}),
        ("event_not_derived", {"leaf_index": index}),
    ]
    assert kinds(bundle) == expected
    assert kinds(store) == with_index_gap(expected, index)
    assert bundle[1][2] == "the command is refused: signed_out_of_order"
    assert bundle[0][2] == (
        f"command '{json.loads(season.signed['score-a-1']['command'])['id']}'"
        f" already at leaf {season.leaves['score-a-1']}"
    )


def test_an_unsigned_not_applicable_added_to_a_self_score_is_event_not_derived(season: Season):
    index = season.leaves["score-b"]
    edit_state(season.app, index, b'"not_applicable":null', b'"not_applicable":true')
    rehash_and_resign(season.app)
    store, bundle = season.reports()
    expected = [("event_not_derived", {"leaf_index": index}, "field 'not_applicable'")]
    assert store == bundle == expected


def test_a_rotated_keys_role_raised_in_its_event_does_not_make_it_an_admin(season: Season):
    old, successor = season.officers["xa-a"], new_key()
    season.send(
        "rotate",
        season.env.admin,
        "rotate_key",
        old_key_id=old.key_id,
        key_id=successor.key_id,
        public_key=successor.public_key,
    )
    registered = season.leaves["rotate"] + 1  # Rotated, then the successor's Registered
    edit_state(
        season.app,
        registered,
        b'"role":"commune_officer","scope":"commune:xa-a"',
        b'"role":"admin","scope":"*"',
    )
    rehash_and_resign(season.app)
    season.env.reopen()  # the server now believes the stored event: an admin key
    minted = season.send("mint", successor, "register_key", **_register(new_key(), "admin", "*"))[
        "log_index"
    ]
    season.env.checkpoint()
    store, bundle = season.reports()
    assert (
        kinds(store)
        == kinds(bundle)
        == [
            ("event_not_derived", {"leaf_index": registered}),
            ("not_permitted", {"leaf_index": minted}),
        ]
    )
    assert store[0][2] == "field 'role'"
    assert "role commune_officer, scope commune:xa-a" in store[1][2]


def test_an_event_whose_signers_scope_does_not_cover_its_target_is_not_permitted(season: Season):
    # Commune A's officer signs a self-score for commune B; the server would
    # refuse it, the operator stores it anyway.
    cmd = command(
        season.officers["xa-a"],
        "record_self_score",
        cycle=CYCLE,
        unit="xa-b",
        leaf="1.1.1",
        points="1",
    )
    b = season.assessment("xa-b")
    b._self_scored(  # the operator writes the event itself
        leaf="1.1.1",
        points="1",
        done=None,
        numerator=None,
        denominator=None,
        not_applicable=None,
        note=None,
        signed=parse_envelope(season.officers["xa-a"].sign(cmd)).stored(),
    )
    index = append_forged(season, b)
    store, bundle = season.reports()
    assert kinds(store) == kinds(bundle) == [("not_permitted", {"leaf_index": index})]
    assert "scope commune:xa-a" in store[0][2]


# -- more of the same rule -----------------------------------------------------------------
def test_an_assessment_opened_outside_its_cycles_command_is_event_not_derived(season: Season):
    # A third commune slipped into the cycle: its Opened event names the real
    # open_cycle command, but that command listed three other units.
    opened = season.leaves["open"]
    _oid, _v, _t, state = event_row(season.app, opened + 1)
    ref = json.loads(state)["command"]
    intruder = Assessment(cycle=CYCLE, unit="xa-c", unit_name="Xã C", command=ref)
    index = append_forged(season, intruder)
    store, bundle = season.reports()
    # It names a command already used (at the cycle's leaf) and no command's run
    # yields it.
    expected = [
        ("command_replayed", {"leaf_index": index}),
        ("event_not_derived", {"leaf_index": index}),
    ]
    assert kinds(bundle) == expected
    assert kinds(store) == with_index_gap(expected, index)


def test_a_self_score_stamped_outside_its_commands_window_is_timestamp_out_of_window(
    season: Season,
):
    index = season.leaves["score-b"]
    *_, state = event_row(season.app, index)
    stamp = json.loads(state)["timestamp"]["_data_"]
    edit_state(season.app, index, stamp.encode(), ("2031" + stamp[4:]).encode())
    rehash_and_resign(season.app)
    store, bundle = season.reports()
    assert kinds(store) == kinds(bundle) == [("timestamp_out_of_window", {"leaf_index": index})]


def test_a_value_of_another_json_type_is_not_the_signed_value(season: Season):
    # "equal value" is the JSON value with its type: "0.25" is not 0.25, and so on.
    index = season.leaves["score-b"]
    edit_state(season.app, index, b'"points":"0.25"', b'"points":0.25')
    rehash_and_resign(season.app)
    store, bundle = season.reports()
    assert store == bundle == [("event_not_derived", {"leaf_index": index}, "field 'points'")]


# -- the same findings from both cores ------------------------------------------------------
def test_parallel_replay_names_the_same_forgeries_as_one_process(tmp_path, monkeypatch):
    # Small chunks, so a small log takes the parallel path (workers own shares
    # of the assessments and read their own leaf ranges, or get their share of
    # a bundle's lines).
    from application.audit import verify as verify_module

    monkeypatch.setattr(verify_module, "CHUNK", 100)
    monkeypatch.setattr(verify_module, "INLINE_BELOW", 200)
    env = make_env(tmp_path, None)
    try:
        framework = load_bundled("thai-nguyen-2021-commune")
        s = Season(env, tmp_path, framework)
        s.send("publish", env.admin, "publish_framework", framework=to_dict(framework))
        units = [f"xa-{u:02d}" for u in range(16)]
        s.send(
            "open",
            env.admin,
            "open_cycle",
            cycle=CYCLE,
            name="Kỳ",
            year=2025,
            framework=str(framework.id),
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": u, "name": u} for u in units],
        )
        for u in units:
            key = new_key()
            env.send(register_command(env.admin, key, "commune_officer", f"commune:{u}"))
            s.officers[u] = key
        leaves = [lf.code for lf in framework.leaves]
        aggregates = {u: s.assessment(u) for u in units}
        when = s.when()
        for n in range(900):
            u = units[n % len(units)]
            leaf = leaves[(n // len(units)) % len(leaves)]
            cmd = command(
                s.officers[u], "record_self_score", cycle=CYCLE, unit=u, leaf=leaf, points="0"
            )
            stored = parse_envelope(s.officers[u].sign(cmd)).stored()
            aggregates[u].record_self_score(framework, when, leaf, {"points": "0"}, None, stored)
            if n % 500 == 499:
                env.app.save(*aggregates.values(), command_id=f"batch-{n}")
        env.app.save(*aggregates.values(), command_id="last-batch")
        env.checkpoint()
        size = env.app.tlog.size()
        edit_state(env.app, size - 300, b'"not_applicable":null', b'"not_applicable":true')
        rehash_and_resign(env.app)
        one = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=1)
        two = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=2)
        out = tmp_path / "b.jsonl"
        export_bundle(env.app.tlog, out, log_key=env.log_key, origin=env.app.settings.origin)
        bundle = verify(BundleSource(out), log_key=env.log_key, workers=2)
        expected = [("event_not_derived", {"leaf_index": size - 300}, "field 'not_applicable'")]
        assert findings(one) == findings(two) == findings(bundle) == expected
        assert one.events_checked == two.events_checked == bundle.events_checked == size
    finally:
        env.app.close()
