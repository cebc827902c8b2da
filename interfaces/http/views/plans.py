"""A unit's improvement plans (signed): the draft from the published appraisal
and every version the commune chair signed (docs/SEASON.md, "Improvement plans")."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from application import plans
from interfaces.http import reads
from interfaces.http.auth import readable_unit
from interfaces.http.schemas import PositionArgs
from interfaces.http.services import services

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/api/v1/cycles",
    description="Kế hoạch khắc phục, nâng cao chỉ số (cần chữ ký) / improvement plans",
)
SIGNED = [{"ParindexSig": []}]


class DraftRow(Schema):
    leaf = fields.String(required=True)
    title = fields.String(required=True)
    max_points = fields.String(required=True)
    appraised = fields.String(required=True)
    lost = fields.String(required=True)
    target = fields.String(required=True)


class PlanItem(Schema):
    leaf = fields.String(required=True)
    target = fields.String(required=True)
    tasks = fields.String(required=True)
    lead = fields.String(required=True)
    partners = fields.String(allow_none=True)
    deadline = fields.String(required=True)
    note = fields.String(allow_none=True)


class PlanVersion(Schema):
    version = fields.Integer(required=True)
    plan_year = fields.Integer(required=True)
    items = fields.List(fields.Nested(PlanItem), required=True)
    actor = fields.String(required=True)
    at = fields.String(required=True)


class UnitPlans(Schema):
    cycle = fields.String(required=True)
    unit = fields.String(required=True)
    year = fields.Integer(required=True)
    published = fields.Boolean(required=True)
    submitted = fields.Boolean(required=True)
    draft = fields.List(fields.Nested(DraftRow), required=True)
    plans = fields.List(fields.Nested(PlanVersion), required=True)


@blp.route("/<cycle>/units/<unit>/improvement-plan")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, UnitPlans)
@blp.doc(security=SIGNED)
def unit_plans(args: dict, cycle: str, unit: str):
    """Kế hoạch khắc phục của đơn vị: bản dự thảo từ kết quả đã công bố và mọi phiên
    bản đã ký / the unit's improvement plan: the draft from the published results
    and every signed version"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return plans.plan(services().app, cycle, unit)
