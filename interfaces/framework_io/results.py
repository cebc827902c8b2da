"""Past scores in a result table: trust the leaves, check the typed parents.

Published result tables carry a typed value on every parent row, and some are
wrong (typed by hand, or rounded before summing). Totals are computed from the
leaves at full precision; each typed parent that differs is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.framework.compute import rollup, total_of
from domain.framework.decimals import exact, round_half_up
from domain.framework.model import Framework
from interfaces.framework_io.columns import LOST_FROM

ROUNDING_PLACES = 2
OPTIONAL_PER_ROW = ("target", "lost")


@dataclass(frozen=True)
class ParentMismatch:
    """A typed value that is not what the table's other figures make it: a
    parent's score that is not the sum of its leaves, or a row's points lost
    (column `lost`) that are not its maximum minus its appraised points.

    `code` is None for the table's overall total row ("Tổng cộng"); `column`
    is the score column, or max_points when a total row's maximum is wrong.
    """

    row: int
    code: str | None
    column: str
    typed: Decimal
    computed: Decimal

    @property
    def difference(self) -> Decimal:
        return self.typed - self.computed

    @property
    def rounding(self) -> bool:
        """True when the two agree once both are rounded to 2 places: a total
        rounded before it was summed, not a wrong figure."""
        return round_half_up(self.typed, ROUNDING_PLACES) == round_half_up(
            self.computed, ROUNDING_PLACES
        )


def lost_column_source(columns: tuple[str, ...]) -> str | None:
    """The appraised points a `lost` column is checked against: the appraised
    score, else the achieved points, else the latest year's of either."""
    for name in LOST_FROM:
        if name in columns:
            return name
    dated = sorted(
        (c.rpartition("_")[2], c)
        for c in columns
        if c.rpartition("_")[0] in LOST_FROM and c.rpartition("_")[2].isdigit()
    )
    return dated[-1][1] if dated else None


@exact
def lost_mismatches(
    rows: list[tuple[int, str | None, Decimal | None, dict[str, Decimal]]], columns: tuple[str, ...]
) -> list[ParentMismatch]:
    """Each row (number, code, maximum, typed scores) whose points lost are not
    its maximum minus its appraised points."""
    source = lost_column_source(columns)
    if "lost" not in columns or source is None:
        return []
    out = []
    for number, code, maximum, scores in rows:
        if maximum is None or "lost" not in scores or source not in scores:
            continue
        expected = maximum - scores[source]
        if scores["lost"] != expected:
            out.append(ParentMismatch(number, code, "lost", scores["lost"], expected))
    return out


@dataclass(frozen=True)
class TypedTotal:
    """A "Tổng cộng" row: no code, typed values by column."""

    row: int
    values: dict[str, Decimal]


@exact
def score_report(
    framework: Framework,
    typed: Mapping[str, Mapping[str, Decimal]],
    rows: Mapping[str, int],
    totals: list[TypedTotal],
) -> tuple[dict[str, dict[str, Decimal]], list[ParentMismatch]]:
    """Per column: every node's sum from the typed leaves, and each disagreeing parent."""
    computed: dict[str, dict[str, Decimal]] = {}
    mismatches: list[ParentMismatch] = []
    leaves = {leaf.code for leaf in framework.leaves}
    for column, values in typed.items():
        if column in OPTIONAL_PER_ROW:
            continue  # a target or points lost are typed on some rows only
        sums = rollup(framework, {c: v for c, v in values.items() if c in leaves})
        computed[column] = sums
        for node in framework.nodes:
            if node.code in leaves or node.code not in values:
                continue
            if values[node.code] != sums[node.code]:
                mismatches.append(
                    ParentMismatch(
                        rows[node.code], node.code, column, values[node.code], sums[node.code]
                    )
                )
    for total in totals:
        for column, value in total.values.items():
            if column in OPTIONAL_PER_ROW:
                continue
            expected = (
                framework.max_total
                if column == "max_points"
                else total_of(framework, computed[column])
            )
            if value != expected:
                mismatches.append(ParentMismatch(total.row, None, column, value, expected))
    return computed, sorted(mismatches, key=lambda m: (m.row, m.column))
