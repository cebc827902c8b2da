"""Published frameworks (bộ tiêu chí): public."""

from __future__ import annotations

from flask_smorest import Blueprint

from interfaces.http import reads
from interfaces.http.consistency import await_position
from interfaces.http.read_schemas import FrameworkDetail, FrameworkList
from interfaces.http.schemas import PositionArgs

blp = Blueprint(
    "frameworks",
    __name__,
    url_prefix="/api/v1/frameworks",
    description="Bộ tiêu chí đã công bố (published frameworks), công khai",
)


@blp.route("")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, FrameworkList)
def frameworks(args: dict):
    """Các bộ tiêu chí đã công bố / published frameworks"""
    await_position(args.get("position"))
    return {"frameworks": reads.q().frameworks()}


@blp.route("/<framework_id>")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, FrameworkDetail)
def framework(args: dict, framework_id: str):
    """Một bộ tiêu chí với cây tiêu chí / one framework with its tree"""
    await_position(args.get("position"))
    return reads.found(
        reads.q().framework(framework_id),
        f"bộ tiêu chí {framework_id}",
        f"framework {framework_id}",
        "framework_not_found",
    )
