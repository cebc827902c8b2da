"""The invariants of a criteria tree, each fault its own problem.

Codes unique; every code's parent exists; every parent's maximum equals the
exact sum of its children's; maxima >= 0; titles present; rules only on
leaves, with valid parameters; gates name existing leaves without cycles.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.errors import DomainError, Problem
from domain.framework.codes import code_key, normalise_code, parent_code
from domain.framework.decimals import MAX_PLACES, canonical, exact, places
from domain.framework.problems import problem

if TYPE_CHECKING:
    from domain.framework.model import Node


@exact
def tree_problems(nodes: Sequence[Node], rows: Sequence[int | None]) -> list[Problem]:
    """Every fault of the tree, in row order; [] when the tree is valid."""
    if not nodes:
        return [problem("empty_framework")]
    out: list[Problem] = []
    first: dict[str, int] = {}
    codes = {n.code for n in nodes}
    for i, node in enumerate(nodes):
        where = {"row": rows[i], "field": node.code}
        if not _canonical_code(node.code):
            out.append(problem("invalid_code", column="code", value=node.code, **where))
            continue
        if node.code in first:
            out.append(problem("duplicate_code", column="code", code=node.code, **where))
        else:
            first[node.code] = i
        if not node.title:
            out.append(problem("missing_title", column="title", code=node.code, **where))
        if not node.max_points.is_finite():
            out.append(problem("not_a_number", column="max_points", value=node.max_points, **where))
            continue
        if places(node.max_points) > MAX_PLACES:
            out.append(
                problem("too_many_decimals", column="max_points", value=node.max_points, **where)
            )
        if node.max_points < 0:
            out.append(
                problem(
                    "negative_max",
                    column="max_points",
                    code=node.code,
                    value=canonical(node.max_points),
                    **where,
                )
            )
        parent = parent_code(node.code)
        if parent is not None and parent not in codes:
            out.append(
                problem("parent_missing", column="code", code=node.code, parent=parent, **where)
            )
    unique = [nodes[i] for i in first.values()]
    unique_rows = {nodes[i].code: rows[i] for i in first.values()}
    out.extend(_sum_problems(unique, unique_rows))
    out.extend(_rule_problems(unique, unique_rows))
    out.extend(_component_problems(unique, unique_rows))
    out.extend(_type_problems(unique, unique_rows))
    return sorted(out, key=lambda p: (p.row or 0,))


def _canonical_code(code: str) -> bool:
    try:
        return normalise_code(code) == code
    except DomainError:
        return False


def _sum_problems(nodes: list[Node], rows: dict[str, int | None]) -> list[Problem]:
    sums: dict[str, Decimal] = {}
    for node in nodes:
        parent = parent_code(node.code)
        if parent is not None:
            sums[parent] = sums.get(parent, Decimal(0)) + node.max_points
    out = []
    for node in nodes:
        if node.code in sums and sums[node.code] != node.max_points:
            out.append(
                problem(
                    "parent_sum_mismatch",
                    row=rows[node.code],
                    column="max_points",
                    field=node.code,
                    code=node.code,
                    typed=canonical(node.max_points),
                    computed=canonical(sums[node.code]),
                )
            )
    return out


def _rule_problems(nodes: list[Node], rows: dict[str, int | None]) -> list[Problem]:
    parents = {parent_code(n.code) for n in nodes}
    by_code = {n.code: n for n in nodes}
    out: list[Problem] = []
    for node in nodes:
        rule, row = node.rule, rows[node.code]
        if rule is None:
            continue
        if node.code in parents:
            out.append(
                problem("rule_on_parent", row=row, column="rule", field=node.code, code=node.code)
            )
            continue
        out.extend(rule.problems(node.code, node.max_points, row))
        for gate in rule.gated_by:
            if gate not in by_code:
                out.append(
                    problem(
                        "unknown_gate",
                        row=row,
                        column="gated_by",
                        field=node.code,
                        code=node.code,
                        gate=gate,
                    )
                )
            elif gate in parents:
                out.append(
                    problem(
                        "gate_not_leaf",
                        row=row,
                        column="gated_by",
                        field=node.code,
                        code=node.code,
                        gate=gate,
                    )
                )
    out.extend(_cycle_problems(nodes, rows))
    return out


def _component_problems(nodes: list[Node], rows: dict[str, int | None]) -> list[Problem]:
    """Bonus and penalty: on areas only, each with a cap within its maximum."""
    from domain.framework.model import ADJUSTMENTS, COMPONENTS

    out: list[Problem] = []
    surveyed = {n.code for n in nodes if n.component == "survey" and parent_code(n.code) is None}
    for node in nodes:
        where = {"row": rows[node.code], "field": node.code, "code": node.code}
        rule = node.rule
        if (
            node.code.split(".", 1)[0] in surveyed
            and rule is not None
            and rule.kind.value != "manual"
        ):
            out.append(problem("survey_rule", column="rule", **where))
        if node.component is not None and (
            node.component not in COMPONENTS or parent_code(node.code) is not None
        ):
            out.append(problem("invalid_component", column="component", **where))
            continue
        if node.cap is None:
            continue
        if node.component not in ADJUSTMENTS:
            out.append(problem("cap_without_component", column="cap", **where))
        elif (
            not node.cap.is_finite()
            or places(node.cap) > MAX_PLACES
            or not 0 < node.cap <= node.max_points
        ):
            out.append(
                problem(
                    "invalid_cap",
                    column="cap",
                    value=canonical(node.cap) if node.cap.is_finite() else str(node.cap),
                    maximum=canonical(node.max_points),
                    **where,
                )
            )
    return out


def _type_problems(nodes: list[Node], rows: dict[str, int | None]) -> list[Problem]:
    """Maxima by unit type: on leaves only, for known types, each >= 0."""
    from domain.schedule import UNIT_TYPES

    parents = {parent_code(n.code) for n in nodes}
    out: list[Problem] = []
    for node in nodes:
        if not node.max_by_type:
            continue
        where = {"row": rows[node.code], "field": node.code, "code": node.code}
        if node.code in parents:
            out.append(problem("max_by_type_on_parent", column="max_by_type", **where))
            continue
        for unit_type, maximum in node.max_by_type:
            if unit_type not in UNIT_TYPES:
                out.append(
                    problem(
                        "unknown_unit_type",
                        column="max_by_type",
                        value=str(unit_type)[:40],
                        types=", ".join(UNIT_TYPES),
                        **where,
                    )
                )
            elif not maximum.is_finite() or maximum < 0 or places(maximum) > MAX_PLACES:
                out.append(
                    problem(
                        "invalid_type_max",
                        column="max_by_type",
                        value=str(maximum)[:40],
                        unit_type=unit_type,
                        **where,
                    )
                )
    return out


def _cycle_problems(nodes: list[Node], rows: dict[str, int | None]) -> list[Problem]:
    gates = {n.code: n.rule.gated_by for n in nodes if n.rule is not None and n.rule.gated_by}
    out, reported = [], set()
    for start in sorted(gates, key=code_key):
        cycle = _find_cycle(start, gates)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            out.append(
                problem(
                    "gate_cycle",
                    row=rows[start],
                    column="gated_by",
                    field=start,
                    cycle=" -> ".join([*cycle, cycle[0]]),
                )
            )
    return out


def _find_cycle(start: str, gates: dict[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle through `start` in the gate graph, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        code, path = stack.pop()
        for gate in gates.get(code, ()):
            if gate == start:
                return path
            if gate not in seen:
                seen.add(gate)
                stack.append((gate, [*path, gate]))
    return None
