"""Year-on-year bench: what showing last year's figures costs, at every commune
of Vietnam.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/previous_bench.py                   # 3,321 units
    .venv/bin/python bench/previous_bench.py --units 300 --reads 200   # smoke run

On ``season_bench``'s store of N units, published (version 1), it opens two
new cycles a year later on the same units, ``plain`` and ``linked``, links
``linked`` to the published one, and imports a past year's ranking table of
every unit (``import_past_results``: seconds and bytes). Then, side by side
in one run:

- a unit's scores read (``Queries.unit_scores``) on ``plain`` and on
  ``linked`` (which also reads last year's published sheet of the unit),
  alternating units at random: p50 and p99, and the ratio of the medians;
- Appendix I recomputed as ``verify-document`` does, from the log's records
  hashed as they are read (``RecordsLog``): ``plain`` reads the log once,
  ``linked`` a second time for the previous cycle's events.

Prints a table and the ratios; saves ``bench/results/previous-*.json``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchlib import cpu_model, latencies, latency_line, save_results
from season_bench import CYCLE, REPO, RESULTS_DIR, build, child, event_bytes

PLAIN, LINKED, PAST = "plain-2026", "linked-2026", "past-2024"


def _admin_sender(app, data: Path):
    from application.commands import sign_command, utc_now_text
    from application.signing import keys

    admin_id, admin, _ = keys.load_actor_key_file(data / "keys" / "admin.key")

    def send(**command) -> dict:
        envelope = {"id": f"b-{uuid.uuid4()}", "issued_at": utc_now_text(), "actor": admin_id}
        return app.handle(sign_command({**envelope, **command}, admin))

    return send


def prepare(app, data: Path, units: int) -> dict:
    """The two new cycles, the link, the past year's import (timed)."""
    from domain.cycle import Cycle

    send = _admin_sender(app, data)
    cycle = app.get(Cycle.create_id(CYCLE), for_update=False)
    for code in (PLAIN, LINKED):
        fields = {"name": code, "framework": cycle.framework, "year": 2026}
        fields |= {"authority": "bench", "province": "bench", "units": cycle.units}
        send(type="open_cycle", cycle=code, **fields)
    send(type="link_previous_cycle", cycle=LINKED, previous=CYCLE, reason="So sánh")
    table = [
        {"unit": u["code"], "name": u["name"], "total": _total(i), "rank": i + 1}
        for i, u in enumerate(cycle.units)
    ]
    position = app.position()
    t0 = time.perf_counter()
    send(
        type="import_past_results",
        cycle=PAST,
        name="Năm 2024",
        year=2024,
        source={"file_name": "PL2-2024.xlsx", "sha256": "ab" * 32},
        units=table,
    )
    seconds = time.perf_counter() - t0
    send(type="link_previous_cycle", cycle=CYCLE, previous=PAST, reason="So sánh")
    return {"import_seconds": seconds, "import_bytes": event_bytes(app, position), "units": units}


def _total(i: int) -> str:
    from decimal import Decimal

    from domain.framework.decimals import canonical

    return canonical(Decimal(60 + i % 40) + Decimal(i % 1000) / 1000)


def reads(queries, units: int, count: int) -> dict[str, list[float]]:
    rng = random.Random(5)
    out: dict[str, list[float]] = {PLAIN: [], LINKED: []}
    for _ in range(count):
        unit = f"xa-{rng.randrange(units):04d}"
        for cycle in rng.sample((PLAIN, LINKED), 2):  # side by side, in random order
            t0 = time.perf_counter()
            doc = queries.unit_scores(cycle, unit)
            out[cycle].append(time.perf_counter() - t0)
            assert (doc["previous"] is not None) == (cycle == LINKED)
    return out


def documents(app, units: int, count: int) -> dict[str, list[float]]:
    from application.audit.bundle import StoreSource
    from application.documents.recompute import RecordsLog, recompute

    size = app.tlog.size()
    out: dict[str, list[float]] = {PLAIN: [], LINKED: []}
    rng = random.Random(9)
    for _ in range(count):
        unit = f"xa-{rng.randrange(units):04d}"
        for cycle in (PLAIN, LINKED):
            t0 = time.perf_counter()
            records = lambda: StoreSource(app.tlog).records()  # noqa: E731
            log = RecordsLog(records, size, "scoring_sheet", cycle, unit)
            doc = recompute(log, "scoring_sheet", cycle, unit)
            out[cycle].append(time.perf_counter() - t0)
            assert any(c.id == "previous" for c in doc.columns) == (cycle == LINKED)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=3321)
    p.add_argument("--reads", type=int, default=1000)
    p.add_argument("--documents", type=int, default=3)
    args = p.parse_args(argv)
    source, built = build(args.units)
    print(f"season store: {args.units} units, built in {built:.0f} s (0: cached)")
    sys.path.insert(0, str(REPO))
    from application.deployment import open_app
    from projections.follower import Follower
    from projections.queries import Queries
    from projections.store import PrivateModel

    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        shutil.copytree(source, data)
        child(data, warm=True)  # close, propose, approve, publish: version 1
        with open_app(data) as app:
            report = prepare(app, data, args.units)
            model = PrivateModel(Path(scratch) / "read.sqlite")
            t0 = time.perf_counter()
            Follower(app, model).catch_up()
            report["read_model_seconds"] = time.perf_counter() - t0
            timed_reads = reads(Queries(model), args.units, args.reads)
            timed_docs = documents(app, args.units, args.documents)
            report["log_size"] = app.tlog.size()
    report["cpu"] = cpu_model()
    report["reads"] = {k: latencies(v) for k, v in timed_reads.items()}
    report["documents"] = {k: statistics.median(v) for k, v in timed_docs.items()}
    print(f"{args.units} units, log of {report['log_size']} events, {cpu_model()}")
    print(
        f"import_past_results of {args.units} units' totals and ranks: "
        f"{report['import_seconds']:.3f} s, {report['import_bytes']:,} bytes of events"
    )
    for cycle in (PLAIN, LINKED):
        print(latency_line(f"unit scores read, {cycle}", report["reads"][cycle]))
    ratio = report["reads"][LINKED]["p50_ms"] / report["reads"][PLAIN]["p50_ms"]
    print(f"unit scores read: linked / plain p50 x{ratio:.2f}")
    for cycle in (PLAIN, LINKED):
        print(f"Appendix I from log records, {cycle}: median {report['documents'][cycle]:.3f} s")
    docs = report["documents"][LINKED] / report["documents"][PLAIN]
    print(f"Appendix I recompute: linked / plain x{docs:.2f}")
    report["ratios"] = {"read_p50": ratio, "document": docs}
    print(f"saved {save_results(RESULTS_DIR, 'previous', report)}")


if __name__ == "__main__":
    main()
