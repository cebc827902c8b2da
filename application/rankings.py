"""The ranking the council chair would propose now (docs/SEASON.md), computed
from the units' assessments as `propose_ranking` checks it, so the chair signs
exactly what the server will accept."""

from __future__ import annotations

from domain import ranking
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.ranking import Ranking


def draft(app, cycle: str) -> dict:
    """{cycle, version, manifest, digest}; 409 appraisal_open before the close.
    The caller has checked that the cycle exists and may be read."""
    with app._turn():  # the aggregates are shared with the writers: read them whole
        found = app.get(Cycle.create_id(cycle), for_update=False)
        closed = app.get(Ranking.create_id(cycle), for_update=False)
        if closed is None:
            raise DomainError(
                "appraisal_open",
                f"Hội đồng chưa kết thúc thẩm định kỳ {cycle} (close_appraisal).",
                f"The council has not closed the appraisal of {cycle} (close_appraisal).",
                field="cycle",
                status=409,
            )
        version = closed.next_version()
        framework = app.framework(found.framework)
        content = ranking.manifest(found, version, framework, app.assessments(found))
    return {
        "cycle": cycle,
        "version": version,
        "manifest": content,
        "digest": ranking.digest(content),
        "bands": [
            {"code": b.code, "name_vi": b.name_vi, "name_en": b.name_en}
            for b in framework.meta.bands.items
        ],
    }
