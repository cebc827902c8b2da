"""Season bench: the council's cycle-wide commands on every commune of Vietnam.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/season_bench.py                 # 3,321 units, 3 repeats
    .venv/bin/python bench/season_bench.py --units 300 --repeat 1   # smoke run

A season of N units (default 3,321) is built once and kept under
``bench/results/season-logs/`` (gitignored): the bundled Thái Nguyên framework,
one ``open_cycle``, and for every unit 119 signed self-scores, a signed
submission and the council's signed close of the unit (signed in worker
processes, applied by the domain and saved by ``ParIndex.save``, as
``core_bench`` builds its verify logs). Then, on a fresh copy of that store for
each repeat, one child process sends through ``ParIndex.handle``, in order:

- ``close_appraisal`` (the whole cycle: every unit's state is read),
- the draft (``application.rankings.draft``: what a council chair's client reads),
- ``propose_ranking`` with that manifest (recomputed and compared by the server),
- ``approve_ranking`` (recomputed again: "nothing changed since the proposal"),
- ``publish_ranking`` (recomputed again).

Two ways: **cold**, a fresh ``ParIndex`` for each command, so each one loads
the 3,321 assessments from the store (a server just restarted); **warm**, one
``ParIndex`` for the whole sequence after one read of every unit (a server
that has been running the season). For each: wall seconds, bytes the store
grew (SQLite file after a WAL checkpoint), the child's peak RSS. Medians of
the repeats; every run goes to ``bench/results/season-<UTC stamp>.json``.
Targets (issue 8): each command under 2 s and under 1 MB written.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import cpu_model  # bench/ is the script's own directory

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
CACHE = RESULTS_DIR / "season-logs"
CYCLE = "bench-2025"
STEPS = ("close_appraisal", "draft", "propose_ranking", "approve_ranking", "publish_ranking")
ROLES = ("commune_officer", "commune_chair", "council_chair", "approver")


def private_key(role: str) -> Any:
    """One key per role (scope *), derived so workers sign without I/O."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"parindex-season-bench-{role}".encode()).digest()
    )


def signed_of(command: dict, private: Any) -> dict:
    """The `signed` object an event keeps: the exact JCS text and its signature."""
    from application.signing import keys
    from application.signing.jcs import COMMAND_CONTEXT, canonicalize_command

    canonical = canonicalize_command(command)
    return {
        "command": canonical.decode("utf-8"),
        "signature": base64.b64encode(private.sign(COMMAND_CONTEXT + canonical)).decode(),
        "key_id": keys.actor_key_id(keys.public_raw(private)),
    }


def _sign_unit(args: tuple[int, list[tuple[str, str]]]) -> tuple[int, list[tuple[dict, dict]]]:
    """Worker: the 119 signed self-scores of one unit (varied totals, some ties)."""
    from application.commands import utc_now_text
    from application.signing import keys

    unit, leaves = args
    private = private_key("commune_officer")
    key_id = keys.actor_key_id(keys.public_raw(private))
    out = []
    for i, (leaf, maximum) in enumerate(leaves):
        command = {
            "type": "record_self_score",
            "id": f"bench-s-{unit}-{i}",
            "issued_at": utc_now_text(),
            "actor": key_id,
            "cycle": CYCLE,
            "unit": f"xa-{unit:04d}",
            "leaf": leaf,
            "points": maximum if (unit * 7 + i) % 5 else "0",
        }
        out.append((command, signed_of(command, private)))
    return unit, out


def build(units: int) -> tuple[Path, float]:
    """The season store (cached); returns its data dir and seconds spent now."""
    data = CACHE / f"units-{units}" / "data"
    if (data.parent / "done").exists():
        return data, 0.0
    if data.parent.exists():
        shutil.rmtree(data.parent)  # a build that did not finish
    data.parent.mkdir(parents=True)
    sys.path.insert(0, str(REPO))
    from application.commands import sign_command, utc_now_text
    from application.deployment import init_deployment, open_app
    from application.signing import keys
    from domain import submission
    from domain.assessment import Assessment, When
    from domain.cycle import Cycle
    from domain.framework import canonical, to_dict
    from interfaces.bundled import load_bundled

    t0 = time.perf_counter()
    info = init_deployment(data, origin="bench.parindex.local/season")
    admin_id, admin, _ = keys.load_actor_key_file(info["admin_key_file"])
    app = open_app(data)
    framework = load_bundled("thai-nguyen-2021-commune")

    def send(**command: Any) -> None:
        envelope = {"id": f"b-{uuid.uuid4()}", "issued_at": utc_now_text(), "actor": admin_id}
        app.handle(sign_command({**envelope, **command}, admin))

    send(type="publish_framework", framework=to_dict(framework))
    send(
        type="open_cycle",
        cycle=CYCLE,
        name="Bench",
        framework=str(framework.id),
        year=2025,
        authority="bench",
        province="bench",
        units=[{"code": f"xa-{u:04d}", "name": f"Xã {u}"} for u in range(units)],
    )
    for role in ROLES:
        public = keys.public_raw(private_key(role))
        send(
            type="register_key",
            key_id=keys.actor_key_id(public),
            public_key=keys.b64(public),
            role=role,
            scope="*",
            display_name=f"Bench {role}",
        )
    leaves = [(lf.code, canonical(lf.max_points)) for lf in framework.leaves]
    chair, council = private_key("commune_chair"), private_key("council_chair")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for unit, scores in pool.imap(_sign_unit, ((u, leaves) for u in range(units))):
            code = f"xa-{unit:04d}"
            assessment = app.get(Assessment.create_id(CYCLE, code))
            when = When(app.get(Cycle.create_id(CYCLE)), datetime.now(UTC))
            for command, signed in scores:
                given = {"points": command["points"]}
                assessment.record_self_score(framework, when, command["leaf"], given, None, signed)
            covered = assessment.submission(framework)
            fields = {"digest": submission.digest(covered), "self_total": covered["self_total"]}
            assessment.submit(framework, when, *fields.values(), _signed(chair, code, fields))
            confirm = {"confirm": assessment.needs_review(framework)}
            closing = _signed(council, code, confirm, "close_appraisal")
            assessment.close(framework, when, confirm["confirm"], closing)
            app.save(assessment, command_id=f"bench-u-{unit}")
    app.close()
    (data.parent / "done").write_text(info["log_key"] + "\n")
    return data, time.perf_counter() - t0


def _signed(private: Any, unit: str, fields: dict, type_: str = "submit_assessment") -> dict:
    from application.commands import utc_now_text
    from application.signing import keys

    command = {
        "type": type_,
        "id": f"b-{uuid.uuid4()}",
        "issued_at": utc_now_text(),
        "actor": keys.actor_key_id(keys.public_raw(private)),
        "cycle": CYCLE,
        "unit": unit,
        **fields,
    }
    return signed_of(command, private)


# -- one timed run, in a child process -------------------------------------------------
def store_bytes(app: Any, data: Path) -> int:
    """What the store holds: its file after a WAL checkpoint (grows by pages)."""
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (data / "events.sqlite").stat().st_size


def event_bytes(app: Any, after: int) -> int:
    """The state bytes of the events stored after notification `after` (what a
    command wrote, to the byte; its log leaf adds about 100 bytes per event)."""
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(
            "SELECT COALESCE(SUM(LENGTH(state)), 0) FROM stored_events WHERE rowid > ?",
            (after,),
        )
        return int(cur.fetchone()[0])


def child(data: Path, warm: bool) -> dict:
    sys.path.insert(0, str(REPO))
    from application import rankings
    from application.commands import sign_command, utc_now_text
    from application.deployment import open_app
    from application.signing import keys
    from domain.cycle import Cycle

    def signer(role: str) -> tuple[Any, str]:
        private = private_key(role)
        return private, keys.actor_key_id(keys.public_raw(private))

    app = open_app(data)
    if warm:  # a server that has been running: every unit read once
        app.assessments(app.get(Cycle.create_id(CYCLE), for_update=False))
    out: dict[str, dict] = {}
    manifest: dict = {}

    def timed(step: str, role: str | None, fields: dict | None) -> None:
        nonlocal app, manifest
        if not warm:
            app.close()
            app = open_app(data)
        before, position = store_bytes(app, data), app.position()
        t0 = time.perf_counter()
        if role is None:
            doc = rankings.draft(app, CYCLE)
            manifest = doc["manifest"]
        else:
            private, key_id = signer(role)
            envelope = {"id": f"b-{uuid.uuid4()}", "issued_at": utc_now_text(), "actor": key_id}
            command = {"type": step, "cycle": CYCLE, **envelope, **(fields or {})}
            app.handle(sign_command(command, private))
        seconds = time.perf_counter() - t0
        out[step] = {
            "seconds": seconds,
            "bytes": event_bytes(app, position),
            "file_bytes": store_bytes(app, data) - before,
        }

    from domain.ranking import digest

    timed("close_appraisal", "council_chair", {})
    timed("draft", None, None)
    timed("propose_ranking", "council_chair", {"manifest": manifest})
    decision = {"decision_number": "1/QĐ-UBND", "decision_date": "2025-12-20"}
    fields = {"version": 1, "digest": digest(manifest), **decision}
    timed("approve_ranking", "approver", fields)
    timed("publish_ranking", "approver", {"version": 1})
    app.close()
    return {
        "steps": out,
        "ranked": len(manifest["ranked"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(source: Path, warm: bool, tmp: str | None) -> dict:
    with tempfile.TemporaryDirectory(dir=tmp) as scratch:
        data = Path(scratch) / "data"
        shutil.copytree(source, data)
        mode = "--warm" if warm else "--cold"
        cmd = [sys.executable, __file__, "--child", str(data), mode]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"child failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=3321)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--tmp", default=None)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child), args.warm)))
        return
    source, built = build(args.units)
    print(f"season store: {args.units} units, built in {built:.0f} s (0: cached) at {source}")
    runs: dict[str, list[dict]] = {"cold": [], "warm": []}
    for _ in range(args.repeat):
        for mode in ("cold", "warm"):  # alternating, so a burst of load hits both
            runs[mode].append(run_child(source, mode == "warm", args.tmp))
    print(
        f"\nmachine: {cpu_model()}, {multiprocessing.cpu_count()} cores; medians of {args.repeat}"
    )
    print(f"{'command':<18} {'cold s':>8} {'warm s':>8} {'bytes':>10}   target < 2 s, < 1 MB")
    medians: dict[str, dict] = {}
    for step in STEPS:
        cold = statistics.median(r["steps"][step]["seconds"] for r in runs["cold"])
        warm = statistics.median(r["steps"][step]["seconds"] for r in runs["warm"])
        size = statistics.median(r["steps"][step]["bytes"] for r in runs["warm"])
        medians[step] = {"cold_s": cold, "warm_s": warm, "bytes": size}
        ok = "ok" if max(cold, warm) < 2 and size < 1_000_000 else "MISSED"
        print(f"{step:<18} {cold:>8.2f} {warm:>8.2f} {size:>10,.0f}   {ok}")
    rss = max(r["peak_rss_mb"] for mode in runs.values() for r in mode)
    print(f"peak RSS of a child: {rss:.0f} MB; units ranked: {runs['warm'][0]['ranked']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {"units": args.units, "runs": runs, "medians": medians, "cpu": cpu_model()}
    (RESULTS_DIR / f"season-{stamp}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
