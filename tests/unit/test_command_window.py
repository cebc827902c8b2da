"""Verify's memory of command ids (docs/FORMATS.md 8.2 step 6): a second use of
an id is found however many chunks of leaves lie between the two uses, as long
as it is within 2·(skew + grace) of log time; older ids are forgotten, and the
ids live on disk, so a burst of a million commands does not grow memory."""

from __future__ import annotations

import os
from datetime import timedelta

from application.audit.verify import Report, Runs

SKEW = timedelta(seconds=600)  # horizon 2·(600 + 60) = 1,320 s
T0 = 1_800_000_000.0


def feed(runs: Runs, rows: list[tuple[int, str, float]], chunk: int) -> None:
    """rows of (leaf, command id, timestamp), given to Runs as verify does:
    a chunk at a time, one unit command (one leaf) each."""
    for start in range(0, len(rows), chunk):
        part = [
            (i, b"", b"", "oid", 1, (cid, "digest-" + cid), ts, False)
            for i, cid, ts in rows[start : start + chunk]
        ]
        runs.start(part)
        for row in part:
            runs.add(row[0], row[5], row[6], row[7])
        runs.end()


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def replays(report: Report) -> list[tuple[int, str]]:
    return [(f.position["leaf_index"], f.detail) for f in report.findings]


def test_a_command_id_used_again_many_chunks_later_is_command_replayed():
    report = Report()
    rows = [(i, f"cmd-{i}", T0 + i * 0.01) for i in range(5000)]
    rows.append((5000, "cmd-7", T0 + 51))  # 4,993 leaves later, 44 s later
    feed(Runs(report, SKEW), rows, chunk=2000)
    assert replays(report) == [(5000, "command 'cmd-7' already at leaf 7")]


def test_a_command_id_used_twice_in_one_chunk_is_command_replayed():
    report = Report()
    rows = [(0, "a", T0), (1, "b", T0 + 1), (2, "a", T0 + 2)]
    feed(Runs(report, SKEW), rows, chunk=2000)
    assert replays(report) == [(2, "command 'a' already at leaf 0")]


def test_an_id_older_than_the_window_is_forgotten_and_one_inside_it_is_not():
    report = Report()
    rows = [
        (0, "old", T0),
        (1, "young", T0 + 100),
        (2, "later", T0 + 1_400),  # the log's time is now 1,400 s on
        (3, "old", T0 + 1_400),  # 1,400 s > 1,320 s after: forgotten, no finding
        (4, "young", T0 + 1_400),  # 1,300 s after: still remembered
    ]
    feed(Runs(report, SKEW), rows, chunk=2)
    assert replays(report) == [(4, "command 'young' already at leaf 1")]


def test_a_million_ids_within_the_window_stay_out_of_memory():
    """All in one 22-minute window (1,000 commands a second would do it)."""
    before = resident_mib()
    report = Report()
    runs = Runs(report, SKEW)
    n, chunk = 1_000_000, 2000
    for start in range(0, n, chunk):
        part = [
            (i, b"", b"", "oid", 1, (f"{i:032x}", "d"), T0 + i / 1000, False)
            for i in range(start, start + chunk)
        ]
        runs.start(part)
        for row in part:
            runs.add(row[0], row[5], row[6], row[7])
        runs.end()
    grown_mib = resident_mib() - before  # while the window is still open
    runs.window.close()
    assert report.findings == []
    # In a dict, a million ids with their leaf and time take about 250 MiB.
    assert grown_mib < 40, f"resident memory grew {grown_mib:.0f} MiB"
