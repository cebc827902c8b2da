"""A published framework: immutable once published; a change is a new version."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

FRAMEWORK_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/frameworks")


def framework_aggregate_id(framework_id: str) -> UUID:
    return uuid5(FRAMEWORK_NAMESPACE, framework_id)


class PublishedFramework(Aggregate):
    """Holds the framework exactly as the admin signed it (serialize.to_dict form)."""

    @staticmethod
    def create_id(framework_id: str) -> UUID:
        return framework_aggregate_id(framework_id)

    @event("Published")
    def __init__(self, framework_id: str, framework: dict, digest: str, signed: dict):
        self.framework_id = framework_id
        self.framework = framework
        self.digest = digest
