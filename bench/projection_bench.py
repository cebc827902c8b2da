"""Projection bench: what the units' timelines (issue 9) cost a rebuild.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/projection_bench.py                 # 30 communes, 20 adjustments each
    .venv/bin/python bench/projection_bench.py --units 10 --adjust 5 --runs 1

It writes one real deployment (every command signed and stored): N communes
self-score all 119 leaves, submit, and each gets A appraisal adjustments after
its submission, then a council close. It then rebuilds the read model from
position 0 the way `parindex rebuild` does (projections/rebuilder.py: units
kept in memory, scores computed once at the end) with the timelines off and on,
alternating, and prints the medians and their ratio. The timelines are what
reads as of a moment need (docs/API.md, "As of a moment"). Results go to
`bench/results/projection-<UTC stamp>.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import cpu_model, save_results  # bench/ dir

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def season(env, units: int, adjust: int) -> None:
    from domain.assessment import Assessment
    from tests.support import command

    codes = [f"xa-{i:05d}" for i in range(units)]
    framework = env.open_cycle(codes)
    leaves = [leaf.code for leaf in framework.leaves]
    appraiser = env.register("appraiser", "authority:dong-hy")[0]
    council = env.register("council_chair", "authority:dong-hy")[0]
    for code in codes:
        officer = env.register("commune_officer", f"commune:{code}")[0]
        env.submit_unit(code, officer)
        where = {"cycle": "c", "unit": code}
        for leaf in leaves[:adjust]:
            adjusted = command(
                appraiser, "adjust_score", **where, leaf=leaf, points="0", reason="Thiếu"
            )
            env.send(adjusted, appraiser)
        unit = env.app.get(Assessment.create_id("c", code), for_update=False)
        confirm = unit.needs_review(framework)
        env.send(command(council, "close_appraisal", **where, confirm=confirm), council)


def rebuild_seconds(app, path: Path, timelines: bool) -> float:
    from projections.apply import Projector
    from projections.follower import Follower
    from projections.store import PrivateModel

    model = PrivateModel(path)
    try:
        projector = Projector(keep_units=True, defer_scores=True, timelines=timelines)
        follower = Follower(app, model, batch_size=1000, max_batch_size=1000, projector=projector)
        started = time.perf_counter()
        follower.catch_up()
        with model.write() as cur:
            projector.finish(cur)
        return time.perf_counter() - started
    finally:
        model.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--adjust", type=int, default=20, help="adjustments a commune")
    parser.add_argument("--runs", type=int, default=3, help="rebuilds of each kind")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.support import make_env

    with tempfile.TemporaryDirectory(prefix="projection-bench-") as tmp:
        env = make_env(Path(tmp), None)
        try:
            season(env, args.units, args.adjust)
            events = env.app.tlog.size()
            times: dict[str, list[float]] = {"off": [], "on": []}
            for run in range(args.runs):
                for kind in ("off", "on"):
                    path = Path(tmp) / f"read-{kind}-{run}.sqlite"
                    times[kind].append(rebuild_seconds(env.app, path, kind == "on"))
        finally:
            env.app.close()
    off, on = (statistics.median(times[k]) for k in ("off", "on"))
    report = {
        "at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "units": args.units,
        "adjustments": args.units * args.adjust,
        "events": events,
        "runs": args.runs,
        "seconds": times,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "ratio": round(on / off, 2),
    }
    print(
        f"{events:,} events: {args.units} communes x 119 self-scores, a submission, "
        f"{args.adjust} adjustments after it and a close each ({report['cpu']})"
    )
    print(f"{'rebuild':<24}{'median s':>10}{'events/s':>12}")
    for kind, seconds in (("timelines off", off), ("timelines on", on)):
        print(f"{kind:<24}{seconds:>10.2f}{events / seconds:>12,.0f}")
    print(f"on / off = {on / off:.2f} (median of {args.runs} each, alternating)")
    out = save_results(RESULTS_DIR, "projection", report)
    print(f"results: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
