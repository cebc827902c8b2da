"""Status bench: the season's progress reads on a cycle of every commune of Vietnam.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/status_bench.py                 # 3,321 units x 119 leaves
    .venv/bin/python bench/status_bench.py --units 1000 --reads 500

It builds a read model directly, row by row (no commands, no log): one cycle
with a schedule, N units in every stage (a few merged, a few with deadlines of
their own), each with 119 leaf_state rows, its unit_totals and unit_status
rows, then times, in one process on one connection as a server worker would:

- `q.unit_status(cycle, unit)` for random units (GET .../units/{unit}/status);
- `q.cycle_status(cycle, limit=100, offset=random page)` (GET .../status);
- `q.ranking(cycle, limit=100, offset=random page)` (GET .../ranking), for
  comparison: it lists every unit not ranked on each page.

It prints p50, p99 and max in milliseconds for both; the target is p99 <= 20 ms.
Results go to `bench/results/status-<UTC stamp>.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import cpu_model, latencies, latency_line, save_results  # bench/ dir

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
UNITS = 3321  # commune-level units of Vietnam since July 2025
LEAVES = 119
CYCLE = "ca-nuoc-2025"
STAGES = ("not_submitted", "round_1", "explanation", "round_2", "closed")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(path: Path, units: int, seed: int = 7) -> None:
    """A read model of one cycle of `units` units x 119 leaves, written as rows."""
    sys.path.insert(0, str(REPO))
    from projections.schema import columns, upsert_sql
    from projections.store import ReadModel

    rng = random.Random(seed)
    now = datetime.now(UTC)
    deadlines = {
        "self_assessment_due": _utc(now - timedelta(days=20)),
        "explanation_due": _utc(now - timedelta(days=1)),
        "appraisal_due": _utc(now + timedelta(days=20)),
    }
    codes = [f"xa-{i:05d}" for i in range(units)]
    own = {c: {"explanation_due": _utc(now + timedelta(days=3))} for c in codes[::97]}
    merged = {c: codes[-1] for c in codes[5::503]}
    model = ReadModel(str(path))
    try:
        with model.write() as cur:
            fw = dict.fromkeys(columns("frameworks"))
            fw.update(id="thai-nguyen-2021-commune@1", slug="thai-nguyen-2021-commune")
            fw.update(version=1, name="Bộ tiêu chí", leaf_count=LEAVES, node_count=150)
            cur.execute(upsert_sql("frameworks"), tuple(fw.values()))
            cycle = dict.fromkeys(columns("cycles"))
            cycle.update(
                cycle=CYCLE,
                name="Kỳ đánh giá 2025",
                framework=fw["id"],
                year=2025,
                authority="ca-nuoc",
                province="ca-nuoc",
                unit_count=units - len(merged),
                level="province",
                rounds=2,
                deadlines=json.dumps(deadlines, sort_keys=True),
                unit_deadlines=json.dumps(own, sort_keys=True),
            )
            cur.execute(upsert_sql("cycles"), tuple(cycle.values()))
            leaf_rows, total_rows, status_rows, unit_rows, cycle_units = [], [], [], [], []
            for position, code in enumerate(codes):
                stage = rng.choice(STAGES)
                submitted = stage != "not_submitted"
                scored = LEAVES if submitted else rng.randrange(LEAVES + 1)
                unit_rows.append((CYCLE, code, f"Xã {position}", position, f"aid-{code}"))
                cycle_units.append((CYCLE, code, "xa", 1, merged.get(code), None))
                for n in range(LEAVES):
                    row = dict.fromkeys(columns("leaf_state"))
                    row.update(cycle=CYCLE, unit=code, leaf=f"{n // 10 + 1}.{n % 10 + 1}")
                    if n < scored:
                        row.update(self_input='{"points":"1"}', self_points="1")
                    leaf_rows.append(tuple(row.values()))
                total = dict.fromkeys(columns("unit_totals"))
                key = rng.randrange(60_0000, 100_0000)
                total.update(
                    cycle=CYCLE,
                    unit=code,
                    unit_name=f"Xã {position}",
                    position=position,
                    framework=fw["id"],
                    appraised_total=str(key / 10_000),
                    total_key=key,
                    submitted=int(submitted),
                )
                total_rows.append(tuple(total.values()))
                flags = rng.randrange(4) if stage in ("explanation", "round_2") else 0
                status_rows.append(
                    (
                        CYCLE,
                        code,
                        f"Xã {position}",
                        position,
                        stage,
                        scored,
                        rng.randrange(40),
                        flags if stage == "explanation" else 0,
                        flags if stage == "round_2" else 0,
                        rng.randrange(LEAVES + 1) if submitted else 0,
                        _utc(now - timedelta(days=25)) if submitted else None,
                        position,
                        _utc(now - timedelta(days=2)) if stage == "round_2" else None,
                        _utc(now) if stage == "closed" else None,
                        position if stage == "closed" else None,
                    )
                )
            cur.executemany(upsert_sql("units"), unit_rows)
            cur.executemany(upsert_sql("cycle_units"), cycle_units)
            cur.executemany(upsert_sql("leaf_state"), leaf_rows)
            cur.executemany(upsert_sql("unit_totals"), total_rows)
            cur.executemany(upsert_sql("unit_status"), status_rows)
    finally:
        model.close()


def measure(path: Path, units: int, reads: int, seed: int = 11) -> dict:
    from projections.queries import Queries
    from projections.store import ReadModel

    rng = random.Random(seed)
    model = ReadModel(str(path))
    q = Queries(model)
    try:
        q.cycle_status(CYCLE)  # warm the connection and the page cache, as a serving worker
        one, page, ranking = [], [], []
        for _ in range(reads):
            unit = f"xa-{rng.randrange(units):05d}"
            started = time.perf_counter()
            found = q.unit_status(CYCLE, unit)
            one.append(time.perf_counter() - started)
            assert found is not None and found["unit"] == unit
            offset = rng.randrange(0, units, 100)
            started = time.perf_counter()
            doc = q.cycle_status(CYCLE, limit=100, offset=offset)
            page.append(time.perf_counter() - started)
            assert doc is not None and doc["unit_count"] == units
            started = time.perf_counter()
            doc = q.ranking(CYCLE, limit=100, offset=offset)
            ranking.append(time.perf_counter() - started)
            assert doc is not None
    finally:
        model.close()
    return {
        "unit_status": latencies(one),
        "cycle_status_page_100": latencies(page),
        "live_ranking_page_100": latencies(ranking),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--reads", type=int, default=1000, help="reads of each kind")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="status-bench-") as tmp:
        path = Path(tmp) / "read.sqlite"
        started = time.perf_counter()
        build(path, args.units)
        built = time.perf_counter() - started
        results = measure(path, args.units, args.reads)
        size = path.stat().st_size
    report = {
        "at": _utc(datetime.now(UTC)),
        "units": args.units,
        "leaves": LEAVES,
        "build_seconds": round(built, 2),
        "read_model_bytes": size,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        **results,
    }
    print(
        f"read model: {args.units} units x {LEAVES} leaves, {size / 1e6:.1f} MB, "
        f"built in {built:.1f} s ({report['cpu']})"
    )
    for name in ("unit_status", "cycle_status_page_100", "live_ranking_page_100"):
        r = results[name]
        print(latency_line(name, r))
    out = save_results(RESULTS_DIR, "status", report)
    print(f"results: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
