"""A unit's totals as the ranking lists them: self total, appraised total,
index and band (docs/FORMATS.md 3.6, "Manifest").

Recorded in the unit's close and in each correction, so a ranking of thousands
of units reads them instead of scoring every unit again; replay re-derives
them like every other member.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.framework import Framework, canonical, compute
from domain.framework.decimals import round_half_up

# A survey leaf whose result is not recorded yet scores 0 (docs/FRAMEWORKS.md).
SURVEY_NOT_YET = {"points": "0"}


def unit_totals(
    framework: Framework, self_inputs: Mapping[str, dict], appraised: Mapping[str, dict]
) -> dict:
    """{self_total, appraised_total, index, band} of a unit whose every leaf has
    a self input; `appraised` is each leaf's appraised input (else its self input)."""
    from domain.assessment import leaf_input

    unsurveyed = {leaf: SURVEY_NOT_YET for leaf in framework.survey_leaves}
    own = compute(framework, {k: leaf_input(v) for k, v in {**unsurveyed, **self_inputs}.items()})
    theirs = compute(framework, {k: leaf_input(v) for k, v in {**unsurveyed, **appraised}.items()})
    return {
        "self_total": canonical(own.total),
        "appraised_total": canonical(theirs.total),
        # The index is a quotient: written to the 4 places every decimal has
        # (docs/FORMATS.md 1), rounded half up; the band is classified before.
        "index": None if theirs.index is None else canonical(round_half_up(theirs.index, 4)),
        "band": None if theirs.band is None else theirs.band.code,
    }
