"""How a leaf is scored: the rule and its parameters (what, not how; see scoring.py).

A rule has a kind (manual, yes_no, ratio_proportional, ratio_bands) and two
modifiers any kind may carry: `gated_by` (other leaves that must not score 0)
and `na_policy` (the leaf is optional, "nếu có", and says what happens when the
thing did not occur in the year).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import Problem
from domain.framework.codes import code_key
from domain.framework.decimals import canonical
from domain.framework.problems import problem
from domain.framework.text import fold


class RuleKind(StrEnum):
    MANUAL = "manual"
    YES_NO = "yes_no"
    RATIO_PROPORTIONAL = "ratio_proportional"
    RATIO_BANDS = "ratio_bands"


class NaPolicy(StrEnum):
    """What an optional leaf gives when the thing did not occur."""

    FULL_POINTS = "full_points"  # "vẫn được tính điểm": the unit gets the maximum
    EXCLUDED = "excluded"  # left out: the unit's applicable maximum shrinks


@dataclass(frozen=True)
class RatioBand:
    """From `threshold` percent (inclusive) up, the leaf gets `points`."""

    threshold: Decimal
    points: Decimal


@dataclass(frozen=True)
class Rule:
    """A leaf's scoring rule. Build with the class methods; `problems` validates."""

    kind: RuleKind = RuleKind.MANUAL
    step: Decimal | None = None
    bands: tuple[RatioBand, ...] = ()
    gated_by: tuple[str, ...] = ()
    na_policy: NaPolicy | None = None

    def __post_init__(self) -> None:
        # One canonical order, so equal rules serialise to the same bytes.
        bands = tuple(sorted(self.bands, key=lambda b: b.threshold, reverse=True))
        gates = tuple(sorted(dict.fromkeys(self.gated_by), key=_gate_key))
        object.__setattr__(self, "kind", RuleKind(self.kind))
        object.__setattr__(self, "bands", bands)
        object.__setattr__(self, "gated_by", gates)
        if self.na_policy is not None:
            object.__setattr__(self, "na_policy", NaPolicy(self.na_policy))

    @property
    def optional(self) -> bool:
        return self.na_policy is not None

    def describe(self) -> str:
        """Short text for listings: "manual step 0.25, gated by 1.1.1, optional full_points"."""
        parts = [self.kind.value]
        if self.step is not None:
            parts.append(f"step {canonical(self.step)}")
        if self.bands:
            parts.append(
                "bands "
                + ";".join(f"{canonical(b.threshold)}%:{canonical(b.points)}" for b in self.bands)
            )
        if self.gated_by:
            parts.append("gated by " + ",".join(self.gated_by))
        if self.na_policy is not None:
            parts.append(f"optional {self.na_policy.value}")
        return ", ".join(parts)

    def problems(self, code: str, max_points: Decimal, row: int | None = None) -> list[Problem]:
        """Every fault of this rule on leaf `code` with maximum `max_points`."""
        out: list[Problem] = []
        where = {"row": row, "field": code}
        if self.step is not None:
            if self.kind is not RuleKind.MANUAL:
                out.append(
                    problem(
                        "unexpected_rule_parameter",
                        column="step",
                        code=code,
                        parameter="step",
                        rule=self.kind.value,
                        **where,
                    )
                )
            elif self.step <= 0 or self.step > max_points:
                out.append(
                    problem(
                        "invalid_step",
                        column="step",
                        code=code,
                        value=canonical(self.step),
                        **where,
                    )
                )
        if self.kind is RuleKind.RATIO_BANDS:
            out.extend(_band_problems(self.bands, code, max_points, where))
        elif self.bands:
            out.append(
                problem(
                    "unexpected_rule_parameter",
                    column="bands",
                    code=code,
                    parameter="bands",
                    rule=self.kind.value,
                    **where,
                )
            )
        return out


def _gate_key(code: str) -> tuple:
    try:
        return (0, code_key(code))
    except ValueError:
        return (1, code)


def _band_problems(
    bands: tuple[RatioBand, ...], code: str, max_points: Decimal, where: dict
) -> list[Problem]:
    if not bands:
        return [problem("missing_ratio_bands", column="bands", code=code, **where)]

    def invalid(vi: str, en: str) -> Problem:
        return problem(
            "invalid_ratio_bands", column="bands", code=code, reason_vi=vi, reason_en=en, **where
        )

    out = []
    thresholds = [b.threshold for b in bands]
    if any(t < 0 or t > 100 for t in thresholds):
        out.append(invalid("ngưỡng phải từ 0 đến 100 (%)", "thresholds must lie in 0..100 %"))
    if len(set(thresholds)) != len(thresholds):
        out.append(invalid("hai mức có cùng ngưỡng", "two bands share a threshold"))
    if any(b.points < 0 or b.points > max_points for b in bands):
        out.append(
            invalid(
                f"điểm của mỗi mức phải từ 0 đến {canonical(max_points)}",
                f"band points must lie in 0..{canonical(max_points)}",
            )
        )
    points = [b.points for b in bands]  # highest threshold first
    if any(lower > higher for higher, lower in zip(points, points[1:], strict=False)):
        out.append(
            invalid(
                "ngưỡng cao hơn không được ít điểm hơn",
                "a higher threshold must not give fewer points",
            )
        )
    return out


def parse_rule_kind(text: str) -> RuleKind:
    """ "manual", "Yes_No", "yes/no" -> RuleKind; raises ValueError otherwise."""
    key = text.strip().lower().replace("/", "_").replace("-", "_").replace(" ", "_")
    return RuleKind(key)


_NA_ALIASES = {
    "full_points": NaPolicy.FULL_POINTS,
    "full": NaPolicy.FULL_POINTS,
    "van duoc tinh diem": NaPolicy.FULL_POINTS,
    "excluded": NaPolicy.EXCLUDED,
    "exclude": NaPolicy.EXCLUDED,
    "khong tinh": NaPolicy.EXCLUDED,
    "loai tru": NaPolicy.EXCLUDED,
}


def parse_na_policy(text: str) -> NaPolicy:
    """ "full_points" / "vẫn được tính điểm" / "excluded" / "loại trừ" -> NaPolicy."""
    key = fold(text).replace("-", " ")
    policy = _NA_ALIASES.get(key) or _NA_ALIASES.get(key.replace(" ", "_"))
    if policy is None:
        raise ValueError(text)
    return policy
