"""`parindex framework check|import` on a 3 MB .xlsx that inflates to 1 GiB: refused at once.

The command runs as its own process so its wall time and peak memory are its
own. The peak is the process's VmHWM, read by the process as it exits: unlike
ru_maxrss, it starts afresh at exec and so does not include the memory of the
test process that started it. Before the limits the command ran for minutes
and grew without bound; the bounds below are loose on purpose (a shared,
loaded machine), an order of magnitude away from that behaviour.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.spreadsheets import sheet_bomb
from tests.support import PARINDEX_ENV

WALL_SECONDS = 30
PEAK_RSS_MIB = 200

# The parindex console script's own entry point, plus a report of the peak memory.
CLI = """
import atexit, os, sys
def report():
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    open(os.environ["PEAK_FILE"], "w").write(status)
atexit.register(report)
from interfaces.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def run_measured(*args: str, cwd, lang: str = "vi") -> tuple[int, str, float, float]:
    """Exit code, stderr, wall seconds and peak resident memory (MiB) of one parindex run."""
    peak_file = cwd / "peak.txt"
    env = {k: v for k, v in os.environ.items() if k not in PARINDEX_ENV}
    env |= {"PARINDEX_LANG": lang, "PEAK_FILE": str(peak_file)}
    started = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=2 * WALL_SECONDS,
    )
    wall = time.monotonic() - started
    return p.returncode, p.stderr, wall, int(peak_file.read_text()) / 1024


def test_the_peak_memory_measure_sees_a_large_allocation(tmp_path):
    # The measure itself can fail: 300 MiB held by the process must show.
    code = "import interfaces.cli.main as m; m.main = lambda a: len(bytearray(300 << 20)) and 0"
    peak_file = tmp_path / "peak.txt"
    env = dict(os.environ, PEAK_FILE=str(peak_file))
    subprocess.run(
        [
            sys.executable,
            "-c",
            CLI.replace("from interfaces.cli.main import main", code + "\nmain = m.main"),
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=60,
    )
    assert int(peak_file.read_text()) / 1024 > 300


def test_a_zip_bomb_is_refused_by_check_in_seconds_with_little_memory(tmp_path):
    bomb = sheet_bomb(tmp_path / "bo-tieu-chi.xlsx", 1 << 30)
    assert bomb.stat().st_size < 4 << 20
    code, stderr, wall, peak = run_measured("framework", "check", str(bomb), cwd=tmp_path)
    assert code == 1, stderr
    assert "[xlsx_member_too_large]" in stderr and "giải nén ra 1073741" in stderr
    assert "16777216" in stderr and "Traceback" not in stderr
    assert wall < WALL_SECONDS, wall
    assert peak < PEAK_RSS_MIB, peak


def test_a_zip_bomb_is_refused_by_import_before_anything_is_signed(tmp_path):
    bomb = sheet_bomb(tmp_path / "bo-tieu-chi.xlsx", 1 << 30)
    meta = ["--name", "Bộ thử", "--jurisdiction", "Tỉnh Thử", "--level", "commune"]
    args = ["framework", "import", str(bomb), *meta, "--year", "2025"]
    code, stderr, wall, peak = run_measured(*args, "--admin-key", "none.key", cwd=tmp_path)
    assert code == 1 and "[xlsx_member_too_large]" in stderr, stderr
    assert wall < WALL_SECONDS and peak < PEAK_RSS_MIB, (wall, peak)


def test_the_refusal_is_in_english_when_asked(tmp_path):
    bomb = sheet_bomb(tmp_path / "bomb.xlsx", 256 << 20)
    code, stderr, _, _ = run_measured("framework", "check", str(bomb), cwd=tmp_path, lang="en")
    assert code == 1
    assert "[xlsx_member_too_large]" in stderr and "over the limit of 16777216" in stderr
