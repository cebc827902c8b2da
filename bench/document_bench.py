"""Document bench: Appendix I and II files for a cycle of every commune of Vietnam.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/document_bench.py                  # 3,321 units, 3 repeats
    .venv/bin/python bench/document_bench.py --units 300 --repeat 1   # smoke run

Builds (or reuses) ``season_bench``'s store of N units (119 self-scores, a
submission and a close each, some 400,000 events), takes it through the
council's close, a proposal, approval and publication, then times, each
repeat in turn:

- the ranking table of the published version: computing it from the log
  (``export.make``: the cycle, the framework and the ranking folded from their
  events), writing it as .xlsx and as .docx, reading each back and comparing
  it with the log (what ``verify-document`` does after replaying the log);
- one unit's scoring sheet: the same steps for 155 rows.

Prints medians (seconds), file sizes, and the .docx / .xlsx ratio of each
step, measured side by side in one run; saves ``bench/results/document-*.json``.
The full replay ``verify-document`` starts with is ``parindex verify``'s, timed
by ``bench/core_bench.py``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import cpu_model, save_results  # bench/ is the script's own directory
from season_bench import CYCLE, REPO, RESULTS_DIR, build, child

STEPS = ("compute", "write", "read", "compare")


def timed(run) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = run()
    return time.perf_counter() - t0, value


def one_document(app, kind: str, subject: str, fmt: str, tmp: Path) -> dict:
    from application.documents import export
    from application.documents.model import differences
    from interfaces.documents import files

    path = tmp / f"{kind}.{fmt}"
    compute, doc = timed(lambda: export.make(app, kind, CYCLE, subject))
    write, _ = timed(lambda: files.write(doc, path))
    read, back = timed(lambda: files.read(path))
    compare, found = timed(lambda: differences(back, doc))
    assert found == [], found[:3]
    return {
        "compute": compute,
        "write": write,
        "read": read,
        "compare": compare,
        "bytes": path.stat().st_size,
        "rows": len(doc.rows),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=3321)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    source, built = build(args.units)
    print(f"season store: {args.units} units, built in {built:.0f} s (0: cached)")
    sys.path.insert(0, str(REPO))
    from application.deployment import open_app

    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        shutil.copytree(source, data)
        child(data, warm=True)  # close, propose, approve, publish: version 1
        with open_app(data) as app:
            size = app.tlog.size()
            for _ in range(args.repeat):
                for kind, subject in (("ranking_table", "1"), ("scoring_sheet", "xa-0000")):
                    for fmt in ("xlsx", "docx"):  # side by side, alternating
                        runs.setdefault(f"{kind}.{fmt}", []).append(
                            one_document(app, kind, subject, fmt, Path(scratch))
                        )
    report = {"units": args.units, "log_size": size, "cpu": cpu_model(), "results": {}}
    print(f"{args.units} units, log of {size} events, {cpu_model()}; medians of {args.repeat}")
    print(f"{'document':<22}" + "".join(f"{s:>10}" for s in STEPS) + f"{'total':>10}{'size':>12}")
    for name, samples in runs.items():
        med = {s: statistics.median(r[s] for r in samples) for s in STEPS}
        total = sum(med.values())
        report["results"][name] = med | {"total": total, "bytes": samples[0]["bytes"]}
        cells = "".join(f"{med[s]:>9.3f}s" for s in STEPS)
        print(f"{name:<22}{cells}{total:>9.3f}s{samples[0]['bytes']:>11,}B")
    for kind in ("ranking_table", "scoring_sheet"):
        a, b = report["results"][f"{kind}.docx"], report["results"][f"{kind}.xlsx"]
        print(f"{kind}: .docx / .xlsx total x{a['total'] / b['total']:.2f}")
    print(f"saved {save_results(RESULTS_DIR, 'document', report)}")


if __name__ == "__main__":
    main()
