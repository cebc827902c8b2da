"""The deployment's genesis: its log origin, log key and first administrator."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

DEPLOYMENT_ID = uuid5(NAMESPACE_URL, "https://parindex/deployment")


class Deployment(Aggregate):
    """Created once by `parindex init`; the first leaf of every log."""

    @staticmethod
    def create_id() -> UUID:
        return DEPLOYMENT_ID

    @event("Initialised")
    def __init__(
        self,
        origin: str,
        log_key: str,
        admin_key_id: str,
        signed: dict,
        clock_skew_seconds: int | None = None,
    ):
        # The skew is the deployment's rule for every command's issued_at, so
        # verify bounds event timestamps by the genesis, not by a config file.
        self.origin = origin
        self.clock_skew_seconds = clock_skew_seconds
        self.log_key = log_key
        self.admin_key_id = admin_key_id
