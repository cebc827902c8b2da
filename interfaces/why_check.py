"""The values a why document shows, recomputed from the commands it proved.

The server's read model says "self-score 0.99"; the chain of proven events
says what the officer and the appraiser signed. This recomputes the leaf's
self and appraised input and points from the last signed commands of the
chain with the framework's rule for the leaf (domain.framework.score), and
lists every value shown that differs. In the order signed: record_self_score,
declare_not_applicable and an answer_explanation with a revised input set the
self input; adjust_score and correct_score set the appraised input;
confirm_score, and close_appraisal listing the leaf in `confirm`, set it to
the self input as it stood (domain.assessment). Gates (a leaf forced to 0 by another leaf) are not
recomputed here: for a gated leaf the points before the gate are compared.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from domain.assessment import INPUT_FIELDS, leaf_input
from domain.errors import DomainError
from domain.framework import score
from domain.framework.serialize import _node as node_from_dict

SELF_TYPES = ("record_self_score", "declare_not_applicable")


def _given(command: dict) -> dict:
    if command.get("type") == "declare_not_applicable":
        return {"not_applicable": True}
    return {k: command[k] for k in INPUT_FIELDS if command.get(k) is not None}


def _points(node: Any, given: dict | None, leaf: str) -> Decimal | None:
    if given is None:
        return None
    try:
        return score(node.rule, node.max_points, leaf_input(given), leaf).points
    except DomainError:
        return None  # a signed input the rule refuses: nothing to compare with


def recompute(doc: dict, framework_node: dict) -> dict:
    """{"self": {input, points}, "appraised": {input, points}, "mismatches": [...]}
    from the chain's proven `signed_command`s (Client.verify_why sets them)."""
    leaf = doc["leaf"]
    node = node_from_dict(framework_node)
    self_cmd = appraised_cmd = None
    self_given = reviewed = None
    for step in doc.get("chain") or []:
        command = step.get("signed_command") if step.get("verified") else None
        if not isinstance(command, dict):
            continue
        kind = command.get("type")
        if kind == "close_appraisal":
            if leaf in (command.get("confirm") or []):
                appraised_cmd, reviewed = (step, command), dict(self_given or {})
            continue
        if command.get("leaf") != leaf:
            continue
        if kind in SELF_TYPES or (kind == "answer_explanation" and _given(command)):
            self_cmd, self_given = (step, command), _given(command)
        elif kind in ("adjust_score", "correct_score"):
            appraised_cmd, reviewed = (step, command), _given(command)
        elif kind == "confirm_score":
            appraised_cmd, reviewed = (step, command), dict(self_given or {})
    appraised_given = reviewed if appraised_cmd else self_given
    source = appraised_cmd or self_cmd
    out = {
        "self": {
            "input": self_given,
            "points": _text(_points(node, self_given, leaf)),
            "from_leaf_index": self_cmd[0].get("leaf_index") if self_cmd else None,
        },
        "appraised": {
            "input": appraised_given,
            "points": _text(_points(node, appraised_given, leaf)),
            "from_leaf_index": source[0].get("leaf_index") if source else None,
        },
    }
    out["mismatches"] = [
        m
        for side in ("self", "appraised")
        for m in _compare(side, doc.get(side) or {}, out[side], node)
    ]
    return out


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _compare(side: str, shown: dict, proven: dict, node: Any) -> list[dict]:
    found = []
    if _normal_input(shown.get("input")) != _normal_input(proven["input"]):
        found.append(
            {
                "field": f"{side}.input",
                "shown": shown.get("input"),
                "recomputed": proven["input"],
                "leaf_index": proven["from_leaf_index"],
            }
        )
    shown_points = shown.get("points")
    gate = (
        (shown.get("explanation") or {}).get("gate") if node.rule and node.rule.gated_by else None
    )
    if gate and gate.get("closed_by"):
        shown_points = gate.get("points_before_gate")
    if proven["points"] is not None and not _same_number(shown_points, proven["points"]):
        found.append(
            {
                "field": f"{side}.points",
                "shown": shown.get("points"),
                "recomputed": proven["points"],
                "leaf_index": proven["from_leaf_index"],
            }
        )
    return found


def _normal_input(given: Any) -> Any:
    """Inputs compared as numbers where they are numbers ("1.0" is "1")."""
    if not isinstance(given, dict):
        return given
    out = {}
    for k, v in given.items():
        if v is None or v is False and k == "not_applicable":
            continue
        out[k] = _number(v) if isinstance(v, str) else v
    return out


def _number(text: Any) -> Any:
    try:
        return Decimal(str(text)).normalize()
    except (InvalidOperation, ValueError):
        return text


def _same_number(a: Any, b: Any) -> bool:
    return a is not None and _number(a) == _number(b)
