"""Store bench: one large command, `open_cycle` with every commune of Vietnam.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/store_bench.py                       # SQLite, 3,321 units
    .venv/bin/python bench/store_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/store_bench.py --units 1000 --write-timeout 600

For each backend, a child process (a fresh interpreter, so its peak RSS is the
command's) makes a deployment in a temporary directory (PostgreSQL: a fresh
schema, dropped afterwards), publishes the bundled framework, then sends one
signed `open_cycle` with N units through `ParIndex.handle` and reports:

- seconds: wall time of that `handle` call (signing excluded);
- bytes added: the store's size after minus before (SQLite: events.sqlite after
  a WAL checkpoint; PostgreSQL: `pg_total_relation_size` of every table in the
  schema, which also grows by what a refused, rolled-back write had sent);
- peak RSS of the child (`ru_maxrss`), which includes the imports (about 60 MB);
- outcome: `ok` with the number of events, or the refusal's code (a write past
  its budget is `store_timeout`, by design, instead of hanging).

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
        t = time.perf_counter()
        try:
            receipt = app.handle(envelope)
            outcome = f"ok, {len(receipt['events'])} events"
        except DomainError as e:
            outcome = f"refused {e.code}"
        seconds = time.perf_counter() - t
        after = _store_bytes(app, data_dir)
        app.close()
    return {
        "seconds": round(seconds, 2),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL at URL")
    parser.add_argument("--write-timeout", type=int, help="write budget in seconds")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.units, args.postgres)))
        return

    rows = {"sqlite": run_child(args.units, None, args.write_timeout)}
    if args.postgres:
        url, schema = _pg_schema_url(args.postgres)
        try:
            rows["postgres"] = run_child(args.units, url, args.write_timeout)
        finally:
            _drop_schema(args.postgres, schema)

    print(
        f"\nparindex store bench: open_cycle with {args.units:,} units - {os.cpu_count()} "
        f"cores ({cpu_model()}), Python {platform.python_version()}, write budget "
        f"{args.write_timeout or 'default'} s"
    )
    print(f"{'backend':<10}{'seconds':>9}{'MB added':>11}{'peak RSS MB':>13}  outcome")
    for name, r in rows.items():
        mb = f"{r['bytes_added'] / 1e6:.1f}" if "bytes_added" in r else "-"
        print(
            f"{name:<10}{r.get('seconds', '-'):>9}{mb:>11}{r.get('peak_rss_mb', '-'):>13}  "
            f"{r['outcome']}"
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
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
