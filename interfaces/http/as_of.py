"""`?as_of=` on reads (docs/API.md, "As of a moment"): a log index or an RFC 3339
UTC time, resolved against the read model, answered with the checkpoint that
covers it."""

from __future__ import annotations

from marshmallow import fields, validate

from application.transparency import proofs
from domain.errors import DomainError
from interfaces.http.schemas import PageArgs, PositionArgs
from interfaces.http.services import services
from projections.as_of import BadMoment, Moment, resolve

_AS_OF = {
    "validate": validate.Length(min=1, max=40),
    "metadata": {
        "description": "Trả lời như tại thời điểm này: vị trí nhật ký (số) hoặc thời gian "
        "UTC RFC 3339. As of this moment: a log index, or an RFC 3339 UTC time"
    },
}


class AsOfArgs(PositionArgs):
    as_of = fields.String(**_AS_OF)


class AsOfPageArgs(PageArgs):
    as_of = fields.String(**_AS_OF)


def moment(args: dict) -> Moment | None:
    """The moment asked for, or None for "now"; 422 invalid_as_of when it is neither
    a log index the read model holds nor a UTC time."""
    value = args.get("as_of")
    if value is None:
        return None
    try:
        with services().read_model.read() as cur:
            return resolve(cur, value)
    except BadMoment as e:
        raise DomainError(
            "invalid_as_of",
            "'as_of' là vị trí nhật ký đã có (số nguyên) hoặc thời gian UTC dạng "
            "2025-12-20T17:00:00Z.",
            f"'as_of' must be a log index the log holds or a UTC time: {e}.",
            field="as_of",
            status=422,
        ) from None


def point_in_time(found: Moment) -> dict:
    cp = None if found.log_index < 0 else proofs.first_covering(services().app, found.log_index)
    return {
        "log_index": found.log_index,
        "at": found.at,
        "checkpoint": None if cp is None else proofs.checkpoint_doc(cp),
    }


def stamped(doc: dict, found: Moment | None) -> dict:
    """The document, with where it stands when it was read as of a moment."""
    return doc if found is None else {**doc, "point_in_time": point_in_time(found)}
