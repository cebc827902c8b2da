"""A unit's events, exact bytes and log indices (signed read), for a commune's
monitor (`parindex watch`) that proves each one in a checkpoint itself."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from application.unit_events import MAX_EVENTS, unit_events
from interfaces.http import reads
from interfaces.http.auth import readable_unit
from interfaces.http.schemas import PositionArgs, QueryInt
from interfaces.http.services import services

blp = Blueprint(
    "unit_events",
    __name__,
    url_prefix="/api/v1/cycles",
    description="Sự kiện của một đơn vị trong nhật ký, để tự kiểm chứng (cần chữ ký / signed)",
)
SIGNED = [{"ParindexSig": []}]


class EventsArgs(PositionArgs):
    after = QueryInt(
        load_default=0,
        validate=validate.Range(min=0, max=2**62),
        metadata={"description": "only events of a later version of the unit's aggregate"},
    )
    limit = QueryInt(load_default=200, validate=validate.Range(min=1, max=MAX_EVENTS))


class UnitEvent(Schema):
    leaf_index = fields.Integer(required=True)
    version = fields.Integer(required=True)
    topic = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "base64 of the stored bytes"})


class EventSigner(Schema):
    public_key = fields.String()
    name = fields.String(allow_none=True)
    role = fields.String()
    scope = fields.String()


class UnitEvents(Schema):
    cycle = fields.String(required=True)
    unit = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    events = fields.List(fields.Nested(UnitEvent), required=True)
    signers = fields.Dict(keys=fields.String(), values=fields.Nested(EventSigner))


@blp.route("/<cycle>/units/<unit>/events")
@blp.arguments(EventsArgs, location="query")
@blp.response(200, UnitEvents)
@blp.doc(security=SIGNED)
def events(args: dict, cycle: str, unit: str):
    """Các sự kiện của đơn vị sau một phiên bản, nguyên byte như nhật ký lưu, kèm vị trí
    nhật ký / the unit's events after a version, exact stored bytes and log indices"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return unit_events(services().app, cycle, unit, args["after"], args["limit"])
