"""What a commune chair would submit now (docs/FORMATS.md 3.6, "Submission"),
read from the assessment itself so the chair signs exactly what the server will
check."""

from __future__ import annotations

from domain import submission
from domain.assessment import Assessment
from domain.cycle import Cycle


def preview(app, cycle: str, unit: str) -> dict:
    """{cycle, unit, submitted, content, digest}; ValidationFailed
    (`assessment_incomplete`) while a leaf has no self input. The caller has
    checked that the cycle and unit exist and may be read."""
    with app._turn():  # the aggregates are shared with the writers: read them whole
        found = app.get(Cycle.create_id(cycle), for_update=False)
        assessment = app.get(Assessment.create_id(cycle, unit), for_update=False)
        covered = assessment.submission(found.framework_for(app.framework(found.framework), unit))
        submitted = assessment.submitted
    return {
        "cycle": cycle,
        "unit": unit,
        "submitted": submitted,
        "content": covered,
        "digest": submission.digest(covered),
    }
