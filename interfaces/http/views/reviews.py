"""What a unit's close still has to review (signed): the leaves a council chair
lists in `close_appraisal` to confirm them as self-scored (docs/SEASON.md)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from application import reviews
from interfaces.http import reads
from interfaces.http.auth import readable_unit
from interfaces.http.schemas import PositionArgs
from interfaces.http.services import services

blp = Blueprint(
    "reviews",
    __name__,
    url_prefix="/api/v1/cycles",
    description="Thẩm định một đơn vị: tiêu chí còn phải xem xét (cần chữ ký / signed reads)",
)
SIGNED = [{"ParindexSig": []}]


class OpenFlag(Schema):
    leaf = fields.String(required=True)
    question = fields.String(required=True)
    answer = fields.String(allow_none=True)
    evidence_ids = fields.List(fields.String())
    reviewed_round = fields.Integer(allow_none=True)


class UnitReview(Schema):
    cycle = fields.String(required=True)
    unit = fields.String(required=True)
    stage = fields.String(required=True)  # domain.assessment.STAGES
    needs_review = fields.List(fields.String(), required=True)
    flags = fields.List(fields.Nested(OpenFlag), required=True)


@blp.route("/<cycle>/units/<unit>/review")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, UnitReview)
@blp.doc(security=SIGNED)
def unit_review(args: dict, cycle: str, unit: str):
    """Giai đoạn thẩm định của đơn vị, các tiêu chí còn phải xem xét trước khi kết
    thúc, các tiêu chí yêu cầu giải trình / a unit's stage, the leaves its close
    must still review or list, its flagged leaves"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return reviews.review(services().app, cycle, unit)
