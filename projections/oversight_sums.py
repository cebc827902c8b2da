"""The oversight view's rows and sums as a batch collects them (projections/oversight.py
decides what a row says; here it is counted and written).

Points are exact: `delta` is decimal text and `delta_key` the same x 10^4
(points have at most 4 places), so every sum is an integer sum. A batch keeps
its rows and its sums per (cycle, dim, key) in memory (`Pending`) and writes
them when it ends (`flush`, called by apply.Batch.flush): a key's sums take one
upsert per batch, however many changes the batch brings. Every row counts in
its cycle's sums and in those of ALL_CYCLES ("*", no cycle code is "*"), so a
read across every cycle reads one row per key. Besides the dimensions a summary
reads (actor, unit, leaf, area), `size` and `loss` count the changes by their
exact |delta| and share of the maximum, zero-padded so that a `min_change` or a
`large_share` is a range of keys: its total reads a few rows, not every change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from projections.rows import dec_text, scaled_key
from projections.schema import OVERSIGHT_KINDS, columns, upsert_sql

if TYPE_CHECKING:
    from projections.apply import Batch

ROW = columns("oversight")
INSERT_SQL = upsert_sql("oversight").replace("INSERT OR REPLACE", "INSERT")
MEASURES = columns("oversight_sums")[3:]
SUMS_SQL = (
    f"INSERT INTO oversight_sums ({', '.join(columns('oversight_sums'))}) "
    f"VALUES ({', '.join('?' * len(columns('oversight_sums')))}) "
    "ON CONFLICT (cycle, dim, key) DO UPDATE SET "
    + ", ".join(f"{m} = {m} + excluded.{m}" for m in MEASURES)
)
ALL_CYCLES = "*"
DEFAULT_SHARE = Decimal("0.5")  # a large deduction: this share of the leaf's max, or more
DEFAULT_PPM = int(DEFAULT_SHARE * 10**6)
FLAGS = ("after_submission", "after_deadline", "after_approval", "after_publication")


class Pending:
    """A batch's rows and sums, written once when the batch ends (`flush`): a
    key's sums take one upsert per batch, not one per change."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.sums: dict[tuple[str, str, str], list[int]] = {}


def _pending(b: Batch) -> Pending:
    found = b.__dict__.get("oversight_pending")
    if found is None:
        found = b.oversight_pending = Pending()  # type: ignore[attr-defined]
    return found


def flush(b: Batch) -> list[tuple]:
    """Writes what the batch's events added (apply.Batch.flush calls it); returns
    the rows written, in log order."""
    pending = b.__dict__.pop("oversight_pending", None)
    if pending is None:
        return []
    b.cur.executemany(INSERT_SQL, pending.rows)
    b.cur.executemany(SUMS_SQL, [(*key, *values) for key, values in pending.sums.items()])
    return pending.rows


def size_text(size_key: int) -> str:
    """|delta| x 10^4 as a key that sorts as the number does."""
    return f"{size_key:020d}"


def loss_text(loss_ppm: int) -> str:
    return f"{loss_ppm:010d}"


def write(b: Batch, values: dict) -> None:
    """One row, and its counts added to the sums of each dimension it belongs to."""
    old, new = values.get("old_points"), values.get("new_points")
    delta = None if old is None or new is None else Decimal(new) - Decimal(old)
    key = scaled_key(delta, 4)
    max_key = scaled_key(Decimal(values["max_points"]), 4) if values.get("max_points") else None
    loss = (-key * 10**6) // max_key if key is not None and key < 0 and max_key else 0
    values.update(delta=dec_text(delta), delta_key=key, size_key=None if key is None else abs(key))
    values["loss_ppm"] = loss
    pending = _pending(b)
    pending.rows.append(tuple(values.get(c) for c in ROW))
    counts = {
        "changes": 1,
        "score_changes": int(bool(key)),
        "deducted_key": -key if key and key < 0 else 0,
        "added_key": key if key and key > 0 else 0,
        **{f"n_{k}": int(values["kind"] == k) for k in OVERSIGHT_KINDS},
        **{f: values.get(f) or 0 for f in FLAGS},
        "large_deductions": int(loss >= DEFAULT_PPM),
    }
    measures = [counts[m] for m in MEASURES]
    dims = [("cycle", ""), ("actor", values.get("actor_key_id") or "")]
    dims += [(d, values[d]) for d in ("unit", "leaf", "area") if values.get(d) is not None]
    if key:  # counts by size and by share of the max: a size filter's total is a range of keys
        dims.append(("size", size_text(abs(key))))
    if loss:
        dims.append(("loss", loss_text(loss)))
    for cycle in (values["cycle"], ALL_CYCLES):
        for dim, name in dims:
            found = pending.sums.get((cycle, dim, name))
            if found is None:
                pending.sums[(cycle, dim, name)] = list(measures)
            else:
                for i, n in enumerate(measures):
                    found[i] += n
