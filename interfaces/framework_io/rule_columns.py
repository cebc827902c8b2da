"""The rule columns of a table: rule, step, bands, gated_by, na_policy.

    rule       manual (default) | yes_no | ratio_proportional | ratio_bands
    step       manual only: points must be a multiple of it, e.g. 0,25
    bands      ratio_bands only: percent:points pairs separated by ";",
               e.g. "100:1;80:0,5;0:0" ("full"/"half" may stand for max and max/2)
    gated_by   codes separated by ";" or ",": if any scores 0, this leaf gets 0
    na_policy  empty (not optional) | full_points | excluded

Parents leave all five empty; a leaf with all five empty is scored manually.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from domain.errors import DomainError, Problem
from domain.framework.codes import normalise_code
from domain.framework.decimals import canonical, parse_decimal
from domain.framework.rules import (
    RatioBand,
    Rule,
    RuleKind,
    parse_na_policy,
    parse_rule_kind,
)
from domain.framework.text import fold
from interfaces.framework_io.columns import RULE_COLUMNS
from interfaces.framework_io.problems import problem

_KEYWORDS = {
    "full": Decimal(1),
    "max": Decimal(1),
    "toi da": Decimal(1),
    "half": Decimal("0.5"),
    "nua": Decimal("0.5"),
}


def parse_rule(
    cells: Mapping[str, str], max_points: Decimal | None, code: str, row: int
) -> tuple[Rule | None, list[Problem]]:
    """The rule a row declares (None when all rule columns are empty) and its faults."""
    if not any(cells.get(c, "") for c in RULE_COLUMNS):
        return None, []
    out: list[Problem] = []
    where = {"row": row, "field": code}
    kind = RuleKind.MANUAL
    if cells.get("rule"):
        try:
            kind = parse_rule_kind(cells["rule"])
        except ValueError:
            out.append(problem("unknown_rule", column="rule", value=cells["rule"], **where))
    step = _decimal(cells.get("step", ""), "step", where, out)
    bands = _bands(cells.get("bands", ""), max_points, code, where, out)
    gates = _gates(cells.get("gated_by", ""), where, out)
    policy = None
    if cells.get("na_policy"):
        try:
            policy = parse_na_policy(cells["na_policy"])
        except ValueError:
            out.append(
                problem("unknown_na_policy", column="na_policy", value=cells["na_policy"], **where)
            )
    return Rule(kind, step, bands, gates, policy), out


def rule_cells(rule: Rule | None) -> dict[str, str]:
    """The inverse of `parse_rule`: the five cells for export (all empty for a parent)."""
    if rule is None:
        return dict.fromkeys(RULE_COLUMNS, "")
    return {
        "rule": rule.kind.value,
        "step": "" if rule.step is None else canonical(rule.step),
        "bands": ";".join(f"{canonical(b.threshold)}:{canonical(b.points)}" for b in rule.bands),
        "gated_by": ";".join(rule.gated_by),
        "na_policy": "" if rule.na_policy is None else rule.na_policy.value,
    }


def _decimal(text: str, column: str, where: dict, out: list[Problem]) -> Decimal | None:
    if not text:
        return None
    try:
        return parse_decimal(text)
    except DomainError as exc:
        out.append(problem(exc.code, column=column, value=text, **where))
        return None


def _bands(
    text: str, max_points: Decimal | None, code: str, where: dict, out: list[Problem]
) -> tuple[RatioBand, ...]:
    bands = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        threshold_text, sep, points_text = (s.strip() for s in part.partition(":"))
        keyword = _KEYWORDS.get(fold(points_text))
        try:
            if not sep:
                raise ValueError
            threshold = parse_decimal(threshold_text.rstrip("%").strip())
            if keyword is not None:
                if max_points is None:
                    raise ValueError
                points = max_points * keyword
            else:
                points = parse_decimal(points_text)
        except (ValueError, DomainError):
            out.append(
                problem(
                    "invalid_ratio_bands",
                    column="bands",
                    code=code,
                    reason_vi=f"'{part}' không có dạng phần_trăm:điểm (ví dụ 80:0,5)",
                    reason_en=f"'{part}' is not percent:points (e.g. 80:0.5)",
                    **where,
                )
            )
            continue
        bands.append(RatioBand(threshold, points))
    return tuple(bands)


def _gates(text: str, where: dict, out: list[Problem]) -> tuple[str, ...]:
    gates = []
    for part in re.split(r"[;,\s]+", text.strip()):
        if not part:
            continue
        try:
            gates.append(normalise_code(part))
        except DomainError:
            out.append(problem("invalid_code", column="gated_by", value=part, **where))
    return tuple(gates)
