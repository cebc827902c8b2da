"""verify's time is bounded by the rows a store holds, not by the numbers an
operator writes into them."""

from __future__ import annotations

import multiprocessing
import time

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.deployment import open_app
from tests.support import make_env, sql


def _verify_kinds(data_dir: str, out) -> None:
    app = open_app(data_dir)
    out.put(
        sorted(
            {
                (f.kind, f.position.get("leaf_index"))
                for f in verify(StoreSource(app.tlog), workers=2).findings
            }
        )
    )


def test_a_leaf_row_planted_at_index_10_to_the_12_is_reported_in_seconds(tmp_path):
    sqlite_env = make_env(tmp_path, None)  # the fixed-range reads are SQLite's
    # On SQLite, verify's workers read fixed ranges of leaf indices; a row at
    # 10**12 made them walk half a billion empty ranges (about a day).
    app = sqlite_env.app
    leaves = app.tlog.t.leaves
    row = dict(sql(app, f"SELECT * FROM {leaves} WHERE leaf_index = 1")[0])
    row["leaf_index"] = 10**12
    names, marks = ",".join(row), ",".join("?" * len(row))
    sql(app, f"INSERT INTO {leaves} ({names}) VALUES ({marks})", tuple(row.values()))
    size = app.tlog.size()

    # In a child process, so a regression fails here instead of hanging the suite.
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_verify_kinds, args=(str(sqlite_env.data_dir), out))
    t = time.monotonic()
    child.start()
    child.join(60)
    if child.is_alive():
        child.terminate()
        child.join()
    assert time.monotonic() - t < 60, "verify did not finish within 60 s"
    kinds = out.get(timeout=5)
    assert ("event_missing", size) in kinds
