"""A unit's improvement plans and the draft for one (docs/SEASON.md,
"Improvement plans"), read from the assessment itself: the draft is what the
published appraisal gives, the plans are every version the commune chair signed."""

from __future__ import annotations

from domain.assessment import Assessment, leaf_input
from domain.cycle import Cycle
from domain.improvement_plan import draft_rows
from domain.ranking import Ranking


def plan(app, cycle: str, unit: str) -> dict:
    """{cycle, unit, year, published, submitted, draft, plans}. The caller has
    checked that the cycle and unit exist and may be read."""
    with app._turn():  # the aggregates are shared with the writers: read them whole
        found = app.get(Cycle.create_id(cycle), for_update=False)
        assessment = app.get(Assessment.create_id(cycle, unit), for_update=False)
        ranking = app.get(Ranking.create_id(cycle), for_update=False)
        framework = found.framework_for(app.framework(found.framework), unit)
        published = ranking is not None and ranking.has_published()
        submitted = bool(assessment is not None and assessment.submitted)
        draft = []
        if published and submitted:
            appraised = {k: leaf_input(v) for k, v in assessment.appraised_view().items()}
            for row in draft_rows(framework, appraised):
                node = framework.node(row["leaf"])
                draft.append({**row, "title": node.title, "target": row["max_points"]})
        plans = [
            {**p, "items": [dict(i) for i in p["items"]]}
            for p in (assessment.__dict__.get("plans") or [] if assessment else [])
        ]
    return {
        "cycle": cycle,
        "unit": unit,
        "year": found.year,
        "published": published,
        "submitted": submitted,
        "draft": draft,
        "plans": plans,
    }
