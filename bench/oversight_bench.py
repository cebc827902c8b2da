"""Oversight bench (issue 9): the oversight reads on 10,000 communes x 119 leaves.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/oversight_bench.py                   # 10,000 units, 2 cycles
    .venv/bin/python bench/oversight_bench.py --units 1000 --reads 200

Building the read model through signed commands and the log would take hours
at this size (about 250,000 changes, each a signed command, on top of 2.4
million self-scores), so the rows are **generated straight into the read
model**, as `status_bench.py` does: two cycles (this year's and last year's) of
N units on the bundled Thái Nguyên framework (119 leaves), each unit with 10 to
30 changes as a season gives them: adjustments on 5 to 15 leaves (mostly
deductions in quarter points), confirmations, explanations on some units (a
request, the commune's answer, a round-2 adjustment), a few withdrawals and
deadline extensions (some signed late), the council's close of each unit and a
few corrections after publication. `oversight` rows carry what the projection
computes (delta, size, share of the maximum, flags); `oversight_sums` (per
cycle, and over every cycle) is summed from them by SQL. Then, in one process
on one connection as a server worker:

- lists (100 a page): no filter (first page, a random page by offset and by
  `after`, the cursor a client pages with), one unit, one
  appraiser (a random page of theirs), kind=correction, after_deadline,
  after_publication, large deductions, min_change=0.5, an appraiser's round 2,
  and across both cycles (no filter, one unit);
- summaries: per actor, per unit (ordered by points deducted, a random page),
  per leaf, per area, and per actor and per unit across both cycles;
- summaries as of a random moment of the log (docs/API.md, "As of a moment";
  the target there is p99 <= 50 ms): per actor, per unit (a random page), per
  leaf, and per unit across both cycles;

each round in a new random order, as a server gets them.

It prints p50, p99 and max in milliseconds of wall time (the target is p99 <=
20 ms), and the p50 and p99 of the reading thread's CPU time, which a busy
machine disturbs much less than the wall time (the load average is printed).
Results go to `bench/results/oversight-<UTC stamp>.json` (git-ignored).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchlib import cpu_model, latencies  # bench/ is the script's own directory

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
UNITS = 10_000
CYCLES = ("tn-2025", "tn-2024")
APPRAISERS = 200
QUARTER = Decimal("0.25")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Season:
    """One cycle's oversight rows, made in log order phase by phase."""

    def __init__(self, cycle: str, framework, units: list[str], rng: random.Random, start: int):
        self.cycle, self.fw, self.units, self.rng = cycle, framework, units, rng
        self.next_id = start
        self.rows: list[dict] = []
        self.t0 = datetime(2025, 11, 1, 2, 0, tzinfo=UTC)
        self.due = {
            "self_assessment_due": self.t0 + timedelta(days=30),
            "explanation_due": self.t0 + timedelta(days=40),
            "appraisal_due": self.t0 + timedelta(days=45),
        }
        self.leaves = [n.code for n in framework.leaves]

    def row(self, unit: str, kind: str, actor: tuple[str, str, str], when: datetime, **more):
        leaf = more.get("leaf")
        max_points = area = None
        if leaf is not None:
            max_points = self.fw.node(leaf).max_points
            above = self.fw.ancestors(leaf)
            area = above[-1] if above else leaf
        old, new = more.pop("old", None), more.pop("new", None)
        delta = None if old is None or new is None else new - old
        key = None if delta is None else int(delta.scaleb(4))
        max_key = None if max_points is None else int(max_points.scaleb(4))
        deadline = more.pop("deadline", None)
        due = self.due.get(deadline) if deadline else None
        self.next_id += 1
        self.rows.append(
            {
                "notification_id": self.next_id,
                "part": 0,
                "cycle": self.cycle,
                "unit": unit,
                "leaf": leaf,
                "area": area,
                "kind": kind,
                "round": more.get("round"),
                "actor_key_id": actor[0],
                "actor_name": actor[1],
                "actor_role": actor[2],
                "at": _utc(when),
                "logged_at": _utc(when),
                "old_value": None if old is None else json.dumps({"points": str(old)}),
                "new_value": None if new is None else json.dumps({"points": str(new)}),
                "old_points": None if old is None else str(old),
                "new_points": None if new is None else str(new),
                "delta": None if delta is None else str(delta.normalize()),
                "delta_key": key,
                "size_key": None if key is None else abs(key),
                "loss_ppm": (-key * 10**6) // max_key if key and key < 0 and max_key else 0,
                "max_points": None if max_points is None else str(max_points),
                "reason": more.get("reason"),
                "evidence_ids": more.get("evidence_ids"),
                "deadline": deadline,
                "due": None if due is None else _utc(due),
                "after_submission": more.get("after_submission", 1),
                "after_deadline": int(due is not None and when > due),
                "after_approval": more.get("published", 0),
                "after_publication": more.get("published", 0),
                "leaf_index": self.next_id + 1000,
            }
        )

    def lower(self, leaf: str) -> tuple[Decimal, Decimal]:
        """A self-score (the maximum, mostly) and an appraiser's value for it."""
        top = self.fw.node(leaf).max_points
        steps = int(top / QUARTER) if top >= QUARTER else 0
        new = QUARTER * self.rng.randrange(steps) if steps else Decimal(0)
        if self.rng.random() < 0.1:  # a raise now and then
            return new, top
        return top, new

    def play(self, admin, chairs, officers, appraiser_of, council) -> None:
        rng, t0 = self.rng, self.t0
        order = list(self.units)
        rng.shuffle(order)
        for u in order[: len(order) // 33]:  # withdrawals before the deadline
            self.row(
                u,
                "submission_withdrawn",
                chairs[u],
                t0 + timedelta(days=rng.randrange(25)),
                deadline="self_assessment_due",
                reason="Bổ sung hồ sơ",
            )
        for u in order[len(order) // 33 : len(order) // 33 + len(order) // 50]:
            late = rng.random() < 0.3
            self.row(
                u,
                "deadline_extended",
                admin,
                t0 + timedelta(days=31 if late else 20),
                deadline="self_assessment_due",
                reason="Lũ lụt",
                after_submission=0,
            )
        flagged: dict[str, list[str]] = {}
        rng.shuffle(order)
        for u in order:  # round 1
            leaves = rng.sample(self.leaves, rng.randrange(8, 22))
            adjusted = leaves[: rng.randrange(5, min(15, len(leaves)))]
            when = t0 + timedelta(days=32, minutes=rng.randrange(10_000))
            for leaf in adjusted:
                old, new = self.lower(leaf)
                self.row(
                    u,
                    "adjustment",
                    appraiser_of[u],
                    when,
                    leaf=leaf,
                    old=old,
                    new=new,
                    round=1,
                    deadline="appraisal_due",
                    reason="Văn bản ban hành chậm",
                    evidence_ids='["ev-1"]',
                )
            for leaf in leaves[len(adjusted) :]:
                top = self.fw.node(leaf).max_points
                self.row(
                    u,
                    "confirmation",
                    appraiser_of[u],
                    when,
                    leaf=leaf,
                    old=top,
                    new=top,
                    round=1,
                    deadline="appraisal_due",
                )
            if rng.random() < 0.3:
                flagged[u] = [x for x in self.leaves if x not in leaves][: rng.randrange(1, 5)]
                for leaf in flagged[u]:
                    self.row(
                        u,
                        "explanation_request",
                        appraiser_of[u],
                        when,
                        leaf=leaf,
                        round=1,
                        deadline="explanation_due",
                        reason="Đề nghị bổ sung kế hoạch?",
                    )
        for u, leaves in flagged.items():  # the communes answer
            when = t0 + timedelta(days=38, minutes=rng.randrange(1000))
            for leaf in leaves:
                top = self.fw.node(leaf).max_points
                self.row(
                    u,
                    "explanation_answer",
                    officers[u],
                    when,
                    leaf=leaf,
                    old=top / 2,
                    new=top,
                    deadline="explanation_due",
                    reason="Đã bổ sung.",
                )
        for u, leaves in flagged.items():  # round 2
            when = t0 + timedelta(days=42, minutes=rng.randrange(1000))
            for leaf in leaves:
                old, new = self.lower(leaf)
                self.row(
                    u,
                    "adjustment",
                    appraiser_of[u],
                    when,
                    leaf=leaf,
                    old=old,
                    new=new,
                    round=2,
                    deadline="appraisal_due",
                    reason="Giải trình chưa đủ",
                )
        for u in order:
            self.row(
                u,
                "unit_closed",
                council,
                t0 + timedelta(days=44),
                round=2 if u in flagged else 1,
                deadline="appraisal_due",
            )
        for u in order[: len(order) // 100]:  # corrections after publication
            leaf = rng.choice(self.leaves)
            old, new = self.lower(leaf)
            self.row(
                u,
                "correction",
                appraiser_of[u],
                t0 + timedelta(days=70),
                leaf=leaf,
                old=old,
                new=new,
                round=1,
                deadline="appraisal_due",
                published=1,
                reason="Thanh tra phát hiện sai sót",
                evidence_ids='["kl-1"]',
            )


SUM_DIMS = {  # dim: (key, which rows), as projections/oversight_sums.py keys them
    "cycle": ("''", "1 = 1"),
    "actor": ("actor_key_id", "actor_key_id IS NOT NULL"),
    "unit": ("unit", "unit IS NOT NULL"),
    "leaf": ("leaf", "leaf IS NOT NULL"),
    "area": ("area", "area IS NOT NULL"),
    "size": ("printf('%020d', size_key)", "size_key > 0"),
    "loss": ("printf('%010d', loss_ppm)", "loss_ppm > 0"),
}


def build(path: Path, units: int, seed: int = 7) -> int:
    """The read model; returns the number of oversight rows."""
    sys.path.insert(0, str(REPO))
    from interfaces.bundled import load_bundled
    from projections import oversight_frames
    from projections.frameworks import node_rows
    from projections.schema import OVERSIGHT_KINDS, columns, upsert_sql
    from projections.store import ReadModel

    rng = random.Random(seed)
    framework = load_bundled("thai-nguyen-2021-commune")
    fw_id = str(framework.id)
    codes = [f"xa-{i:05d}" for i in range(units)]
    admin = ("pk_admin", "Quản trị viên", "admin")
    appraisers = [(f"pk_app{i:03d}", f"Thẩm định viên {i}", "appraiser") for i in range(APPRAISERS)]
    council = ("pk_council", "Chủ tịch hội đồng", "council_chair")
    chairs = {c: (f"pk_chair-{c}", f"Chủ tịch {c}", "commune_chair") for c in codes}
    officers = {c: (f"pk_off-{c}", f"Công chức {c}", "commune_officer") for c in codes}
    appraiser_of = {c: appraisers[i % APPRAISERS] for i, c in enumerate(codes)}
    model = ReadModel(str(path))
    total = 0
    try:
        with model.write() as cur:
            fw = dict.fromkeys(columns("frameworks"))
            fw.update(
                id=fw_id,
                slug=framework.meta.slug,
                version=1,
                name="Bộ tiêu chí",
                leaf_count=119,
                node_count=len(framework.nodes),
            )
            cur.execute(upsert_sql("frameworks"), tuple(fw.values()))
            cur.executemany(upsert_sql("framework_nodes"), node_rows(fw_id, framework))
            keys = [admin, council, *appraisers, *chairs.values(), *officers.values()]
            key_rows = []
            for key_id, name, role in keys:
                row = dict.fromkeys(columns("keys"))
                row.update(
                    key_id=key_id,
                    aggregate_id=key_id,
                    display_name=name,
                    role=role,
                    scope="*",
                    status="active",
                )
                key_rows.append(tuple(row.values()))
            cur.executemany(upsert_sql("keys"), key_rows)
            start = 0
            played: list[tuple] = []
            for year, cycle in zip((2025, 2024), CYCLES, strict=True):
                row = dict.fromkeys(columns("cycles"))
                row.update(
                    cycle=cycle,
                    name=f"Kỳ {year}",
                    framework=fw_id,
                    year=year,
                    authority="thai-nguyen",
                    province="thai-nguyen",
                    unit_count=units,
                    rounds=2,
                    deadlines="{}",
                    unit_deadlines="{}",
                    aggregate_id=cycle,
                )
                cur.execute(upsert_sql("cycles"), tuple(row.values()))
                cur.executemany(
                    upsert_sql("units"),
                    [(cycle, c, f"Xã số {i}", i, f"{cycle}/{c}") for i, c in enumerate(codes)],
                )
                season = Season(cycle, framework, codes, rng, start)
                season.play(admin, chairs, officers, appraiser_of, council)
                start = season.next_id
                order = columns("oversight")
                rows = [tuple(r[c] for c in order) for r in season.rows]
                cur.executemany(upsert_sql("oversight"), rows)
                played += rows
                total += len(season.rows)
            # the keyframes of the sums that reads as of a moment start from
            where = order.index("cycle"), order.index("leaf_index")
            played.sort(key=lambda r: r[where[1]])
            oversight_frames.record(cur, played, *where)
            kinds = ", ".join(f"SUM(kind = '{k}')" for k in OVERSIGHT_KINDS)
            for (dim, (expr, rows)), whole in itertools.product(SUM_DIMS.items(), (False, True)):
                cycle, group = ("'*'", expr) if whole else ("cycle", f"cycle, {expr}")
                cur.execute(
                    f"INSERT INTO oversight_sums SELECT {cycle}, '{dim}', {expr}, COUNT(*), "
                    "SUM(COALESCE(delta_key, 0) != 0), "
                    "SUM(CASE WHEN delta_key < 0 THEN -delta_key ELSE 0 END), "
                    "SUM(CASE WHEN delta_key > 0 THEN delta_key ELSE 0 END), "
                    f"{kinds}, SUM(after_submission), SUM(after_deadline), "
                    "SUM(after_approval), SUM(after_publication), SUM(loss_ppm >= 500000) "
                    "FROM oversight "
                    f"WHERE {rows} GROUP BY {group}"
                )
    finally:
        model.close()
    return total


def measure(path: Path, units: int, reads: int, seed: int = 11) -> dict:
    from projections.queries import Queries
    from projections.queries_oversight import Filters
    from projections.store import ReadModel

    rng = random.Random(seed)
    model = ReadModel(str(path))
    q = Queries(model)
    cycle = CYCLES[0]
    head = q.oversight(cycle, Filters())
    every = head["total"]

    def unit() -> str:
        return f"xa-{rng.randrange(units):05d}"

    def actor() -> str:
        return f"pk_app{rng.randrange(APPRAISERS):03d}"

    def page(filters: Filters, size: int) -> int:
        return rng.randrange(0, max(size, 1), 100)

    per_actor = q.oversight(cycle, Filters(actor="pk_app000"))["total"]
    first_id = head["changes"][0]["notification_id"]
    last_id = first_id + every
    with model.read() as cur:
        cur.execute("SELECT MIN(leaf_index), MAX(leaf_index) FROM oversight")
        low, high = cur.fetchone()

    def moment() -> int:
        return rng.randrange(low, high + 1)

    reads_of = {
        "list: no filter, first page": lambda: q.oversight(cycle, Filters()),
        "list: no filter, random page": lambda: q.oversight(
            cycle, Filters(), offset=page(Filters(), every)
        ),
        "list: no filter, random page by after": lambda: q.oversight(
            cycle, Filters(), after=rng.randrange(first_id, last_id)
        ),
        "list: one unit": lambda: q.oversight(cycle, Filters(unit=unit())),
        "list: one appraiser, random page": lambda: q.oversight(
            cycle, Filters(actor=actor()), offset=page(Filters(), per_actor)
        ),
        "list: kind=correction": lambda: q.oversight(cycle, Filters(kind="correction")),
        "list: after_deadline": lambda: q.oversight(cycle, Filters(after_deadline=True)),
        "list: after_publication": lambda: q.oversight(cycle, Filters(after_publication=True)),
        "list: large deductions": lambda: q.oversight(cycle, Filters(large=True)),
        "list: min_change=0.5": lambda: q.oversight(cycle, Filters(min_change=Decimal("0.5"))),
        "list: appraiser, round 2": lambda: q.oversight(cycle, Filters(actor=actor(), round=2)),
        "list: across cycles, first page": lambda: q.oversight(None, Filters()),
        "list: across cycles, one unit": lambda: q.oversight(None, Filters(unit=unit())),
        "summary: per actor": lambda: q.oversight_summary(cycle, "actor", "deducted"),
        "summary: per unit, random page": lambda: q.oversight_summary(
            cycle, "unit", "deducted", offset=rng.randrange(0, units, 100)
        ),
        "summary: per leaf": lambda: q.oversight_summary(cycle, "leaf", "deducted"),
        "summary: per area": lambda: q.oversight_summary(cycle, "area"),
        "summary: per actor, across cycles": lambda: q.oversight_summary(None, "actor", "deducted"),
        "summary: per unit, across cycles": lambda: q.oversight_summary(
            None, "unit", "key", offset=rng.randrange(0, units, 100)
        ),
        "summary as of: per actor": lambda: q.oversight_summary(
            cycle, "actor", "deducted", upto=moment()
        ),
        "summary as of: per unit, random page": lambda: q.oversight_summary(
            cycle, "unit", "deducted", offset=rng.randrange(0, units, 100), upto=moment()
        ),
        "summary as of: per leaf": lambda: q.oversight_summary(
            cycle, "leaf", "deducted", upto=moment()
        ),
        "summary as of: per unit, across cycles": lambda: q.oversight_summary(
            None, "unit", "key", offset=rng.randrange(0, units, 100), upto=moment()
        ),
    }
    collections: list[int] = []
    gc.callbacks.append(
        lambda phase, info: phase == "start" and collections.append(info["generation"])
    )
    samples: dict[str, list[float]] = {name: [] for name in reads_of}
    cpu: dict[str, list[float]] = {name: [] for name in reads_of}
    try:
        for fn in reads_of.values():
            fn()  # warm the connection and the page cache, as a serving worker
        names = list(reads_of)
        for _ in range(reads):
            # in a new order each round, as a server gets them: the process's own
            # pauses (a full garbage collection, about 17 ms) fall on any read, not
            # always on the one that happens to follow the same allocations
            rng.shuffle(names)
            for name in names:
                fn = reads_of[name]
                started, thread = time.perf_counter(), time.thread_time()
                doc = fn()
                samples[name].append(time.perf_counter() - started)
                cpu[name].append(time.thread_time() - thread)
                assert doc is not None
    finally:
        model.close()
    return {
        "rows_in_cycle": every,
        "full_collections": collections.count(2),
        "reads": {k: latencies(v) for k, v in samples.items()},
        "cpu_time": {k: latencies(v) for k, v in cpu.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--reads", type=int, default=300, help="reads of each kind")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="oversight-bench-") as tmp:
        path = Path(tmp) / "read.sqlite"
        started = time.perf_counter()
        rows = build(path, args.units)
        built = time.perf_counter() - started
        gc.collect()  # the rows made for the build are garbage: start as a fresh worker
        results = measure(path, args.units, args.reads)
        size = path.stat().st_size
    report = {
        "at": _utc(datetime.now(UTC)),
        "units": args.units,
        "leaves": 119,
        "cycles": len(CYCLES),
        "oversight_rows": rows,
        "build_seconds": round(built, 2),
        "read_model_bytes": size,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "load_average": os.getloadavg()[0],
        **results,
    }
    print(
        f"read model: {len(CYCLES)} cycles x {args.units} units x 119 leaves, {rows:,} changes "
        f"({results['rows_in_cycle']:,} in one cycle), {size / 1e6:.0f} MB, built in "
        f"{built:.0f} s ({report['cpu']})"
    )
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        f"{results['full_collections']} full garbage collections while reading"
    )
    print(f"{'read':<38} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   {'CPU p50':>8} {'CPU p99':>8}")
    for name, r in results["reads"].items():
        c = results["cpu_time"][name]
        print(
            f"{name:<38} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['max_ms']:>8.2f}   "
            f"{c['p50_ms']:>8.2f} {c['p99_ms']:>8.2f}"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"oversight-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
