"""Scores of one unit from its leaves, by the domain's `compute`.

Run once per changed unit per batch, never per event. Self scores come from
the self inputs; appraised scores from each leaf's appraised input once the
appraisers reviewed it (adjusted, confirmed as it stood, corrected), else its
self input (never reviewed: it counts as self-scored, as the domain's
Assessment.appraised_view). When nothing was reviewed both are the same
computation, done once.
"""

from __future__ import annotations

import json
from collections import Counter

from domain.assessment import leaf_input
from domain.errors import DomainError, ValidationFailed
from domain.framework import LeafInput, Result, compute, score
from projections.frameworks import CachedFramework
from projections.rows import INDEX_SCALE, TOTAL_SCALE, dec_text, jdump, scaled_key
from projections.unitwork import UnitWork

_INPUTS: dict[str, LeafInput] = {}
_RULE_POINTS: dict[tuple, str | None] = {}
_EXPLAINED: dict[tuple, str | None] = {}


def to_input(text: str) -> LeafInput:
    """The domain input of a stored input text, shared between equal inputs."""
    found = _INPUTS.get(text)
    if found is None:
        if len(_INPUTS) > 100_000:
            _INPUTS.clear()
        found = _INPUTS[text] = leaf_input(json.loads(text))
    return found


def rule_points(framework: CachedFramework, leaf: str, text: str | None) -> str | None:
    """Points of one leaf's input by its own rule (before gates), as text."""
    if text is None or not framework.is_leaf(leaf):
        return None
    key = (framework.key, leaf, text)
    if key not in _RULE_POINTS:
        if len(_RULE_POINTS) > 100_000:
            _RULE_POINTS.clear()
        node = framework.node(leaf)
        try:
            points = dec_text(score(node.rule, node.max_points, to_input(text), leaf).points)
        except (ValidationFailed, DomainError):
            points = None
        _RULE_POINTS[key] = points
    return _RULE_POINTS[key]


def _compute(framework: CachedFramework, inputs: dict[str, LeafInput]) -> Result:
    try:
        return compute(framework, inputs, allow_missing=True)
    except ValidationFailed:
        # Inputs were validated when signed; one that no longer scores counts as missing.
        usable = {}
        for code, given in inputs.items():
            try:
                compute(framework, {code: given}, allow_missing=True)
            except ValidationFailed:
                continue
            usable[code] = given
        return compute(framework, usable, allow_missing=True)


def _results(work: UnitWork) -> tuple:
    """(self inputs, appraised inputs, self result, appraised result) of the unit."""
    fw = work.framework
    self_inputs: dict[str, LeafInput] = {}
    appraised: dict[str, LeafInput] = {}
    adjusted = False
    for code, state in work.leaves.items():
        if code not in fw.leaf_codes:
            continue
        if state.self_input is not None:
            self_inputs[code] = to_input(state.self_input)
        if state.appraised_input is not None:
            adjusted = True
            appraised[code] = to_input(state.appraised_input)
        elif state.self_input is not None:
            appraised[code] = self_inputs[code]
    mine = _computed(work, "self", self_inputs)
    theirs = _computed(work, "appraised", appraised) if adjusted else mine
    return self_inputs, appraised, mine, theirs


def _computed(work: UnitWork, side: str, inputs: dict[str, LeafInput]) -> Result:
    """The side's result, computed again only when its inputs changed (inputs are
    shared objects, to_input: equal inputs compare at once)."""
    key = tuple(inputs.items())
    found = work.computed.get(side)
    if found is not None and found[0] == key:
        return found[1]
    result = _compute(work.framework, inputs)
    work.computed[side] = (key, result)
    return result


def totals(work: UnitWork) -> tuple:
    """The unit_totals row alone (a timeline row, projections/apply.py): the
    computation of recompute without the rows of every node."""
    _s, _a, mine, theirs = _results(work)
    return _totals(work, mine, theirs, len(work.active_evidence()))


def recompute(work: UnitWork) -> tuple[list[tuple], tuple]:
    """(node_scores rows, unit_totals row); also sets each leaf's final points."""
    fw = work.framework
    self_inputs, appraised, mine, theirs = _results(work)
    evidence = _evidence_counts(work)
    rows = []
    for position, node in enumerate(fw.nodes):
        code = node.code
        s, a = mine.nodes[code], theirs.nodes[code]
        leaf = code in fw.leaf_codes
        s_expl = _explained(fw, code, self_inputs.get(code), mine) if leaf else None
        a_expl = (
            (s_expl if theirs is mine else _explained(fw, code, appraised.get(code), theirs))
            if leaf
            else None
        )
        rows.append(
            (
                work.cycle,
                work.unit,
                code,
                position,
                dec_text(node.max_points),
                dec_text(a.applicable_max),
                dec_text(s.applicable_max),
                dec_text(s.score),
                dec_text(a.score),
                dec_text(a.percentage),
                dec_text(s.percentage),
                dec_text(a.points_lost),
                evidence[code],
                int(a.excluded),
                s_expl,
                a_expl,
            )
        )
    for code, state in work.leaves.items():
        if code not in fw.leaf_codes:
            continue
        s_points = dec_text(mine.nodes[code].score) if state.self_input is not None else None
        eff = state.effective_appraised
        a_points = dec_text(theirs.nodes[code].score) if eff is not None else None
        if (s_points, a_points) != (state.self_points, state.appraised_points):
            state.self_points, state.appraised_points = s_points, a_points
            work.changed_leaves.add(code)
    return rows, _totals(work, mine, theirs, len(work.active_evidence()))


def _explained(
    fw: CachedFramework, code: str, given: LeafInput | None, result: Result
) -> str | None:
    """The leaf's explanation as JSON text. It follows from the rule, the input
    and which gates closed, so equal keys share one encoding."""
    explanation = result.explanations[code]
    gate = explanation.get("gate") or {}
    key = (
        fw.key,
        code,
        given,
        explanation.get("points"),
        tuple(gate.get("closed_by") or ()),
        explanation.get("not_applicable"),
    )
    found = _EXPLAINED.get(key)
    if found is None:
        if len(_EXPLAINED) > 100_000:
            _EXPLAINED.clear()
        found = _EXPLAINED[key] = jdump(explanation)
    return found


def _evidence_counts(work: UnitWork) -> Counter:
    """Distinct attached evidence items under each node."""
    fw, counts = work.framework, Counter()
    for item in work.active_evidence():
        nodes: set[str] = set()
        for leaf in _leaves_of(item):
            if leaf in fw.leaf_codes:
                nodes.add(leaf)
                nodes.update(fw.ancestors(leaf))
        counts.update(nodes)
    return counts


_LEAVES: dict[str, tuple[str, ...]] = {}


def _leaves_of(item: dict) -> tuple[str, ...]:
    text = item["leaves"]
    if not text:
        return ()
    found = _LEAVES.get(text)
    if found is None:
        if len(_LEAVES) > 100_000:
            _LEAVES.clear()
        found = _LEAVES[text] = tuple(json.loads(text))
    return found


def _totals(work: UnitWork, mine: Result, theirs: Result, evidence_count: int) -> tuple:
    band, self_band = theirs.band, mine.band
    return (
        work.cycle,
        work.unit,
        work.name,
        work.position,
        work.framework_id,
        dec_text(theirs.max_total),
        dec_text(mine.total),
        dec_text(mine.applicable_max),
        dec_text(mine.index),
        self_band.code if self_band else None,
        dec_text(theirs.total),
        dec_text(theirs.applicable_max),
        dec_text(theirs.index),
        band.code if band else None,
        band.name_vi if band else None,
        band.name_en if band else None,
        dec_text(theirs.points_lost),
        evidence_count,
        scaled_key(mine.total, TOTAL_SCALE),
        scaled_key(theirs.total, TOTAL_SCALE),
        scaled_key(theirs.index, INDEX_SCALE),
        int(work.submitted_at is not None),
    )
