"""Whether a store's log tables are whole: what `verify --data-dir` adds to the replay.

The replay folds the tree from the leaves; the server also serves from the
tables beside them (the stored frontier, the inner nodes its proofs read, the
command index, the checkpoints). An operator can drop or empty any of them.
Each check here reads with a bounded number of queries and reports what it
finds as findings, never as an exception.
"""

from __future__ import annotations

from application.audit.findings import Finding
from application.store.damage import STORE_ERRORS
from application.transparency import merkle
from application.transparency.log_store import LogStore

# Finding details never carry more than this of a driver's message.
DETAIL_LIMIT = 200


def table_names(log: LogStore) -> dict[str, str]:
    """Role -> table name, as a finding names it. Not the snapshots table
    (FORMATS 9.4): a cache derived from the events, which no leaf covers and
    verify never reads; a missing or emptied one only makes loading slower."""
    t = log.t
    return {
        "events": log.events_table,
        "leaves": t.leaves,
        "nodes": t.nodes,
        "state": t.state,
        "commands": t.commands,
        "checkpoints": t.checkpoints,
    }


def broken_tables(log: LogStore) -> tuple[set[str], list[Finding]]:
    """The roles whose table cannot be read (dropped, renamed, unreadable)."""
    broken: set[str] = set()
    found: list[Finding] = []
    for role, table in table_names(log).items():
        try:
            log._rows(f"SELECT 1 AS one FROM {table} LIMIT 1")
        except STORE_ERRORS as e:
            broken.add(role)
            found.append(
                Finding(
                    "log_table_missing",
                    {"table": _bare(table)},
                    str(e).splitlines()[0][:DETAIL_LIMIT] if str(e) else "",
                )
            )
    return broken, found


def _bare(table: str) -> str:
    return table.rsplit(".", 1)[-1].strip('"')


def check_state(log: LogStore, leaves: int) -> list[Finding]:
    """The stored frontier (one row) must describe exactly the leaves stored."""
    rows = log._rows(f"SELECT size, frontier FROM {log.t.state} WHERE id = 1")
    if not rows:
        if leaves == 0:
            return []
        return [
            Finding(
                "log_state_differs",
                {"size": 0, "leaves": leaves},
                "no state row: the next append would restart the tree at leaf 0",
            )
        ]
    size = rows[0]["size"]
    try:
        frontier = merkle.CompactRange.from_bytes(bytes(rows[0]["frontier"]))
    except (ValueError, TypeError, AssertionError) as e:
        return [
            Finding(
                "log_state_differs",
                {"size": size, "leaves": leaves},
                f"frontier unreadable: {e}"[:DETAIL_LIMIT],
            )
        ]
    if size != frontier.size or size < leaves or (size > leaves and size > log.leaf_bound()):
        # A live store grows while it is verified: more than the snapshot is fine
        # as long as the leaves are there too.
        return [
            Finding(
                "log_state_differs",
                {"size": size, "leaves": leaves},
                f"state says {size} (frontier {frontier.size}), {leaves} leaves stored",
            )
        ]
    return []


def check_nodes(log: LogStore, leaves: int, limit: int = 20) -> list[Finding]:
    """Every perfect subtree over the stored leaves has its node row (proofs read them)."""
    rows = log._rows(
        f"SELECT level, COUNT(*) AS n FROM {log.t.nodes} "
        f"WHERE idx >= 0 AND idx < (? >> level) GROUP BY level"
        if log.t.dialect == "sqlite"
        else f"SELECT level, COUNT(*) AS n FROM {log.t.nodes} "
        f"WHERE idx >= 0 AND idx < (CAST(? AS BIGINT) >> level) GROUP BY level",
        (leaves,),
    )
    have = {int(r["level"]): int(r["n"]) for r in rows}
    found: list[Finding] = []
    level = 1
    while (leaves >> level) > 0 and len(found) < limit:
        expected = leaves >> level
        if have.get(level, 0) < expected:
            first = _first_missing(log, level, expected)
            found.append(
                Finding(
                    "log_node_missing",
                    {"level": level, "index": first},
                    f"{expected - have.get(level, 0)} of {expected} node rows "
                    f"missing at level {level}",
                )
            )
        level += 1
    return found


def _first_missing(log: LogStore, level: int, expected: int) -> int:
    """The lowest index in 0..expected-1 without a row (binary search on counts)."""
    lo, hi = 0, expected  # rows 0..lo-1 all present; a gap lies below hi
    while lo < hi:
        mid = (lo + hi) // 2
        n = log._rows(
            f"SELECT COUNT(*) AS n FROM {log.t.nodes} WHERE level = ? AND idx >= 0 AND idx <= ?",
            (level, mid),
        )[0]["n"]
        if int(n) == mid + 1:
            lo = mid + 1
        else:
            hi = mid
    return lo


def check_commands(log: LogStore, leaves: int, limit: int = 20) -> list[Finding]:
    """Every leaf belongs to exactly one command's range in the command index
    (a missing row would let that command id be accepted, and logged, again)."""
    t = log.t.commands
    # Bounded by the snapshot: commands appended meanwhile are not counted.
    rows = log._rows(
        f"SELECT COUNT(*) AS n, COALESCE(SUM(leaf_count), 0) AS covered, "
        f"MIN(first_leaf) AS lo, MAX(first_leaf + leaf_count) AS hi FROM {t} "
        f"WHERE first_leaf < ?",
        (leaves,),
    )
    r = rows[0]
    if int(r["covered"]) == leaves and (
        leaves == 0 or (int(r["lo"]) == 0 and int(r["hi"]) == leaves)
    ):
        return []
    if int(r["n"]) == 0:
        return [
            Finding(
                "command_index_missing",
                {"leaf_index": 0},
                f"leaves 0..{leaves - 1} belong to no command",
            )
        ]
    gaps = log._rows(
        f"SELECT prev_end, first_leaf FROM (SELECT first_leaf, LAG(first_leaf + leaf_count, 1, 0) "
        f"OVER (ORDER BY first_leaf) AS prev_end FROM {t} WHERE first_leaf < ?) AS g "
        f"WHERE first_leaf <> prev_end ORDER BY first_leaf LIMIT ?",
        (leaves, limit),
    )
    found = []
    for g in gaps:
        a, b = int(g["prev_end"]), int(g["first_leaf"])
        if b > a:
            found.append(
                Finding(
                    "command_index_missing",
                    {"leaf_index": a},
                    f"leaves {a}..{b - 1} belong to no command",
                )
            )
        else:
            found.append(
                Finding(
                    "command_index_missing",
                    {"leaf_index": b},
                    f"command ranges overlap at leaf {b}",
                )
            )
    end = int(r["hi"] or 0)
    if end < leaves and len(found) < limit:
        found.append(
            Finding(
                "command_index_missing",
                {"leaf_index": end},
                f"leaves {end}..{leaves - 1} belong to no command",
            )
        )
    return found
