"""Store bench: one large command, `open_cycle` with every commune of Vietnam.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/store_bench.py                       # SQLite, 3,321 units
    .venv/bin/python bench/store_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/store_bench.py --units 1000 --write-timeout 600
    .venv/bin/python bench/store_bench.py --repeat 5 --postgres URL   # medians of 5

For each backend, a child process (a fresh interpreter, so its peak RSS is the
command's) makes a deployment in a temporary directory (PostgreSQL: a fresh
schema, dropped afterwards), publishes the bundled framework, then sends one
signed `open_cycle` with N units through `ParIndex.handle` and reports:

- seconds: wall time of that `handle` call (signing excluded);
- client CPU s: the CPU time the child process spent in that call (PostgreSQL's
  own work not included); steadier than wall time on a loaded machine;
- bytes added: the store's size after minus before (SQLite: events.sqlite after
  a WAL checkpoint; PostgreSQL: `pg_total_relation_size` of every table in the
  schema, which also grows by what a refused, rolled-back write had sent);
- peak RSS of the child (`ru_maxrss`), which includes the imports (about 60 MB);
- outcome: `ok` with the number of events, or the refusal's code (a write past
  its budget is `store_timeout`, by design, instead of hanging).

`--repeat N` runs N children per backend (alternating backends, so a burst of
load on the shared machine hits both) and prints the median of each figure with
the range of seconds; every run goes to the results file.

`--write-timeout` sets the deployment's write budget
(`PARINDEX_WRITE_STATEMENT_TIMEOUT_SECONDS`; default: the product default).
Results go to `bench/results/store-<UTC stamp>.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchlib import cpu_model  # bench/ is the script's own directory

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
UNITS = 3321  # commune-level units of Vietnam since July 2025


def _store_bytes(app, data_dir: Path) -> int:
    if app.settings.backend == "sqlite":
        # The WAL holds a second, temporary copy of new pages until a checkpoint.
        with app.recorder.datastore.transaction(commit=False) as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return (data_dir / "events.sqlite").stat().st_size
    schema = app.recorder.datastore.schema
    with app.recorder.datastore.transaction(commit=False) as cur:
        cur.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS n "
            "FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = %s AND c.relkind = 'r'",
            (schema,),
        )
        return int(cur.fetchone()["n"])


def child(units: int, database_url: str | None) -> dict:
    """Runs in a fresh interpreter: one deployment, one open_cycle."""
    sys.path.insert(0, str(REPO))
    from application.commands import sign_command, utc_now_text
    from application.deployment import init_deployment, open_app
    from application.signing import keys
    from domain.errors import DomainError
    from domain.framework import to_dict
    from interfaces.bundled import load_bundled

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        init_deployment(data_dir, database_url=database_url, admin_key_path=Path(tmp) / "a.key")
        key_id, private, _ = keys.load_actor_key_file(Path(tmp) / "a.key")
        app = open_app(data_dir)

        def signed(type_: str, **fields) -> dict:
            return sign_command(
                {
                    "type": type_,
                    "id": f"b-{uuid.uuid4()}",
                    "issued_at": utc_now_text(),
                    "actor": key_id,
                    **fields,
                },
                private,
            )

        framework = load_bundled("thai-nguyen-2021-commune")
        app.handle(signed("publish_framework", framework=to_dict(framework)))
        envelope = signed(
            "open_cycle",
            cycle="bench",
            name="Kỳ đánh giá toàn quốc",
            framework=str(framework.id),
            year=2025,
            authority="bench",
            province="bench",
            units=[{"code": f"xa-{i:05d}", "name": f"Xã số {i + 1}"} for i in range(units)],
        )
        before = _store_bytes(app, data_dir)
        t, cpu = time.perf_counter(), time.process_time()
        try:
            receipt = app.handle(envelope)
            outcome = f"ok, {len(receipt['events'])} events"
        except DomainError as e:
            outcome = f"refused {e.code}"
        seconds = time.perf_counter() - t
        cpu = time.process_time() - cpu
        after = _store_bytes(app, data_dir)
        app.close()
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "bytes_added": after - before,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "outcome": outcome,
    }


def run_child(units: int, url: str | None, write_timeout: int | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARINDEX_")}
    if write_timeout:
        env["PARINDEX_WRITE_STATEMENT_TIMEOUT_SECONDS"] = str(write_timeout)
    argv = [sys.executable, __file__, "--child", "--units", str(units)]
    if url:
        argv += ["--postgres", url]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"outcome": f"crashed: {out.stderr.strip().splitlines()[-1:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pg_schema_url(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema={schema}", schema


def _drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base.split("?")[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _median(runs: list[dict]) -> dict:
    """Median of each figure over the runs that finished; else the first outcome."""
    done = [r for r in runs if "seconds" in r]
    if not done:
        return runs[0]
    out = {
        k: statistics.median(r[k] for r in done)
        for k in ("seconds", "cpu_seconds", "bytes_added", "peak_rss_mb")
    }
    out["seconds"] = round(out["seconds"], 2)
    out["cpu_seconds"] = round(out["cpu_seconds"], 2)
    out["bytes_added"] = int(out["bytes_added"])
    out["peak_rss_mb"] = round(out["peak_rss_mb"], 1)
    out["min_seconds"] = min(r["seconds"] for r in done)
    out["max_seconds"] = max(r["seconds"] for r in done)
    outcomes = sorted({r["outcome"] for r in runs})
    out["outcome"] = "; ".join(outcomes) + (
        f" ({len(done)}/{len(runs)} finished)" if len(done) < len(runs) else ""
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL at URL")
    parser.add_argument("--write-timeout", type=int, help="write budget in seconds")
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend (median)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.units, args.postgres)))
        return

    runs: dict[str, list[dict]] = {"sqlite": []}
    if args.postgres:
        runs["postgres"] = []
    for _ in range(args.repeat):
        runs["sqlite"].append(run_child(args.units, None, args.write_timeout))
        if args.postgres:
            url, schema = _pg_schema_url(args.postgres)
            try:
                runs["postgres"].append(run_child(args.units, url, args.write_timeout))
            finally:
                _drop_schema(args.postgres, schema)
    rows = {name: _median(found) for name, found in runs.items()}

    print(
        f"\nparindex store bench: open_cycle with {args.units:,} units - {os.cpu_count()} "
        f"cores ({cpu_model()}), Python {platform.python_version()}, write budget "
        f"{args.write_timeout or 'default'} s, median of {args.repeat}"
    )
    print(
        f"{'backend':<10}{'seconds':>9}{'  (range)':<16}{'client CPU s':>13}{'MB added':>9}"
        f"{'peak RSS MB':>13}  outcome"
    )
    for name, r in rows.items():
        mb = f"{r['bytes_added'] / 1e6:.1f}" if "bytes_added" in r else "-"
        spread = f"  ({r['min_seconds']}-{r['max_seconds']})" if "min_seconds" in r else ""
        print(
            f"{name:<10}{r.get('seconds', '-'):>9}{spread:<16}"
            f"{r.get('cpu_seconds', '-'):>13}{mb:>9}"
            f"{r.get('peak_rss_mb', '-'):>13}  {r['outcome']}"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"store-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "units": args.units,
                "write_timeout": args.write_timeout,
                "cpu": cpu_model(),
                "repeat": args.repeat,
                "results": rows,
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
