"""POST /api/v1/commands: the one write path, a signed envelope and nothing else."""

from __future__ import annotations

from flask_smorest import Blueprint

from interfaces.http.schemas import Envelope, Receipt
from interfaces.http.services import services

blp = Blueprint(
    "commands", __name__, url_prefix="/api/v1", description="Lệnh có chữ ký (signed commands)"
)


@blp.route("/commands", methods=["POST"])
@blp.arguments(Envelope, description="Phong bì lệnh đã ký / a signed command envelope")
@blp.response(201, Receipt, description="Đã ghi / written")
@blp.alt_response(
    200,
    schema=Receipt,
    description="Lệnh đã gửi trước đó (replayed=true); "
    "không ghi thêm / an idempotent replay, nothing written",
)
def post_command(envelope: dict):
    """Gửi một lệnh đã ký / submit a signed command"""
    s = services()
    receipt = s.app.handle(envelope)
    if s.asker is not None and not receipt["replayed"]:
        s.asker.after_command(envelope["command"]["type"])  # wakes a thread; never blocks
    return receipt, 200 if receipt["replayed"] else 201
