"""A unit's total, index and band by docs/FRAMEWORKS.md ("Scoring rules",
"Computation", "Classification bands"), from the serialized framework of a
`publish_framework` command and one input per leaf as the events hold it
(the given members of points/done/numerator/denominator, or
{"not_applicable": true}).

Only the standard library: the outsider's reading of the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

CONTEXT = Context(prec=34)  # "Divisions run in a fixed 34-digit decimal context"
FOUR = Decimal("0.0001")


def canonical(value: Decimal) -> str:
    """FORMATS.md section 1: the one accepted text of a decimal."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def half_up_4(value: Decimal) -> Decimal:
    return value.quantize(FOUR, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Result:
    total: Decimal
    applicable_max: Decimal
    index: Decimal
    band: str | None


def leaves_of(framework: dict) -> list[dict]:
    nodes = framework["nodes"]
    return [n for n in nodes if not any(m["code"].startswith(n["code"] + ".") for m in nodes)]


def _raw(node: dict, given: dict) -> tuple[Decimal, bool]:
    """(points, excluded) of one leaf by its rule, before gates."""
    rule = node.get("rule") or {"kind": "manual"}
    top = Decimal(node["max_points"])
    if given.get("not_applicable") is True:
        if rule.get("na_policy") == "excluded":
            return Decimal(0), True
        return top, False  # full_points
    kind = rule.get("kind")
    if kind == "yes_no":
        return (top if given.get("done") is True else Decimal(0)), False
    if kind in ("ratio_proportional", "ratio_bands"):
        num, den = Decimal(given["numerator"]), Decimal(given["denominator"])
        if kind == "ratio_proportional":
            with localcontext(CONTEXT):
                points = half_up_4(top * num / den)
            return min(points, top), False
        # the highest band whose threshold (percent) the ratio reaches, exactly
        reached = [
            Decimal(b["points"])
            for b in rule.get("bands") or []
            if num * 100 >= Decimal(b["threshold"]) * den
        ]
        return (max(reached) if reached else Decimal(0)), False
    return Decimal(given["points"]), False


def compute(framework: dict, inputs: dict[str, dict]) -> Result:
    leaves = {n["code"]: n for n in leaves_of(framework)}
    raw = {code: _raw(node, inputs[code]) for code, node in leaves.items()}
    final: dict[str, Decimal] = {}

    def points(code: str) -> Decimal:
        # Gates chain: a leaf forced to 0 closes the leaves it gates; an excluded
        # not-applicable gate did not occur, so it does not close.
        if code not in final:
            value, _excluded = raw[code]
            for gate in (leaves[code].get("rule") or {}).get("gated_by") or []:
                if raw[gate][1]:
                    continue
                if points(gate) == 0:
                    value = Decimal(0)
            final[code] = value
        return final[code]

    total = sum((points(c) for c in leaves), Decimal(0))
    applicable = sum(
        (Decimal(n["max_points"]) for c, n in leaves.items() if not raw[c][1]), Decimal(0)
    )
    with localcontext(CONTEXT):
        index = total / applicable * 100 if applicable else Decimal(0)
    return Result(total, applicable, index, band_of(framework, index))


def band_of(framework: dict, index: Decimal) -> str | None:
    bands = framework.get("bands") or []
    reached = [b for b in bands if index >= Decimal(b["minimum"])]
    if not reached:
        return None
    return max(reached, key=lambda b: Decimal(b["minimum"]))["code"]


def line_totals(framework: dict, self_inputs: dict, appraised: dict) -> dict:
    """A submitted unit's totals as a manifest line and a unit's close (or a
    correction) write them (FORMATS.md 3.6, "Manifest"): each leaf's appraised
    input, else its self input."""
    view = {n["code"]: self_inputs[n["code"]] for n in leaves_of(framework)}
    view.update(appraised)
    own, theirs = compute(framework, self_inputs), compute(framework, view)
    return {
        "self_total": canonical(own.total),
        "appraised_total": canonical(theirs.total),
        "index": canonical(half_up_4(theirs.index)),
        "band": theirs.band,
    }
