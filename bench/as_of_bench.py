"""As-of bench: reads as of any moment on a cycle of 10,000 communes x 119 leaves.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/as_of_bench.py                  # 10,000 units x 119 leaves
    .venv/bin/python bench/as_of_bench.py --units 2000 --reads 300

Part 1 builds a read model directly, row by row, as bench/status_bench.py does
(one cycle of N units in every stage, 119 leaf_state rows each, totals and
status), and adds what reads as of a moment use: each unit's timeline (a
unit_status_log row per event of the unit, about 130 a unit; a unit_totals_log
row per event from its submission on), a history row per self-score, and a
log_times row per event, the events of all units interleaved. It times, at a
random log index each:

- the live ranking, page of 100 (GET .../ranking?as_of=);
- the cycle's progress, page of 100 (GET .../status?as_of=);
- one unit's progress (GET .../units/{u}/status?as_of=);
- a leaf's history (GET .../leaves/{leaf}/history?as_of=);
- resolving an RFC 3339 time to a log index (every `as_of=<time>` does this).

Part 2 times a unit's scores as of a moment (GET .../units/{u}/scores?as_of=):
that read applies the unit's own events to a scratch read model, so its cost is
the unit's events, not the cycle's size. It runs on a real deployment (every
command signed and stored) with one unit carrying a full season: 119
self-scores, a submission, 30 appraisal commands, a close.

Target: p99 <= 50 ms for every read. Results go to
`bench/results/as_of-<UTC stamp>.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import cpu_model, latencies, latency_line, save_results  # bench/ dir
from status_bench import CYCLE, LEAVES, build

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
UNITS = 10_000
EVENTS_PER_UNIT = 130


def add_timelines(path: Path, units: int, seed: int = 5) -> int:
    """The as-of tables for the read model `build` made; returns the log size."""
    from projections import standing
    from projections.schema import columns, upsert_sql
    from projections.store import ReadModel

    rng = random.Random(seed)
    codes = [f"xa-{i:05d}" for i in range(units)]
    # Every unit opened with the cycle, then their events interleaved as communes
    # work at once.
    order = [u for u in range(units) for _ in range(EVENTS_PER_UNIT - 1)]
    rng.shuffle(order)
    order = list(range(units)) + order
    model = ReadModel(str(path))
    try:
        with model.write() as cur:
            nodes = []
            for n in range(LEAVES):
                node = dict.fromkeys(columns("framework_nodes"))
                code = f"{n // 10 + 1}.{n % 10 + 1}"
                node.update(framework_id="thai-nguyen-2021-commune@1", code=code, label=code)
                node.update(title=f"Tiêu chí {code}", depth=1, is_leaf=1, max_points="1")
                nodes.append(tuple(node.values()))
            cur.executemany(upsert_sql("framework_nodes"), nodes)
            cur.execute("SELECT * FROM unit_status WHERE cycle = ?", (CYCLE,))
            status = {r["unit"]: tuple(r) for r in cur.fetchall()}
            cur.execute("SELECT * FROM unit_totals WHERE cycle = ?", (CYCLE,))
            totals = {r["unit"]: tuple(r) for r in cur.fetchall()}
            seen = [0] * units
            status_log, totals_log, history, times, stood = [], [], [], [], []
            blank_history = dict.fromkeys(columns("history"))
            for index, u in enumerate(order):
                code = codes[u]
                seen[u] += 1
                at = f"2025-11-{1 + index * 28 // len(order):02d}T08:00:00.{index % 999999:06d}Z"
                times.append((index, at, at))
                s = status[code]
                status_log.append((*s[:2], index, *s[2:]))
                if seen[u] == 1:
                    stood.append((CYCLE, index, code, *standing.of(s, totals[code])))
                if 1 < seen[u] <= LEAVES + 1:
                    n = seen[u] - 2
                    row = dict(blank_history)
                    row.update(
                        cycle=CYCLE,
                        unit=code,
                        leaf=f"{n // 10 + 1}.{n % 10 + 1}",
                        seq=1,
                        kind="self_score",
                        at=at,
                        new_value='{"points":"1"}',
                        leaf_index=index,
                    )
                    history.append(tuple(row.values()))
                elif totals[code][-1] == 1:  # submitted: its totals after every event
                    t = totals[code]
                    totals_log.append((*t[:2], index, *t[2:]))
                    # a standing row each time (as if every event moved its total)
                    stood.append((CYCLE, index, code, *standing.of(s, t)))
                if len(status_log) >= 200_000:
                    _flush(cur, upsert_sql, status_log, totals_log, history, times, stood)
            _flush(cur, upsert_sql, status_log, totals_log, history, times, stood)
    finally:
        model.close()
    return len(order)


def _flush(cur, upsert_sql, status_log, totals_log, history, times, stood) -> None:
    from projections import standing

    standing.record(cur, stood)
    cur.executemany(upsert_sql("unit_status_log"), status_log)
    cur.executemany(upsert_sql("unit_totals_log"), totals_log)
    cur.executemany(upsert_sql("history"), history)
    cur.executemany(upsert_sql("log_times"), times)
    for rows in (status_log, totals_log, history, times, stood):
        rows.clear()


def measure_cycle(path: Path, units: int, size: int, reads: int, seed: int = 11) -> dict:
    from projections import as_of
    from projections.queries import Queries
    from projections.store import ReadModel

    rng = random.Random(seed)
    model = ReadModel(str(path))
    q = Queries(model)
    out: dict[str, list[float]] = {
        "ranking_page_100": [],
        "cycle_status_page_100": [],
        "unit_status": [],
        "leaf_history": [],
        "time_to_log_index": [],
    }
    try:
        q.cycle_status(CYCLE)  # warm the connection and the page cache, as a serving worker
        for _ in range(reads):
            moment = as_of.Moment(rng.randrange(units, size), None)
            unit = f"xa-{rng.randrange(units):05d}"
            offset = rng.randrange(0, units, 100)
            timed = {
                "ranking_page_100": (as_of.ranking, (model, CYCLE, moment, 100, offset)),
                "cycle_status_page_100": (
                    as_of.cycle_status,
                    (model, CYCLE, moment, 100, offset),
                ),
                "unit_status": (as_of.unit_status, (model, CYCLE, unit, moment)),
                "leaf_history": (q.leaf_history, (CYCLE, unit, "1.1", moment.log_index)),
            }
            for name, (read, read_args) in timed.items():
                started = time.perf_counter()
                found = read(*read_args)
                out[name].append(time.perf_counter() - started)
                assert found is not None, name
            stamp = f"2025-11-{rng.randrange(1, 29):02d}T08:00:00Z"
            started = time.perf_counter()
            with model.read() as cur:
                as_of.resolve(cur, stamp)
            out["time_to_log_index"].append(time.perf_counter() - started)
    finally:
        model.close()
    return {name: latencies(samples) for name, samples in out.items()}


def measure_scores(reads: int, seed: int = 13) -> dict:
    """A real deployment, one unit through a whole season, its scores as of random
    moments of its life."""
    from projections import as_of
    from projections.follower import Follower
    from projections.store import PrivateModel
    from tests.season_unit import Unit
    from tests.support import make_env

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="as-of-scores-") as tmp:
        env = make_env(Path(tmp), None)
        try:
            unit = Unit.open(env)
            leaves = [leaf.code for leaf in env.app.framework(unit.cycle_now.framework).leaves]
            for code in leaves:
                unit.score(code, "0")
            unit.submit()
            for code in leaves[:30]:
                unit.adjust(code, "0", reason="Thiếu tài liệu")
            unit.close(confirm=unit.unreviewed())
            live = PrivateModel(Path(tmp) / "read.sqlite")
            Follower(env.app, live).catch_up()
            size = env.app.tlog.size()
            samples = []
            for _ in range(reads):
                moment = as_of.Moment(rng.randrange(size // 2, size), None)
                started = time.perf_counter()
                found = as_of.unit_scores(env.app, live, unit.cycle, unit.unit, moment)
                samples.append(time.perf_counter() - started)
                assert found is not None
            live.close()
            events = len(env.app.tlog.aggregate_leaves(unit.assessment.id, size))
        finally:
            env.app.close()
    return {"unit_scores": latencies(samples), "unit_events": events, "log_size": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--reads", type=int, default=300, help="reads of each kind")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="as-of-bench-") as tmp:
        path = Path(tmp) / "read.sqlite"
        started = time.perf_counter()
        build(path, args.units)
        size = add_timelines(path, args.units)
        built = time.perf_counter() - started
        cycle = measure_cycle(path, args.units, size, args.reads)
        file_bytes = path.stat().st_size
    scores = measure_scores(args.reads)
    report = {
        "at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "units": args.units,
        "leaves": LEAVES,
        "log_events": size,
        "build_seconds": round(built, 1),
        "read_model_bytes": file_bytes,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        **cycle,
        **scores,
    }
    print(
        f"read model: {args.units} units x {LEAVES} leaves, {size:,} events in the timelines, "
        f"{file_bytes / 1e6:.0f} MB, built in {built:.0f} s ({report['cpu']})"
    )
    names = (*cycle, "unit_scores")
    for name in names:
        r = report[name]
        print(latency_line(name, r))
    worst = max(report[n]["p99_ms"] for n in names)
    print(f"worst p99 / target 50 ms = {worst / 50:.2f}")
    print(
        f"(unit_scores: a unit of {scores['unit_events']} events in a log of "
        f"{scores['log_size']}: its cost is the unit's events, not the cycle's size)"
    )
    out = save_results(RESULTS_DIR, "as_of", report)
    print(f"results: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
