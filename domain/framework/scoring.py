"""Scoring one leaf: from its inputs and rule to exact points, with the reason why.

Every fault is an error, never a silent clamp: points above the maximum or off
the step, a denominator of 0, a numerator above its denominator. The
explanation is plain JSON (Decimals as strings) so it can be stored and shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from domain.errors import Problem
from domain.framework.decimals import (
    MAX_PLACES,
    canonical,
    divide,
    exact,
    places,
    round_half_up,
)
from domain.framework.problems import failed, problem
from domain.framework.rules import NaPolicy, Rule, RuleKind

_NEEDS = {
    RuleKind.MANUAL: ("points",),
    RuleKind.YES_NO: ("done",),
    RuleKind.RATIO_PROPORTIONAL: ("numerator", "denominator"),
    RuleKind.RATIO_BANDS: ("numerator", "denominator"),
}
_FIELDS = ("points", "done", "numerator", "denominator")


@dataclass(frozen=True)
class LeafInput:
    """What was entered for one leaf; which fields count depends on its rule."""

    points: Decimal | None = None
    done: bool | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    not_applicable: bool = False

    @classmethod
    def of_points(cls, points: Decimal | str) -> LeafInput:
        return cls(points=_decimal(points))

    @classmethod
    def yes(cls) -> LeafInput:
        return cls(done=True)

    @classmethod
    def no(cls) -> LeafInput:
        return cls(done=False)

    @classmethod
    def ratio(cls, numerator: Decimal | str | int, denominator: Decimal | str | int) -> LeafInput:
        return cls(numerator=_decimal(numerator), denominator=_decimal(denominator))

    @classmethod
    def na(cls) -> LeafInput:
        return cls(not_applicable=True)

    def given(self) -> dict[str, str]:
        """The fields that were entered, as strings."""
        out = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value).lower() if isinstance(value, bool) else canonical(value)
        if self.not_applicable:
            out["not_applicable"] = "true"
        return out


def _decimal(value: Decimal | str | int) -> Decimal:
    # "0,5" as tables write it; the rule checks range and places later, with the leaf's code
    return value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))


@dataclass(frozen=True)
class LeafResult:
    """Exact points for one leaf and how they came about.

    `excluded` is True for an optional leaf left out (na_policy excluded): it
    scores 0 of an applicable maximum of 0.
    """

    points: Decimal
    explanation: dict = field(compare=False)
    excluded: bool = False


@exact
def score(rule: Rule, max_points: Decimal, given: LeafInput, code: str = "") -> LeafResult:
    """Points for one leaf, before gates; raises ValidationFailed listing every fault."""
    problems = _input_problems(rule, given, code)
    if problems:
        raise failed(problems)
    if given.not_applicable:
        return _not_applicable(rule, max_points, given)
    if rule.kind is RuleKind.MANUAL:
        return _manual(rule, max_points, given, code)
    if rule.kind is RuleKind.YES_NO:
        if given.done:
            return _result(
                rule, given, max_points, "Đã thực hiện: đạt điểm tối đa.", "Done: full points."
            )
        return _result(rule, given, Decimal(0), "Chưa thực hiện: 0 điểm.", "Not done: 0 points.")
    return _ratio(rule, max_points, given, code)


def close_gate(result: LeafResult, rule: Rule, closed_by: list[str]) -> LeafResult:
    """The leaf forced to 0 because the gates `closed_by` scored 0."""
    names = ", ".join(closed_by)
    explanation = dict(result.explanation)
    explanation.update(
        points="0",
        gate={
            "gated_by": list(rule.gated_by),
            "closed_by": list(closed_by),
            "points_before_gate": canonical(result.points),
        },
        vi=f"Bị tính 0 điểm vì tiêu chí {names} đạt 0 điểm.",
        en=f"Forced to 0 because {names} scored 0.",
    )
    return replace(result, points=Decimal(0), explanation=explanation)


def open_gate(result: LeafResult, rule: Rule) -> LeafResult:
    """Record that the leaf's gates were checked and all are open."""
    explanation = dict(result.explanation)
    explanation["gate"] = {"gated_by": list(rule.gated_by), "closed_by": []}
    return replace(result, explanation=explanation)


def _input_problems(rule: Rule, given: LeafInput, code: str) -> list[Problem]:
    where = {"field": code, "code": code}
    entered = given.given()
    if given.not_applicable:
        out = []
        if rule.na_policy is None:
            out.append(problem("not_applicable_not_allowed", **where))
        extra = [k for k in entered if k != "not_applicable"]
        if extra:
            out.append(
                problem("unexpected_input", given=", ".join(extra), rule="not_applicable", **where)
            )
        return out
    needs = _NEEDS[rule.kind]
    out = []
    missing = [n for n in needs if getattr(given, n) is None]
    if missing:
        out.append(problem("missing_input", needed=", ".join(missing), **where))
    extra = [k for k in entered if k not in needs]
    if extra:
        out.append(
            problem("unexpected_input", given=", ".join(extra), rule=rule.kind.value, **where)
        )
    for name in ("points", "numerator", "denominator"):
        value = getattr(given, name)
        if name in needs and value is not None:
            if not value.is_finite():
                out.append(problem("not_a_number", value=str(value), **where))
            elif value < 0:
                code_ = "negative_points" if name == "points" else "negative_input"
                out.append(problem(code_, value=canonical(value), **where))
            elif name == "points" and places(value) > MAX_PLACES:
                out.append(problem("too_many_decimals", value=str(value), **where))
    return out


def _result(
    rule: Rule, given: LeafInput, points: Decimal, vi: str, en: str, **extra: object
) -> LeafResult:
    explanation = {
        "rule": rule.kind.value,
        "inputs": given.given(),
        **extra,
        "points": canonical(points),
        "vi": vi,
        "en": en,
    }
    return LeafResult(points, explanation)


def _not_applicable(rule: Rule, max_points: Decimal, given: LeafInput) -> LeafResult:
    if rule.na_policy is NaPolicy.FULL_POINTS:
        return _result(
            rule,
            given,
            max_points,
            "Không phát sinh trong năm: vẫn được tính điểm tối đa.",
            "Did not occur this year: full points all the same.",
            not_applicable="full_points",
        )
    result = _result(
        rule,
        given,
        Decimal(0),
        "Không phát sinh trong năm: không tính vào điểm tối đa của đơn vị.",
        "Did not occur this year: left out of the unit's applicable maximum.",
        not_applicable="excluded",
    )
    return replace(result, excluded=True)


def _manual(rule: Rule, max_points: Decimal, given: LeafInput, code: str) -> LeafResult:
    points = given.points
    assert points is not None
    shown = canonical(points)
    where = {"field": code, "code": code, "value": shown}
    if points > max_points:
        raise failed([problem("points_above_max", max=canonical(max_points), **where)])
    if rule.step is not None and points != max_points and points % rule.step != 0:
        raise failed([problem("points_off_step", step=canonical(rule.step), **where)])
    return _result(rule, given, points, f"Chấm {shown} điểm.", f"Scored {shown} points.")


def _ratio(rule: Rule, max_points: Decimal, given: LeafInput, code: str) -> LeafResult:
    numerator, denominator = given.numerator, given.denominator
    assert numerator is not None and denominator is not None
    where = {"field": code, "code": code}
    if denominator == 0:
        raise failed([problem("denominator_zero", **where)])
    if numerator > denominator:
        raise failed(
            [
                problem(
                    "numerator_above_denominator",
                    numerator=canonical(numerator),
                    denominator=canonical(denominator),
                    **where,
                )
            ]
        )
    percent = divide(numerator * 100, denominator)
    shown = canonical(round_half_up(percent))
    if rule.kind is RuleKind.RATIO_PROPORTIONAL:
        exact = divide(max_points * numerator, denominator)
        points = min(round_half_up(exact), max_points)
        return _result(
            rule,
            given,
            points,
            f"Tỷ lệ {shown}% × {canonical(max_points)} = {canonical(points)} điểm "
            "(làm tròn 4 chữ số).",
            f"Ratio {shown}% × {canonical(max_points)} = {canonical(points)} points "
            "(rounded half up to 4 places).",
            ratio_percent=shown,
            unrounded=canonical(exact),
        )
    for band in rule.bands:  # highest threshold first; compared exactly, no rounding
        if numerator * 100 >= band.threshold * denominator:
            return _result(
                rule,
                given,
                band.points,
                f"Tỷ lệ {shown}% đạt mức từ {canonical(band.threshold)}%: "
                f"{canonical(band.points)} điểm.",
                f"Ratio {shown}% reaches the {canonical(band.threshold)}% band: "
                f"{canonical(band.points)} points.",
                ratio_percent=shown,
                band=canonical(band.threshold),
            )
    return _result(
        rule,
        given,
        Decimal(0),
        f"Tỷ lệ {shown}% dưới mức thấp nhất: 0 điểm.",
        f"Ratio {shown}% is below the lowest band: 0 points.",
        ratio_percent=shown,
        band=None,
    )
