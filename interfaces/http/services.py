"""What the views use, wired once per process by `create_app` (cosmicpython's bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from application.app import ParIndex

EXTENSION = "parindex"


@dataclass
class Services:
    app: ParIndex  # the write path and the log
    read_model: Any  # projections.store.ReadModel
    queries: Any  # projections.queries.Queries on read_model
    follower: Any  # projections.follower.Follower
    follow: bool  # a background thread follows the log; else reads catch up inline
    read_wait: float  # seconds a read waits for ?position=N
    guard: Any  # projections.rollback.Guard: is the read model ahead of the log?
    asker: Any = None  # witness_asking.WitnessAsker, when witnesses are configured

    def close(self) -> None:
        if self.asker is not None:
            self.asker.stop()
        if self.follow:
            self.follower.stop()
        closer = getattr(self.read_model, "close", None)
        if closer is not None:
            closer()
        self.app.close()


def services() -> Services:
    return current_app.extensions[EXTENSION]
