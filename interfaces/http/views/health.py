"""GET /healthz: the process is up, the log readable, the follower's position."""

from __future__ import annotations

from flask_smorest import Blueprint

from interfaces.http import witness_asking
from interfaces.http.schemas import Health
from interfaces.http.services import services

blp = Blueprint("health", __name__, description="Tình trạng dịch vụ / health")


@blp.route("/healthz")
@blp.response(200, Health)
def healthz():
    """Dịch vụ đang chạy / liveness"""
    s = services()
    rollback = s.guard.status()
    return {
        "status": rollback.code if rollback else "ok",
        "log_size": s.app.tlog.size(),
        "position": s.follower.position(),
        "log_position": s.app.position(),
        "rollback": rollback.as_dict() if rollback else None,
        # The last ask of the witnesses, by any worker (None: none configured).
        "witnesses": (
            witness_asking.read_status(s.app.settings.data_dir) or {}
            if s.app.settings.witnesses
            else None
        ),
    }
