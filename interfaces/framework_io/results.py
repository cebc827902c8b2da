"""Past scores in a result table: trust the leaves, check the typed parents.

Published result tables carry a typed value on every parent row, and some are
wrong (typed by hand, or rounded before summing). Totals are computed from the
leaves at full precision; each typed parent that differs is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.framework.compute import rollup
from domain.framework.decimals import exact
from domain.framework.model import Framework


@dataclass(frozen=True)
class ParentMismatch:
    """A typed parent value that is not the sum of its leaves.

    `code` is None for the table's overall total row ("Tổng cộng"); `column`
    is the score column, or max_points when a total row's maximum is wrong.
    """

    row: int
    code: str | None
    column: str
    typed: Decimal
    computed: Decimal


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
            expected = (
                framework.max_total
                if column == "max_points"
                else sum((computed[column][a.code] for a in framework.areas), Decimal(0))
            )
            if value != expected:
                mismatches.append(ParentMismatch(total.row, None, column, value, expected))
    return computed, sorted(mismatches, key=lambda m: (m.row, m.column))
