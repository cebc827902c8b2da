"""Past cycles imported from their published tables (year on year): public,
as the tables they were read from were published."""

from __future__ import annotations

from flask_smorest import Blueprint

from interfaces.http import reads
from interfaces.http.consistency import await_position
from interfaces.http.read_schemas import PastCycleDetail, PastCycleList
from interfaces.http.schemas import PositionArgs

blp = Blueprint(
    "past_cycles",
    __name__,
    url_prefix="/api/v1/past-cycles",
    description="Kết quả các năm trước được nhập từ bảng đã công bố (imported past results)",
)


@blp.route("")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, PastCycleList)
def past_cycles(args: dict):
    """Các kỳ trước được nhập / past cycles imported from published tables"""
    await_position(args.get("position"))
    return {"past_cycles": reads.q().past_cycles()}


@blp.route("/<cycle>")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, PastCycleDetail)
def past_cycle(args: dict, cycle: str):
    """Một kỳ trước: số liệu từng đơn vị và các lần nhập (tệp, SHA-256, lý do) / one
    past cycle: each unit's figures and every import (file, SHA-256, reason)"""
    await_position(args.get("position"))
    return reads.found(
        reads.q().past_cycle(cycle), f"kỳ {cycle}", f"past cycle {cycle}", "cycle_not_found"
    )
