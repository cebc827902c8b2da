"""Read-your-writes: a read may name a log position and waits (bounded) for it."""

from __future__ import annotations

import logging

from domain.errors import DomainError
from interfaces.http.problems import HttpProblem
from interfaces.http.services import Services, services

log = logging.getLogger("parindex.http")


def await_position(position: int | None) -> None:
    """Returns once the read model holds `position`: 409 if the log has no such position,
    503 projection_lagging (Retry-After) if the read model does not get there within
    the bound. Without a background follower, catches up inline first."""
    s = services()
    if position is not None:
        head = s.app.position()
        if position > head:
            raise DomainError(
                "position_beyond_log",
                f"Vị trí {position} chưa có trong nhật ký (mới nhất: {head}); hãy dùng "
                "trường `position` của biên nhận.",
                f"Position {position} is not in the log yet (newest: {head}); use a "
                "receipt's `position`.",
                field="position",
                status=409,
            )
    if not _reached(s, position):
        now = s.follower.position()
        raise HttpProblem(
            "projection_lagging",
            f"vị trí {position}, hiện tại {now}",
            f"position {position}, now at {now}",
            headers={"Retry-After": "1"},
        )


def _reached(s: Services, position: int | None) -> bool:
    try:
        if not s.follow:
            s.follower.catch_up()
        elif position is not None:
            return bool(s.follower.wait_for(position, s.read_wait))
    except Exception:  # a stuck projection is the server's problem: stale or 503, never 500
        log.exception("read model could not catch up")
    return position is None or s.follower.position() >= position
