"""A unit's oversight notes (signed read): the Fatherland Front's notes and the
council's answers (docs/SEASON.md, "Oversight notes"). Writing a note is a
signed command like any other (POST /api/v1/commands)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from interfaces.http import as_of, reads
from interfaces.http.auth import readable_unit
from interfaces.http.leaf_schemas import OversightNote
from interfaces.http.schemas import PointInTime

blp = Blueprint(
    "notes",
    __name__,
    url_prefix="/api/v1/cycles",
    description="Ghi chú giám sát của MTTQ và trả lời của Hội đồng (cần chữ ký / signed reads)",
)
SIGNED = [{"ParindexSig": []}]


class UnitNotes(Schema):
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = fields.String(required=True)
    unit = fields.String(required=True)
    open = fields.Integer(metadata={"description": "notes the council has not answered"})
    notes = fields.List(fields.Nested(OversightNote), required=True)


@blp.route("/<cycle>/units/<unit>/notes")
@blp.arguments(as_of.AsOfArgs, location="query")
@blp.response(200, UnitNotes)
@blp.doc(security=SIGNED)
def unit_notes(args: dict, cycle: str, unit: str):
    """Ghi chú giám sát của một đơn vị (về đơn vị, một tiêu chí hoặc một thay đổi) và
    trả lời của Hội đồng / a unit's oversight notes and the council's answers"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    found = as_of.moment(args)
    doc = reads.found(
        reads.q().unit_notes(cycle, unit, upto=None if found is None else found.log_index),
        f"đơn vị {unit}",
        f"unit {unit}",
        "unit_not_found",
    )
    return as_of.stamped(doc, found)
