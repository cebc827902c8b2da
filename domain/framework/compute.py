"""Computing a unit's scores from its leaf inputs: pure, exact, explained.

Leaves are scored by their rules, then gates are applied (a leaf whose gate
scored 0 is forced to 0), then every parent, area and the total are summed
from the leaves at full precision. Optional leaves marked not applicable
either score their maximum (full_points) or leave the applicable maximum of
the leaf and all its ancestors (excluded); the index is total / applicable
maximum x 100 and is what the bands classify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.errors import Problem, ValidationFailed
from domain.framework.bands import Band
from domain.framework.decimals import divide, exact
from domain.framework.model import ADJUSTMENTS, Framework
from domain.framework.problems import failed, problem
from domain.framework.scoring import LeafInput, LeafResult, close_gate, open_gate, score

ZERO = Decimal(0)


@dataclass(frozen=True)
class NodeScore:
    """One node's outcome. `percentage` is score / applicable_max x 100 (None if 0 max)."""

    code: str
    max_points: Decimal
    applicable_max: Decimal
    score: Decimal
    points_lost: Decimal
    percentage: Decimal | None
    excluded: bool


@dataclass(frozen=True)
class Result:
    """Everything computed for one unit. Round with `display` only when printing."""

    nodes: Mapping[str, NodeScore]
    explanations: Mapping[str, dict]
    areas: tuple[NodeScore, ...]
    total: Decimal
    max_total: Decimal
    applicable_max: Decimal
    index: Decimal | None
    band: Band | None
    points_lost: Decimal

    def node(self, code: str) -> NodeScore:
        return self.nodes[code]


@exact
def compute(
    framework: Framework, inputs: Mapping[str, LeafInput], *, allow_missing: bool = False
) -> Result:
    """Scores for every node of `framework` from the leaves' inputs.

    Raises ValidationFailed listing every fault (inputs for codes that are not
    leaves, leaves without input unless `allow_missing`, and each rule's
    faults). With `allow_missing`, a leaf without input scores 0 and says so.
    """
    problems: list[Problem] = [
        problem("unknown_leaf", field=code, code=code)
        for code in inputs
        if not framework.is_leaf(code)
    ]
    raw: dict[str, LeafResult] = {}
    for leaf in framework.leaves:
        assert leaf.rule is not None
        given = inputs.get(leaf.code)
        if given is None:
            if allow_missing:
                raw[leaf.code] = _missing(leaf.rule.kind.value)
            else:
                problems.append(
                    problem(
                        "missing_input",
                        field=leaf.code,
                        code=leaf.code,
                        needed=leaf.rule.kind.value,
                    )
                )
            continue
        try:
            raw[leaf.code] = _scored(framework, leaf, given)
        except ValidationFailed as exc:  # gather every leaf's faults, refuse as a whole
            problems.extend(exc.problems)
    if problems:
        raise failed(problems)
    final = _apply_gates(framework, raw)
    return _roll_up(framework, final)


_SCORED_LIMIT = 100_000


def _scored(framework: Framework, leaf, given: LeafInput) -> LeafResult:
    """score() of one leaf's input, kept per framework: a ranking scores every
    unit, and the same inputs ("0", the maximum) recur across thousands."""
    memo = framework.scored  # type: ignore[attr-defined]
    key = (leaf.code, given)
    found = memo.get(key)
    if found is None:
        assert leaf.rule is not None
        found = score(leaf.rule, leaf.max_points, given, leaf.code)  # raises: nothing kept
        if len(memo) >= _SCORED_LIMIT:
            memo.clear()
        memo[key] = found
    return found


@exact
def rollup(framework: Framework, leaf_points: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Sum leaf points into every node (parents from leaves, never typed values)."""
    sums = {node.code: ZERO for node in framework.nodes}
    for leaf in framework.leaves:
        points = leaf_points.get(leaf.code, ZERO)
        sums[leaf.code] += points
        for ancestor in framework.ancestors(leaf.code):
            sums[ancestor] += points
    return sums


@exact
def total_of(framework: Framework, sums: Mapping[str, Decimal]) -> Decimal:
    """The total that areas' points `sums` make: the scored areas, plus each
    bonus area and minus each penalty area at most its cap, never below 0."""
    total = ZERO
    for area in framework.areas:
        points = sums.get(area.code, ZERO)
        if area.component not in ADJUSTMENTS:
            total += points
            continue
        points = min(points, area.cap) if area.cap is not None else points
        total += points if area.component == "bonus" else -points
    return max(total, ZERO)


def _missing(kind: str) -> LeafResult:
    return LeafResult(
        ZERO,
        {
            "rule": kind,
            "inputs": {},
            "missing": True,
            "points": "0",
            "vi": "Chưa có dữ liệu chấm: 0 điểm.",
            "en": "No input: 0 points.",
        },
    )


def _apply_gates(framework: Framework, raw: dict[str, LeafResult]) -> dict[str, LeafResult]:
    final: dict[str, LeafResult] = {}

    def resolve(code: str) -> LeafResult:
        if code in final:
            return final[code]
        rule = framework.node(code).rule
        assert rule is not None
        result = raw[code]
        if rule.gated_by:
            # An excluded gate did not occur, so it cannot close anything.
            closed = [
                g for g in rule.gated_by if (gate := resolve(g)).points == 0 and not gate.excluded
            ]
            if closed and not result.excluded:
                result = close_gate(result, rule, closed)
            else:
                result = open_gate(result, rule)
        final[code] = result
        return result

    for leaf in framework.leaves:
        resolve(leaf.code)
    return final


def _roll_up(framework: Framework, leaves: dict[str, LeafResult]) -> Result:
    score_sum = {n.code: ZERO for n in framework.nodes}
    applicable = {n.code: ZERO for n in framework.nodes}
    for leaf in framework.leaves:
        result = leaves[leaf.code]
        leaf_max = ZERO if result.excluded else leaf.max_points
        for code in (leaf.code, *framework.ancestors(leaf.code)):
            score_sum[code] += result.points
            applicable[code] += leaf_max
    nodes = {}
    for node in framework.nodes:
        excluded = all(leaves[x.code].excluded for x in framework.leaves_under(node.code))
        if framework.component_of(node.code) not in ADJUSTMENTS:
            nodes[node.code] = _node_score(
                node.code, node.max_points, applicable[node.code], score_sum[node.code], excluded
            )
        else:
            nodes[node.code] = _adjustment_score(node, applicable[node.code], score_sum, excluded)
    areas = tuple(nodes[a.code] for a in framework.areas)
    applicable_max = sum((nodes[a.code].applicable_max for a in framework.counted_areas), ZERO)
    total = total_of(framework, score_sum)
    index = divide(total * 100, applicable_max) if applicable_max else None
    band = framework.meta.bands.classify(index) if index is not None else None
    explanations = {code: result.explanation for code, result in leaves.items()}
    return Result(
        nodes,
        explanations,
        areas,
        total,
        framework.max_total,
        applicable_max,
        index,
        band,
        max(applicable_max - total, ZERO),
    )


def _adjustment_score(
    node: Any, applicable_max: Decimal, sums: dict[str, Decimal], excluded: bool
) -> NodeScore:
    """A node of a bonus or penalty area: its points (an area's at most its cap,
    the points it adds or takes off); nothing is "lost" there."""
    points = sums[node.code]
    if node.cap is not None:
        points = min(points, node.cap)
    percentage = divide(points * 100, applicable_max) if applicable_max else None
    return NodeScore(node.code, node.max_points, applicable_max, points, ZERO, percentage, excluded)


def _node_score(
    code: str, max_points: Decimal, applicable_max: Decimal, points: Decimal, excluded: bool
) -> NodeScore:
    percentage = divide(points * 100, applicable_max) if applicable_max else None
    return NodeScore(
        code, max_points, applicable_max, points, applicable_max - points, percentage, excluded
    )
