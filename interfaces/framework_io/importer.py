"""Importing a criteria table (and, optionally, past scores beside it) from a file.

Real tables are messy, so the importer accepts decimal commas, Roman numerals
for areas, trailing dots in codes, any Unicode normalisation (stored NFC), and
a title spilling onto a following row with no code and no figures (joined to
its row, with a warning). Anything wrong imports nothing: ValidationFailed
lists every problem with its row, column and stable code.

Score columns (self_score, appraised_score, achieved) make it a result table:
leaf values are the data, parent values are only compared with the sums of
their leaves, each disagreement reported as a ParentMismatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from domain.errors import DomainError, Problem
from domain.framework.codes import parent_code
from domain.framework.decimals import canonical, parse_decimal
from domain.framework.meta import FrameworkMeta
from domain.framework.model import Framework, Node
from domain.framework.problems import failed
from domain.framework.text import fold
from interfaces.framework_io.columns import (
    COMPONENT_VALUES,
    UNIT_TYPE_VALUES,
    header_key,
    locate_header,
)
from interfaces.framework_io.problems import problem
from interfaces.framework_io.reader import RawRow, read_rows, rows_from_lists
from interfaces.framework_io.records import Record, present_score_columns, read_records
from interfaces.framework_io.results import (
    OPTIONAL_PER_ROW,
    ParentMismatch,
    lost_mismatches,
    score_report,
)
from interfaces.framework_io.rule_columns import parse_rule

Source = str | Path | Sequence[RawRow] | Sequence[Sequence[object]]


@dataclass(frozen=True)
class ImportResult:
    """A valid framework and what the file said beside it.

    `typed_scores[column][code]` holds every score typed in the file (leaves and
    parents); `computed_scores[column][code]` the sums from the leaves, which
    are the ones to trust. `rows[code]` is the row a node came from.
    """

    framework: Framework
    warnings: tuple[Problem, ...]
    typed_scores: dict[str, dict[str, Decimal]]
    computed_scores: dict[str, dict[str, Decimal]]
    parent_mismatches: tuple[ParentMismatch, ...]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def score_columns(self) -> tuple[str, ...]:
        return tuple(self.typed_scores)

    def leaf_scores(self, column: str) -> dict[str, Decimal]:
        """The typed leaf values of one score column: a past year's reference."""
        return {leaf.code: self.typed_scores[column][leaf.code] for leaf in self.framework.leaves}


def parse_table(source: Source, meta: FrameworkMeta) -> ImportResult:
    """Import `source` (a .csv/.xlsx path, RawRows, or lists with the header first)."""
    rows = rows_of(source)
    header, problems, warnings = locate_header(rows)
    if problems:
        raise failed(problems)
    score_columns = present_score_columns(header, rows)
    body = [r for r in rows if r.number > header.row]
    records, totals = read_records(body, header, score_columns, problems, warnings)
    nodes, node_rows, broken = _nodes(records, problems)
    framework = None
    try:
        framework = Framework.build(meta, nodes, node_rows)
    except DomainError as exc:
        problems.extend(p for p in exc.problems if not _cascade(p, broken, bool(records)))
    typed = {
        c: {r.code: r.scores[c] for r in records if r.code and c in r.scores} for c in score_columns
    }
    problems.extend(_missing_scores(records, score_columns))
    if problems or framework is None:
        raise failed(sorted(problems, key=lambda p: p.row or 0))
    rows_by_code = {r.code: r.number for r in records if r.code}
    computed, mismatches = score_report(framework, typed, rows_by_code, totals)
    mismatches += lost_mismatches(
        [(r.number, r.code, r.max_points, r.scores) for r in records], score_columns
    )
    mismatches.sort(key=lambda m: (m.row, m.column))
    return ImportResult(
        framework, tuple(warnings), typed, computed, tuple(mismatches), rows_by_code
    )


def rows_of(source: Source) -> list[RawRow]:
    if isinstance(source, str | Path):
        return read_rows(source)
    items = list(source)
    if items and isinstance(items[0], RawRow):
        return items  # type: ignore[return-value]
    return rows_from_lists(items)  # type: ignore[arg-type]


def _nodes(
    records: list[Record], problems: list[Problem]
) -> tuple[list[Node], list[int], set[str]]:
    """Nodes for the rows that parsed; `broken` holds codes whose rows did not."""
    nodes, rows, broken = [], [], set()
    for r in records:
        if r.code is None:
            continue
        if r.max_points is None:
            broken.add(r.code)
            continue
        rule, rule_problems = parse_rule(r.cells, r.max_points, r.code, r.number)
        problems.extend(rule_problems)
        component, cap = _variation(r, problems)
        by_type = _by_type(r, problems)
        nodes.append(
            Node(
                r.code,
                r.title,
                r.max_points,
                r.label,
                r.note or None,
                None if rule_problems else rule,
                component,
                cap,
                by_type,
            )
        )
        rows.append(r.number)
    return nodes, rows, broken


def _variation(r: Record, problems: list[Problem]) -> tuple[str | None, Decimal | None]:
    """A bonus or penalty area's component and cap, as its row says them."""
    typed = r.cells.get("component", "")
    component = None
    if typed:
        component = COMPONENT_VALUES.get(header_key(typed))
        if component is None:
            problems.append(
                problem("invalid_component", row=r.number, column="component", code=r.code)
            )
            return None, None  # its cap is judged once the component is read
    cap = None
    if r.cells.get("cap"):
        try:
            cap = parse_decimal(r.cells["cap"])
        except DomainError:
            problems.append(
                problem(
                    "invalid_cap",
                    row=r.number,
                    column="cap",
                    code=r.code,
                    value=r.cells["cap"][:40],
                    maximum=r.cells.get("max_points", ""),
                )
            )
    return component, cap


def _by_type(r: Record, problems: list[Problem]) -> tuple[tuple[str, Decimal], ...]:
    """ "phường=2; thị trấn=2,5": a leaf's maximum for each type named."""
    typed = r.cells.get("max_by_type", "")
    out = []
    for part in (p.strip() for p in typed.replace("\n", ";").split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        unit_type = UNIT_TYPE_VALUES.get(fold(name).strip().replace("  ", " "))
        try:
            maximum = parse_decimal(value.strip()) if sep else None
        except DomainError:
            maximum = None
        if unit_type is None or maximum is None:
            problems.append(
                problem(
                    "invalid_max_by_type",
                    row=r.number,
                    column="max_by_type",
                    code=r.code,
                    value=part[:40],
                )
            )
            continue
        out.append((unit_type, maximum))
    return tuple(sorted(out))


def _cascade(p: Problem, broken: set[str], had_rows: bool) -> bool:
    """A tree problem caused only by a row already reported (so not listed twice)."""
    if p.code == "empty_framework":
        return had_rows
    if p.code == "parent_missing" and p.field:
        return parent_code(p.field) in broken
    if p.code == "parent_sum_mismatch" and p.field:
        return any(parent_code(code) == p.field for code in broken)
    return False


def _missing_scores(records: list[Record], score_columns: tuple[str, ...]) -> list[Problem]:
    """Each leaf needs a value in each score column, within 0..max."""
    parents = {parent_code(r.code) for r in records if r.code}
    leaves = [r for r in records if r.code and r.code not in parents]
    out = []
    for column in score_columns:
        for r in leaves:
            if column in r.scores:
                out.extend(_score_range(r, column))
            elif column not in OPTIONAL_PER_ROW and not r.cells.get(
                column
            ):  # a cell that failed to parse is reported already
                out.append(
                    problem("missing_score", row=r.number, column=column, field=r.code, code=r.code)
                )
    return out


def _score_range(r: Record, column: str) -> list[Problem]:
    value = r.scores[column]
    where = {
        "row": r.number,
        "column": column,
        "field": r.code,
        "code": r.code,
        "value": canonical(value),
    }
    if value < 0:
        return [problem("negative_points", **where)]
    if r.max_points is not None and value > r.max_points:
        return [problem("points_above_max", max=canonical(r.max_points), **where)]
    return []
