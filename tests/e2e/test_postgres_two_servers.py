"""Two `parindex serve` processes sharing one PostgreSQL event store, each with
its own data directory and read model (issue 4, item 7).

Server A takes the writes; server B must show them once its own read model has
the receipt's `position` (reads pass it and wait, bounded). Proofs served by B
are checked here with nothing but the log's verifier key.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.deployment import init_deployment, open_app
from application.signing import keys
from application.transparency import merkle, note
from application.transparency.leaf import event_leaf_hash
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from interfaces.client import ApiError, Client
from interfaces.http.app import READ_MODEL_FILE, create_app, services_of
from projections.store import ReadModel, combine
from tests.e2e.http_support import (
    AUTHORITY,
    CYCLE,
    PROVINCE,
    UNITS,
    Http,
    Served,
    assert_problem,
)
from tests.support import (
    PG_SKIP_REASON,
    drop_pg_schema,
    key_from_file,
    pg_base_url,
    pg_schema_url,
)

pytestmark = pytest.mark.postgres

FRAMEWORK = load_bundled("thai-nguyen-2021-commune")
READ_WAIT = 5.0  # the server's bound for ?position= (docs/API.md)


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# -- the deployment: one PG schema, two data directories, two servers ----------------------
@dataclass
class Cluster:
    database_url: str
    dirs: tuple[Path, Path]
    servers: tuple[Served, Served]
    admin_key_file: Path
    log_key: str
    key_dir: Path

    @property
    def a(self) -> Served:
        return self.servers[0]

    @property
    def b(self) -> Served:
        return self.servers[1]

    def client(self, server: Served, key_file: Path | None) -> Client:
        return Client(server.url, key_file, log_key=self.log_key, timeout=30)


def second_data_dir(first: Path, second: Path) -> None:
    """What an app server needs besides the shared store: the deployment's
    parindex.json and the log key (0600); its read model is its own."""
    (second / "keys").mkdir(parents=True)
    shutil.copy(first / "parindex.json", second / "parindex.json")
    shutil.copy(first / "keys" / "log.key", second / "keys" / "log.key")
    os.chmod(second / "keys" / "log.key", 0o600)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    schema = f"t_{uuid.uuid4().hex}"
    try:
        yield pg_schema_url(base, schema)
    finally:
        drop_pg_schema(base, schema)


@pytest.fixture(scope="module")
def cluster(pg_url, tmp_path_factory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("pg-two-servers")
    a_dir, b_dir = root / "server-a", root / "server-b"
    info = init_deployment(a_dir, database_url=pg_url, admin_key_path=root / "admin.key")
    assert info["backend"] == "postgres"
    second_data_dir(a_dir, b_dir)
    started: list[Served] = []
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PARINDEX_DATABASE_URL", pg_url)  # inherited by the servers only
            started.append(Served(a_dir, workers=2))
            started.append(Served(b_dir, workers=2))
        yield Cluster(
            pg_url,
            (a_dir, b_dir),
            (started[0], started[1]),
            root / "admin.key",
            info["log_key"],
            root,
        )
    finally:
        for server in started:
            server.stop()
    assert not (b_dir / "events.sqlite").exists()  # B never fell back to SQLite


@dataclass
class Season:
    framework_id: str
    officer: Path  # commune officer of xa-01
    officer_2: Path  # commune officer of xa-02
    appraiser: Path
    receipts: dict[str, dict]


def _new_person(admin: Client, path: Path, role: str, scope: str, name: str) -> dict:
    private = keys.generate()
    key_id = keys.save_actor_key_file(path, private, display_name=name)
    return admin.send(
        {
            "type": "register_key",
            "key_id": key_id,
            "public_key": keys.b64(keys.public_raw(private)),
            "role": role,
            "scope": scope,
            "display_name": name,
        }
    )


@pytest.fixture(scope="module")
def season(cluster) -> Season:
    """Everything set up through server A: framework, cycle, people."""
    admin = cluster.client(cluster.a, cluster.admin_key_file)
    framework = to_dict(FRAMEWORK)
    receipts = {
        "framework": admin.send({"type": "publish_framework", "framework": framework}),
        "cycle": admin.send(
            {
                "type": "open_cycle",
                "cycle": CYCLE,
                "name": "Kỳ đánh giá 2025",
                "framework": framework["id"],
                "year": 2025,
                "authority": AUTHORITY,
                "province": PROVINCE,
                "units": [{"code": u, "name": f"Xã {u[-2:]}"} for u in UNITS],
            }
        ),
    }
    d = cluster.key_dir
    receipts["officer"] = _new_person(
        admin, d / "officer.key", "commune_officer", f"commune:{UNITS[0]}", "Công chức VP-TK xã 01"
    )
    receipts["officer_2"] = _new_person(
        admin,
        d / "officer-2.key",
        "commune_officer",
        f"commune:{UNITS[1]}",
        "Công chức VP-TK xã 02",
    )
    receipts["chair"] = _new_person(
        admin, d / "chair.key", "commune_chair", f"commune:{UNITS[0]}", "Chủ tịch UBND xã 01"
    )
    receipts["appraiser"] = _new_person(
        admin,
        d / "appraiser.key",
        "appraiser",
        f"authority:{AUTHORITY}",
        "Nguyễn Thị Thu (Tổ giúp việc)",
    )
    return Season(
        framework["id"], d / "officer.key", d / "officer-2.key", d / "appraiser.key", receipts
    )


def _leaf_node(scores: dict, code: str) -> dict:
    return next(n for n in scores["nodes"] if n["code"] == code)


def _read_model(cluster: Cluster, which: int) -> Path:
    return cluster.dirs[which] / READ_MODEL_FILE


# -- 1. a write through A, read through B ------------------------------------------------------
def test_a_write_through_one_server_is_read_through_the_other(cluster, season):
    officer_a = cluster.client(cluster.a, season.officer)
    appraiser_a = cluster.client(cluster.a, season.appraiser)
    r1 = officer_a.send(
        {
            "type": "record_self_score",
            "cycle": CYCLE,
            "unit": UNITS[0],
            "leaf": "1.1.1",
            "points": "1",
            "note": "Kế hoạch 15/KH-UBND",
        }
    )
    r2 = officer_a.send(
        {
            "type": "record_self_score",
            "cycle": CYCLE,
            "unit": UNITS[0],
            "leaf": "1.2.1",
            "points": "0.375",
        }
    )
    # The chair submits (every other leaf "0"): nothing is appraised before.
    for leaf in FRAMEWORK.leaves:
        if leaf.code not in ("1.1.1", "1.2.1"):
            where = {"cycle": CYCLE, "unit": UNITS[0], "leaf": leaf.code}
            officer_a.send({"type": "record_self_score", **where, "points": "0"})
    chair_a = cluster.client(cluster.a, cluster.key_dir / "chair.key")
    shown = chair_a.submission(CYCLE, UNITS[0])
    chair_a.send(
        {
            "type": "submit_assessment",
            "cycle": CYCLE,
            "unit": UNITS[0],
            "digest": shown["digest"],
            "self_total": shown["content"]["self_total"],
        }
    )
    r3 = appraiser_a.send(
        {
            "type": "adjust_score",
            "cycle": CYCLE,
            "unit": UNITS[0],
            "leaf": "1.1.1",
            "points": "0.75",
            "reason": "Kế hoạch CCHC ban hành chậm so với thời hạn",
        }
    )
    assert r1["position"] < r2["position"] < r3["position"]
    assert r2["log_index"] == r1["log_index"] + 1 and r3["log_index"] > r2["log_index"]

    # Reads on B name the receipt's position: B's own read model waits for it.
    officer_b = cluster.client(cluster.b, season.officer)
    officer_b.last_position = r3["position"]
    cycles = officer_b.cycles()["cycles"]
    assert [c["cycle"] for c in cycles] == [CYCLE]

    scores = officer_b.scores(CYCLE, UNITS[0])
    assert (scores["self_total"], scores["appraised_total"]) == ("1.375", "1.125")
    leaf = _leaf_node(scores, "1.1.1")
    assert (leaf["self_score"], leaf["appraised_score"]) == ("1", "0.75")
    assert leaf["adjusted"] is True
    assert leaf["display"]["appraised_score"] == "0.75"
    assert _leaf_node(scores, "1.2.1")["self_score"] == "0.375"
    assert _leaf_node(scores, "1.2.1")["display"]["self_score"] == "0.38"  # half up

    history = officer_b.history(CYCLE, UNITS[0], "1.1.1")
    entries = history["entries"]
    assert [(e["kind"], e["new_points"]) for e in entries] == [
        ("self_score", "1"),
        ("adjustment", "0.75"),
    ]
    assert [e["leaf_index"] for e in entries] == [r1["log_index"], r3["log_index"]]
    actors = {season.officer: entries[0], season.appraiser: entries[1]}
    for key_file, entry in actors.items():
        key = key_from_file(key_file)
        assert entry["actor"]["key_id"] == key.key_id
        Ed25519PublicKey.from_public_bytes(_b64(key.public_key)).verify(
            _b64(entry["signature"]), b"parindex-command/v1\n" + entry["command"].encode()
        )
    assert json.loads(entries[1]["command"])["reason"].startswith("Kế hoạch CCHC")

    # why, checked here by hand with nothing but the log key ...
    _s, _h, raw = officer_b.request(
        "GET",
        f"/api/v1/cycles/{CYCLE}/units/{UNITS[0]}/leaves/1.1.1/why",
        query={"position": r3["position"]},
        signed=True,
    )
    doc = json.loads(raw)
    opened = note.open_note(doc["checkpoint"]["note"], [cluster.log_key])
    checkpoint = note.parse_checkpoint(opened.text)
    assert checkpoint.size > r3["log_index"]
    assert [e["leaf_index"] for e in doc["chain"]] == [r1["log_index"], r3["log_index"]]
    receipt_hashes = {
        r1["log_index"]: r1["events"][0]["leaf_hash"],
        r3["log_index"]: r3["events"][0]["leaf_hash"],
    }
    for e in doc["chain"]:
        logged, proof = e["logged"], e["proof"]
        leaf_hash = event_leaf_hash(
            logged["originator_id"], int(logged["version"]), logged["topic"], _b64(logged["state"])
        )
        assert leaf_hash == _b64(proof["leaf_hash"])
        assert leaf_hash.hex() == receipt_hashes[e["leaf_index"]]  # what A's receipt said
        assert proof["tree_size"] == checkpoint.size
        merkle.verify_inclusion(
            leaf_hash,
            e["leaf_index"],
            checkpoint.size,
            [_b64(h) for h in proof["hashes"]],
            checkpoint.root,
        )
    # ... and by the client, the same way.
    verified = officer_b.why(CYCLE, UNITS[0], "1.1.1")
    assert verified["verified"] and all(e["verified"] for e in verified["chain"])
    assert verified["chain"][-1]["signed_command"]["points"] == "0.75"

    # B's log endpoints prove A's receipt too (the log itself is shared).
    proof = officer_b.inclusion_proof(r2["log_index"])
    size, root = checkpoint_of(proof["checkpoint"], cluster.log_key)
    assert size == proof["tree_size"]
    merkle.verify_inclusion(
        bytes.fromhex(r2["events"][0]["leaf_hash"]),
        r2["log_index"],
        size,
        [_b64(h) for h in proof["hashes"]],
        root,
    )


def checkpoint_of(cp: dict | str, log_key: str) -> tuple[int, bytes]:
    text = cp["note"] if isinstance(cp, dict) else cp
    body = note.parse_checkpoint(note.open_note(text, [log_key]).text)
    return body.size, body.root


# -- 2. concurrent writers through both servers --------------------------------------------------
def test_concurrent_writers_on_both_servers_leave_one_contiguous_log(cluster, season):
    leaves = FRAMEWORK.leaves[:100]
    expected = {lf.code: str(Decimal(lf.max_points).normalize()) for lf in leaves}
    servers = (cluster.a, cluster.b)

    def writer(half: int) -> list[dict]:
        client = cluster.client(servers[half], season.officer_2)
        return [
            client.send(
                {
                    "type": "record_self_score",
                    "cycle": CYCLE,
                    "unit": UNITS[1],
                    "leaf": lf.code,
                    "points": expected[lf.code],
                    "note": f"Tự chấm qua máy chủ {'AB'[half]}",
                }
            )
            for lf in leaves[half::2]
        ]

    with ThreadPoolExecutor(2) as pool:
        receipts = [r for part in pool.map(writer, (0, 1)) for r in part]
    assert len(receipts) == 100 and not any(r["replayed"] for r in receipts)
    assert len({r["log_index"] for r in receipts}) == 100
    assert len({r["position"] for r in receipts}) == 100
    head = max(r["position"] for r in receipts)

    with open_app(cluster.dirs[1]) as app:
        size = app.tlog.size()
        assert [leaf.leaf_index for leaf in app.tlog.leaves_range(0, size)] == list(range(size))
        assert app.tlog.count_events() == size
        assert (app.recorder.max_notification_id() or 0) == head
    assert {r["log_index"] for r in receipts} <= set(range(size))

    # Both read models catch up to the same position and hold the same rows.
    views = []
    for server in servers:
        reader = cluster.client(server, season.officer_2)
        reader.last_position = head
        views.append(reader.scores(CYCLE, UNITS[1]))
    for view in views:
        assert {code: _leaf_node(view, code)["self_score"] for code in expected} == expected
    assert views[0]["self_total"] == views[1]["self_total"]
    assert Decimal(views[0]["self_total"]) == sum(Decimal(v) for v in expected.values())

    digests = []
    for which in (0, 1):
        model = ReadModel(_read_model(cluster, which))
        try:
            digests.append(model.digests_at())
        finally:
            model.close()
    (pos_a, tables_a), (pos_b, tables_b) = digests
    assert pos_a == pos_b == head
    assert tables_a == tables_b and combine(tables_a) == combine(tables_b)

    # `parindex verify` on either data directory: log, checkpoints, signatures, and the
    # read model that directory's server serves against one rebuilt from the log.
    exe = Path(sys.executable).with_name("parindex")
    runs = [
        subprocess.Popen(
            [str(exe), "verify", "--data-dir", str(d), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for d in cluster.dirs
    ]
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, (out.decode()[-3000:], err.decode()[-3000:])
        report = json.loads(out)
        assert report["ok"] is True and report["size"] >= size


# -- 3. positions beyond the log, and a read model that cannot move ------------------------------
def test_a_position_beyond_the_log_is_409_at_once(cluster, season):
    reader = cluster.client(cluster.b, season.officer)
    head = int(reader.health()["log_position"])
    reader.last_position = head + 1_000_000
    started = time.monotonic()
    with pytest.raises(ApiError) as info:
        reader.scores(CYCLE, UNITS[0])
    assert (info.value.status, info.value.code) == (409, "position_beyond_log")
    assert info.value.body["errors"][0]["field"] == "position"
    assert time.monotonic() - started < 2


@contextmanager
def holding_write_lock(read_model: Path) -> Iterator[None]:
    """Another process holds the read model's write lock: no follower of that file
    can apply anything (reads still work: WAL)."""
    lock = sqlite3.connect(read_model, isolation_level=None, timeout=10)
    try:
        lock.execute("BEGIN IMMEDIATE")
        yield
    finally:
        if lock.in_transaction:
            lock.rollback()
        lock.close()


def test_a_position_b_cannot_reach_is_503_within_the_bound_then_served(cluster, season):
    # xa-02: xa-01 is submitted by the first test, its self-scores locked
    officer_a = cluster.client(cluster.a, season.officer_2)
    reader = cluster.client(cluster.b, season.officer_2)
    reader.last_position = officer_a.send(
        {
            "type": "record_self_score",
            "cycle": CYCLE,
            "unit": UNITS[1],
            "leaf": "1.1.2",
            "points": "0.5",
        }
    )["position"]
    reader.scores(CYCLE, UNITS[1])  # B is current

    with holding_write_lock(_read_model(cluster, 1)):  # B's projection cannot advance
        receipt = officer_a.send(
            {
                "type": "record_self_score",
                "cycle": CYCLE,
                "unit": UNITS[1],
                "leaf": "1.1.2",
                "points": "1",
            }
        )
        reader.last_position = receipt["position"]
        started = time.monotonic()
        with pytest.raises(ApiError) as info:
            reader.scores(CYCLE, UNITS[1])
        waited = time.monotonic() - started
        assert (info.value.status, info.value.code) == (503, "projection_lagging")
        assert READ_WAIT - 0.5 <= waited < READ_WAIT + 2.5, waited
        # A, on its own read model, has the write; B without a position answers at
        # once from what it has.
        a_reader = cluster.client(cluster.a, season.officer_2)
        a_reader.last_position = receipt["position"]
        assert _leaf_node(a_reader.scores(CYCLE, UNITS[1]), "1.1.2")["self_score"] == "1"
        stale = cluster.client(cluster.b, season.officer_2)
        assert _leaf_node(stale.scores(CYCLE, UNITS[1]), "1.1.2")["self_score"] == "0.5"
    # Once the lock is gone, B catches up and the same read succeeds.
    assert _leaf_node(reader.scores(CYCLE, UNITS[1]), "1.1.2")["self_score"] == "1"


def test_a_read_that_catches_up_itself_is_bounded_too(cluster, season):
    """B's app with its follower stopped: the read's own catch-up meets the lock
    another writer of the file holds, and still answers within `read_wait`."""
    flask = create_app(cluster.dirs[1], follow=True, read_wait=1.0)
    try:
        services_of(flask).follower.stop()
        http = Http(flask.test_client())
        officer = key_from_file(season.officer_2)
        officer_a = cluster.client(cluster.a, season.officer_2)
        with holding_write_lock(_read_model(cluster, 1)):
            receipt = officer_a.send(
                {
                    "type": "record_self_score",
                    "cycle": CYCLE,
                    "unit": UNITS[1],
                    "leaf": "1.2.2",
                    "points": "0.5",
                }
            )
            path = f"/api/v1/cycles/{CYCLE}/units/{UNITS[1]}/scores?position={receipt['position']}"
            started = time.monotonic()
            resp = http.get(path, officer)
            waited = time.monotonic() - started
            assert_problem(resp, 503, "projection_lagging")
            assert resp.headers["Retry-After"] == "1"
            assert waited < 2.5, waited
        resp = http.get(path, officer)
        assert resp.status_code == 200
        assert _leaf_node(resp.get_json(), "1.2.2")["self_score"] == "0.5"
    finally:
        services_of(flask).close()
