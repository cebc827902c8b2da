"""Two OS processes writing to one deployment at once.

Each process opens the deployment on its own (as two app servers would) and
sends N register_key commands as fast as it can; both start on the same signal.
Afterwards the log must be one gapless sequence of leaves, one per event, and
verify must find nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from tests.support import Env, command, new_key, register_command, sql

N = 100

WORKER = r"""
import json, sys, time
from pathlib import Path
from application.deployment import open_app

data_dir, envelopes, go = sys.argv[1:4]
envelopes = json.loads(Path(envelopes).read_text("utf-8"))
app = open_app(data_dir)
print("ready", flush=True)
deadline = time.time() + 30
while not Path(go).exists():
    if time.time() > deadline:
        sys.exit("no start signal")
    time.sleep(0.001)
receipts = [app.handle(e) for e in envelopes]
app.close()
print(json.dumps(receipts))
"""


def _run_writers(env: Env, tmp_path, batches: list[list[dict]]) -> list[list[dict]]:
    """Runs one process per batch of envelopes, all released at the same moment."""
    go = tmp_path / "go"
    procs = []
    for n, batch in enumerate(batches):
        path = tmp_path / f"batch-{n}.json"
        path.write_text(json.dumps(batch), "utf-8")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(env.data_dir), str(path), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for p in procs:  # each has imported everything and opened the store
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def _registrations(env: Env, n: int, name: str) -> list[dict]:
    return [
        env.admin.sign(register_command(env.admin, new_key(), name=f"{name} {i}")) for i in range(n)
    ]


def _assert_one_gapless_log(app, size: int) -> None:
    leaves = app.tlog.leaves_range(0, size + 10)
    assert [x.leaf_index for x in leaves] == list(range(size))
    per_event = Counter((x.originator_id, x.originator_version) for x in leaves)
    assert max(per_event.values()) == 1
    assert app.tlog.count_events() == size
    assert app.tlog.events_outside_log() == []


def test_two_processes_writing_at_once_leave_one_gapless_log(env: Env, tmp_path):
    start = env.app.tlog.size()
    checkpoints = len(env.app.tlog.checkpoints())
    alpha, beta = _run_writers(
        env, tmp_path, [_registrations(env, N, "alpha"), _registrations(env, N, "beta")]
    )

    app = env.reopen()
    size = app.tlog.size()
    assert size == start + 2 * N

    # Every receipt got its own leaf, none replayed, and together they fill the
    # indices after the genesis exactly.
    indices = [r["log_index"] for r in alpha + beta]
    assert not any(r["replayed"] for r in alpha + beta)
    assert sorted(indices) == list(range(start, start + 2 * N))
    # Each process saw its own receipts in increasing log order.
    for mine in (alpha, beta):
        assert [r["log_index"] for r in mine] == sorted(r["log_index"] for r in mine)
        assert all(r["tree_size"] == r["log_index"] + 1 for r in mine)

    _assert_one_gapless_log(app, size)
    rows = sql(app, f"SELECT COUNT(*) AS n FROM {app.tlog.t.commands}")
    assert int(rows[0]["n"]) == 2 * N + 1  # every command id, plus the genesis

    # The tree the stored frontier describes is the tree of the stored leaves.
    cp = env.checkpoint()
    assert cp.size == size
    assert len(app.tlog.checkpoints()) == checkpoints + 1
    report = verify(StoreSource(app.tlog), log_key=env.log_key, workers=1)
    assert report.findings == []
    assert report.ok and report.size == size and report.events_checked == size


def test_two_processes_sending_the_same_commands_append_each_once(env: Env, tmp_path):
    start = env.app.tlog.size()
    batch = _registrations(env, N, "same")
    # The second process gets the same envelopes in reverse, so the two meet.
    first, second = _run_writers(env, tmp_path, [batch, list(reversed(batch))])
    second.reverse()

    app = env.reopen()
    assert app.tlog.size() == start + N
    _assert_one_gapless_log(app, start + N)
    for a, b in zip(first, second, strict=True):
        # One of the two wrote it, the other got the very same receipt back.
        assert sorted([a["replayed"], b["replayed"]]) == [False, True]
        assert {**a, "replayed": None} == {**b, "replayed": None}
    assert sorted(r["log_index"] for r in first) == list(range(start, start + N))
    report = verify(StoreSource(app.tlog), log_key=env.log_key, workers=1)
    assert report.findings == [] and report.size == start + N


SCORER = r"""
import json, sys, time
from pathlib import Path
from application.deployment import open_app
from domain.errors import DomainError

data_dir, envelopes, go = sys.argv[1:4]
envelopes = json.loads(Path(envelopes).read_text("utf-8"))
app = open_app(data_dir)
print("ready", flush=True)
deadline = time.time() + 30
while not Path(go).exists():
    if time.time() > deadline:
        sys.exit("no start signal")
    time.sleep(0.001)
receipts, refused = [], []
for e in envelopes:
    try:
        receipts.append(app.handle(e))
    except DomainError as err:
        refused.append(err.code)
app.close()
print(json.dumps({"receipts": receipts, "refused": refused}))
"""


def _run_scorers(env: Env, tmp_path, batches: list[list[dict]]) -> list[dict]:
    go = tmp_path / "go"
    procs = []
    for n, batch in enumerate(batches):
        path = tmp_path / f"scores-{n}.json"
        path.write_text(json.dumps(batch), "utf-8")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", SCORER, str(env.data_dir), str(path), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def test_four_processes_scoring_one_unit_without_expected_version_all_succeed(env: Env, tmp_path):
    # Four servers take self-scores for the same commune at once, none of them
    # naming the version it expects: each command must be applied in turn, not
    # refused as a version conflict because the others kept winning the race.
    # One officer per server: one key's scores of a leaf must arrive in the
    # order they were signed (signed_out_of_order), which one sender keeps.
    framework = env.open_cycle()
    officers = [env.register("commune_officer", "commune:xa-a")[0] for _ in range(4)]
    leaves = [lf.code for lf in framework.leaves if lf.max_points and lf.max_points >= 1][:10]
    per_process = 60
    batches = [
        [
            officers[w].sign(
                command(
                    officers[w],
                    "record_self_score",
                    cycle="c",
                    unit="xa-a",
                    leaf=leaves[i % len(leaves)],
                    points=str((i + w) % 2),
                )
            )
            for i in range(per_process)
        ]
        for w in range(4)
    ]
    start = env.app.tlog.size()

    results = _run_scorers(env, tmp_path, batches)

    assert [r["refused"] for r in results] == [[], [], [], []]
    receipts = [x for r in results for x in r["receipts"]]
    assert len(receipts) == 4 * per_process and not any(x["replayed"] for x in receipts)
    app = env.reopen()
    assert app.tlog.size() == start + 4 * per_process
    versions = sorted(x["events"][0]["version"] for x in receipts)
    assert versions == list(range(versions[0], versions[0] + 4 * per_process))
    _assert_one_gapless_log(app, start + 4 * per_process)
