"""How long and how much memory reading a table takes, honest files beside hostile ones.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/table_bench.py [--repeats 3]

Each case reads one file with `interfaces.framework_io.reader.read_rows` in a
fresh child process (so imports and peak memory are the child's own; the
figures include interpreter start and imports, which the `empty` row shows
alone). Printed per case: the file size, the outcome (rows read or the
refusal code), the median wall time and peak resident memory (the child's
VmHWM) over the repeats, and both as ratios to the bundled framework's row.
The limits themselves are in interfaces/framework_io/limits.py and
docs/FRAMEWORKS.md ("Limits").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.benchlib import cpu_model  # noqa: E402
from interfaces.framework_io import limits  # noqa: E402
from tests.spreadsheets import member, sheet_bomb, xlsx_with  # noqa: E402

BUNDLED_CSV = "thai-nguyen-2021-commune.csv"
# The child reports its own peak (VmHWM): ru_maxrss would include the parent's
# memory, which Linux carries over into a child's maximum across fork and exec.
CHILD = """
import json, sys
from domain.errors import ValidationFailed
from interfaces.framework_io.reader import read_rows
def peak():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
path = sys.argv[1]
if path == "-":
    outcome = "(nothing read)"
else:
    try:
        outcome = f"{len(read_rows(path))} rows"
    except ValidationFailed as e:
        outcome = e.problems[0].code
print(json.dumps({"outcome": outcome, "peak": peak()}))
"""


def make_cases(tmp: Path) -> dict[str, Path | str]:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "title", "max_points", "note", "rule", "step"])
    for i in range(1, limits.MAX_ROWS):
        sheet.append([f"{i // 100 + 1}.{i % 100}", f"Tiêu chí số {i} " * 6, 0.5, "", "manual", ""])
    full = tmp / "full-2000-rows.xlsx"
    workbook.save(full)
    rnd = random.Random(1)
    count = limits.MAX_ELEMENTS // 2 - 2_000  # just under the element limit
    strings = b"".join(
        b"<si><t>" + "".join(rnd.choices(string.ascii_letters, k=3)).encode() + b"</t></si>"
        for _ in range(count)
    )
    shared = member("xl/sharedStrings.xml", b"<sst>" + strings + b"</sst>")
    return {
        "empty (interpreter + imports)": "-",
        "bundled framework (.csv, 155 rows)": REPO
        / "interfaces/bundled/thai-nguyen-2021-commune.csv",
        "2,000-row table (.xlsx)": full,
        f"{count:,} tiny shared strings (.xlsx)": xlsx_with(tmp / "strings.xlsx", None, shared),
        "zip bomb: 3 MB -> 1 GiB sheet (.xlsx)": sheet_bomb(tmp / "bomb.xlsx", 1 << 30),
    }


def run_once(path: Path | str) -> tuple[float, float, str]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    out = json.loads(proc.stdout.read())
    proc.wait()
    return time.monotonic() - started, out["peak"], out["outcome"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"# table bench on {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        cases = make_cases(Path(tmp))
        rows = []
        for name, path in cases.items():
            runs = [run_once(path) for _ in range(args.repeats)]
            size = Path(path).stat().st_size if path != "-" else 0
            rows.append(
                (
                    name,
                    size,
                    runs[0][2],
                    statistics.median(r[0] for r in runs),
                    statistics.median(r[1] for r in runs),
                )
            )
    base = rows[1]
    print(
        f"{'case':44} {'file':>10} {'outcome':>24} {'wall s':>7} {'x':>5} {'RSS MiB':>8} {'x':>5}"
    )
    for name, size, outcome, wall, rss in rows:
        print(
            f"{name:44} {size:>10,} {outcome:>24} {wall:7.2f} {wall / base[3]:5.1f} "
            f"{rss:8.1f} {rss / base[4]:5.1f}"
        )


if __name__ == "__main__":
    main()
