"""CPU per event of `verify` on one worker: the cost of replay, without the pool.

Run from the repository root after `bench/core_bench.py --quick --only cd` has
built the season log (bench/results/verify-logs/season-20000)::

    .venv/bin/python bench/verify_cpu.py                 # median of 3 runs
    .venv/bin/python bench/verify_cpu.py --repeats 5 --size 5000
    .venv/bin/python bench/verify_cpu.py --profile 25    # cProfile, top 25 (inflated)

CPU is `time.process_time()` around `verify(StoreSource(...), workers=1)`, so
reading the store, pass 1, replay and the Merkle fold all run in this one
process and nothing else is counted. The report must be clean. Also prints the
CPU of one bare Ed25519 verify (message of a signed command's size) measured
the same way, so the ratio holds up when other processes load the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from benchlib import cpu_model  # bench/ is the script's own directory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def verify_once(data: Path) -> tuple[float, int]:
    from application.audit.bundle import StoreSource
    from application.audit.verify import verify
    from application.deployment import open_app

    app = open_app(data)
    try:
        source = StoreSource(app.tlog, getattr(app, "evidence", None))
        t0 = time.process_time()
        report = verify(source, workers=1)
        cpu = time.process_time() - t0
    finally:
        app.close()
    if not report.ok:
        raise SystemExit(f"verify found problems in the bench log: {report.findings[:3]}")
    return cpu, report.events_checked


def ed25519_cpu_us(ops: int = 3000) -> float:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    msg = b"parindex-command/v1\n" + b'{"x":"' + b"a" * 300 + b'"}'
    sig = private.sign(msg)
    t0 = time.process_time()
    for _ in range(ops):
        public.verify(sig, msg)
    return (time.process_time() - t0) / ops * 1e6


# (module, function name) of the replay's stages, timed where pass 2 calls them.
STAGES = [
    ("application.audit.shard", "event_leaf_hash"),
    ("application.audit.shard", "parse_stored"),
    ("application.audit.shard", "identity"),
    ("application.audit.shard", "open_command"),
    ("application.audit.shard", "authorize"),
    ("application.audit.replay", "signature_ok"),
    ("application.audit.shard", "decide"),
    ("application.audit.replay", "role_and_scope"),
    ("application.audit.replay", "check_expected"),
    ("application.handlers.assessments", "check_fields"),
    ("domain.assessment", "check_leaf"),
    ("domain.assessment", "check_text"),
    ("application.audit.shard", "derived_events"),
    ("application.audit.shard", "compare"),
    ("application.audit.shard", "check_times"),
    ("application.audit.shard", "read_range"),
]


def stages(data: Path) -> None:
    """Each stage's own CPU (process_time_ns around its calls; nested stages are
    included in their caller's figure), per event, for one run."""
    import importlib

    totals: dict[str, int] = {}

    def wrap(name: str, fn):
        def timed(*a, **k):
            t0 = time.process_time_ns()
            try:
                return fn(*a, **k)
            finally:
                totals[name] = totals.get(name, 0) + time.process_time_ns() - t0

        return timed

    saved = []
    for mod_name, fn_name in STAGES:
        mod = importlib.import_module(mod_name)
        fn = getattr(mod, fn_name, None)
        if fn is None:
            continue
        saved.append((mod, fn_name, fn))
        setattr(mod, fn_name, wrap(fn_name, fn))
    from application.handlers import HANDLERS
    from domain.assessment import Assessment

    handlers = dict(HANDLERS)
    spec = HANDLERS["record_self_score"]
    HANDLERS["record_self_score"] = type(spec)(
        spec.type, wrap("handler", spec.decide), wrap("target", spec.target), spec.fields
    )
    method = Assessment.record_self_score
    Assessment.record_self_score = wrap("domain method", method)
    try:
        cpu, n = verify_once(data)
    finally:
        for mod, fn_name, fn in saved:
            setattr(mod, fn_name, fn)
        HANDLERS.update(handlers)
        Assessment.record_self_score = method
    print(f"{n} events, workers=1, total {cpu / n * 1e6:.1f} CPU-us/event (timers included)")
    for name, ns in totals.items():
        print(f"  {name:<18} {ns / n / 1000:7.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--profile", type=int, default=0, help="cProfile one run, print top N")
    p.add_argument("--data", type=Path, help="a data directory (default: the season log)")
    p.add_argument("--stages", action="store_true", help="CPU per event of each replay stage")
    args = p.parse_args()
    data = args.data or ROOT / "bench" / "results" / "verify-logs" / f"season-{args.size}" / "data"
    if not (data / "parindex.json").exists():
        raise SystemExit(f"no log at {data}: run bench/core_bench.py --quick --only cd first")
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        verify_once(data)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)
        return 0
    if args.stages:
        verify_once(data)  # warm
        stages(data)
        return 0
    verify_once(data)  # warm: imports, page cache
    runs = []
    for _ in range(args.repeats):
        cpu, n = verify_once(data)
        runs.append(cpu / n * 1e6)
    ed = statistics.median(ed25519_cpu_us() for _ in range(3))
    med = statistics.median(runs)
    print(f"{cpu_model()}; {n} events, workers=1")
    print(f"verify CPU-us/event: median {med:.1f}  (runs {', '.join(f'{r:.1f}' for r in runs)})")
    print(f"raw Ed25519 CPU-us/op: {ed:.1f}; ratio ed/verify {ed / med:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
