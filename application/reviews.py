"""What a unit's close still has to review (docs/SEASON.md, "Closed"), read
from the assessment itself, so the council chair lists exactly the leaves the
server will check when `close_appraisal` names the unit."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.assessment import Assessment
from domain.cycle import Cycle


def review(app, cycle: str, unit: str, at: datetime | None = None) -> dict:
    """{cycle, unit, stage, needs_review, flags}: the unit's stage at `at` (now
    by default), the leaves a close must review or list (the framework's order),
    and each flagged leaf with its question and answer. The caller has checked
    that the cycle and unit exist and may be read."""
    at = at or datetime.now(UTC)
    with app._turn():  # the aggregates are shared with the writers: read them whole
        found = app.get(Cycle.create_id(cycle), for_update=False)
        assessment = app.get(Assessment.create_id(cycle, unit), for_update=False)
        stage = assessment.stage(found, at)
        needs_review = assessment.needs_review(
            found.framework_for(app.framework(found.framework), unit)
        )
        flags = [
            {
                "leaf": leaf,
                "question": flag["question"],
                "answer": flag["answer"],
                "evidence_ids": list(flag.get("evidence_ids") or []),
                "reviewed_round": (assessment.reviewed.get(leaf) or {}).get("round"),
            }
            for leaf, flag in sorted(assessment.flags.items())
        ]
    return {
        "cycle": cycle,
        "unit": unit,
        "stage": stage,
        "needs_review": needs_review,
        "flags": flags,
    }
