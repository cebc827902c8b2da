"""A cycle's ranking (xếp hạng): the council's close of the cycle's appraisal,
then each version of the ranking as proposed, approved and published
(Decision 4203, Articles 9-10; docs/SEASON.md).

One per cycle, made by the first command on it (`close_appraisal` without a
unit). Units' commands read it: after the close nothing is appraised, and a
score is corrected only once a version is published.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

RANKING_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/rankings")


@lru_cache(maxsize=1024)
def ranking_aggregate_id(cycle: str) -> UUID:
    return uuid5(RANKING_NAMESPACE, cycle)


class Ranking(Aggregate):
    @staticmethod
    def create_id(cycle: str) -> UUID:
        return ranking_aggregate_id(cycle)

    # Event handlers replace containers, never change them in place (verify
    # keeps a shallow copy after each command: audit/deployment_pass.py).

    @event("AppraisalClosed")
    def __init__(self, cycle: str, units: int, signed: dict):
        """The council closed the cycle's appraisal; `units` submitted units were
        closed (every one: a unit still open refuses the close)."""
        self.cycle = cycle
        self.closed = True
        self.versions: tuple[dict, ...] = ()  # {version, digest, state, ...}, oldest first

    def has_published(self) -> bool:
        return any(v["state"] == "published" for v in self.versions)
