"""`parindex framework check` on a 3 MB .xlsx that inflates to 1 GiB: a clear refusal, at once.

The command runs as its own process so its wall time and peak memory are its
own (os.wait4 reports the child's resource use). Before the limits it ran for
minutes and grew without bound; the bounds below are loose on purpose (a
shared, loaded machine), an order of magnitude away from that behaviour.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from tests.e2e.test_cli_core import PARINDEX
from tests.spreadsheets import sheet_bomb
from tests.support import PARINDEX_ENV

WALL_SECONDS = 30
PEAK_RSS_MIB = 200


def run_measured(*args: str, cwd, lang: str = "vi") -> tuple[int, str, float, float]:
    """Exit code, stderr, wall seconds and peak RSS (MiB) of one parindex process."""
    env = {k: v for k, v in os.environ.items() if k not in PARINDEX_ENV} | {"PARINDEX_LANG": lang}
    err = cwd / "stderr.txt"
    started = time.monotonic()
    with err.open("wb") as handle:
        proc = subprocess.Popen(
            [PARINDEX, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=handle
        )
        watchdog = threading.Timer(2 * WALL_SECONDS, proc.kill)  # a hang fails, not blocks
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    return proc.returncode, err.read_text("utf-8"), wall, usage.ru_maxrss / 1024


@pytest.mark.parametrize("command", ["check", "import"])
def test_a_zip_bomb_is_refused_in_seconds_with_little_memory(tmp_path, command):
    bomb = sheet_bomb(tmp_path / "bo-tieu-chi.xlsx", 1 << 30)
    assert bomb.stat().st_size < 4 << 20
    args = ["framework", command, str(bomb)]
    if command == "import":
        meta = ["--name", "Bộ thử", "--jurisdiction", "Tỉnh Thử", "--level", "commune"]
        args += [*meta, "--year", "2025", "--admin-key", str(tmp_path / "admin.key")]
    code, stderr, wall, peak = run_measured(*args, cwd=tmp_path)
    assert code == 1, stderr
    assert "[xlsx_member_too_large]" in stderr and "giải nén ra 1073741" in stderr
    assert "16777216" in stderr and "Traceback" not in stderr
    assert wall < WALL_SECONDS, wall
    assert peak < PEAK_RSS_MIB, peak


def test_the_refusal_is_in_english_when_asked(tmp_path):
    bomb = sheet_bomb(tmp_path / "bomb.xlsx", 256 << 20)
    code, stderr, _, _ = run_measured("framework", "check", str(bomb), cwd=tmp_path, lang="en")
    assert code == 1
    assert "[xlsx_member_too_large]" in stderr and "over the limit of 16777216" in stderr
