"""Marshmallow schemas: every request and response of the HTTP API.

Decimals are strings ("2.935"), never floats (docs/DESIGN.md, "Numbers and time").
"""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate

Str = fields.String
Int = fields.Integer
NonNegative = validate.Range(min=0)
_DIGITS = re.compile(r"-?[0-9]{1,40}")  # the range check follows


class QueryInt(fields.Integer):
    """A query integer written in plain ASCII digits: Python's int() also reads
    " 8", "8\\t", "+8", "8_0" and non-ASCII digits, which a client never means."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise ValidationError("Chỉ gồm chữ số 0-9 / digits 0-9 only.")
        return super()._deserialize(value, attr, data, **kwargs)


# -- problems (RFC 9457) ------------------------------------------------------------
class ProblemItem(Schema):
    code = Str(required=True)
    message = Str(required=True)
    field = Str()
    row = Int()
    column = Str()


class Problem(Schema):
    type = Str(required=True, metadata={"example": "https://parindex.vn/problems/not_permitted"})
    code = Str(required=True)
    title = Str(required=True)
    detail = Str(required=True)
    status = Int(required=True)
    errors = fields.List(fields.Nested(ProblemItem))


# -- query arguments ----------------------------------------------------------------
class PositionArgs(Schema):
    position = QueryInt(
        validate=validate.Range(min=0, max=2**62),
        metadata={
            "description": "Đợi tới vị trí nhật ký này (trường `position` của biên nhận). "
            "Wait until the read model holds this log position."
        },
    )


class PageArgs(PositionArgs):
    limit = QueryInt(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = QueryInt(load_default=0, validate=validate.Range(min=0, max=10**9))


class InclusionArgs(PositionArgs):
    index = QueryInt(required=True, validate=validate.Range(min=0, max=2**62))
    size = QueryInt(validate=validate.Range(min=1, max=2**62))


class ConsistencyArgs(PositionArgs):
    first = QueryInt(required=True, data_key="from", validate=validate.Range(min=0, max=2**62))
    second = QueryInt(required=True, data_key="to", validate=validate.Range(min=0, max=2**62))


# -- commands -----------------------------------------------------------------------
COMMAND_TYPES = [
    "register_key",
    "rotate_key",
    "revoke_key",
    "publish_framework",
    "open_cycle",
    "record_self_score",
    "declare_not_applicable",
    "attach_evidence",
    "withdraw_evidence",
    "adjust_score",
]
# Documented for clients; the write path checks them itself, with its own error codes
# (malformed_command, unknown_command, ...), so the schema does not pre-empt it.
COMMAND_JSON_SCHEMA = {
    "required": ["type", "id", "issued_at", "actor"],
    "properties": {
        "type": {"type": "string", "enum": COMMAND_TYPES},
        "id": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
            "description": "chọn bởi người gửi, duy nhất / chosen by the client, unique",
        },
        "issued_at": {
            "type": "string",
            "description": "RFC 3339 UTC, kết thúc bằng Z",
            "pattern": r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
            r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z$",
        },
        "actor": {
            "type": "string",
            "pattern": "^pk_[a-z2-7]{32}$",
            "description": "mã khóa đã đăng ký / a registered key id",
        },
        "expected_version": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
    },
    "additionalProperties": {"$ref": "#/components/schemas/CommandValue"},
}
# What a command's own fields may hold: JSON without floats (decimals are strings)
# and with integers JavaScript reads exactly (application/signing/jcs.py).
COMMAND_VALUE_SCHEMA = {
    "description": "JSON không có số thực (thập phân là chuỗi) / JSON without floats",
    "anyOf": [
        {"type": "string"},
        {"type": "boolean"},
        {"type": "integer", "minimum": -(2**53 - 1), "maximum": 2**53 - 1},
        {"type": "array", "items": {"$ref": "#/components/schemas/CommandValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/CommandValue"}},
    ],
}


class Envelope(Schema):
    command = fields.Dict(
        required=True,
        metadata={
            "description": "Lệnh: type, id, issued_at, actor và các trường riêng của lệnh "
            "(docs/API.md) / the command and its own fields",
            **COMMAND_JSON_SCHEMA,
        },
    )
    signature = Str(
        required=True,
        metadata={
            "description": "Base64 Ed25519 over b'parindex-command/v1\\n' + JCS(command).",
            "pattern": "^[A-Za-z0-9+/]{86}==$",
        },
    )


class ReceiptEvent(Schema):
    originator_id = Str(required=True)
    version = Int(required=True)
    leaf_index = Int(required=True)
    leaf_hash = Str(required=True, metadata={"description": "hex"})


class Receipt(Schema):
    command_id = Str(required=True)
    type = Str(required=True)
    replayed = fields.Boolean(required=True)
    log_index = Int(required=True)
    tree_size = Int(required=True)
    position = Int(
        required=True,
        metadata={
            "description": "Truyền lại qua ?position= để đọc thấy lệnh này (read-your-writes)."
        },
    )
    events = fields.List(fields.Nested(ReceiptEvent), required=True)


# -- evidence blobs -----------------------------------------------------------------
class Blob(Schema):
    sha256 = Str(required=True)
    size = Int(required=True)
    media_type = Str(required=True)


# -- the log ------------------------------------------------------------------------
class LogKey(Schema):
    log_key = Str(required=True, metadata={"description": "C2SP signed-note verifier key"})
    origin = Str(required=True)


class Checkpoint(Schema):
    size = Int(required=True)
    root = Str(required=True, metadata={"description": "base64"})
    note = Str(required=True, metadata={"description": "C2SP signed note"})
    issued_at = Str(required=True)


class PointInTime(Schema):
    """Where a read `as_of` a moment stands (docs/API.md, "As of a moment")."""

    log_index = Int(required=True, metadata={"description": "the last event included (-1: none)"})
    at = fields.String(allow_none=True, metadata={"description": "that event's time"})
    checkpoint = fields.Nested(Checkpoint, allow_none=True)


class CheckpointList(Schema):
    checkpoints = fields.List(fields.Nested(Checkpoint), required=True)
    total = Int(required=True)


class InclusionProof(Schema):
    leaf_index = Int(required=True)
    tree_size = Int(required=True)
    leaf_hash = Str(required=True)
    hashes = fields.List(Str(), required=True)
    root = Str(required=True)
    checkpoint = Str(required=True, allow_none=True)


class ConsistencyProof(Schema):
    first = Int(required=True, data_key="from")
    second = Int(required=True, data_key="to")
    root1 = Str(required=True)
    root2 = Str(required=True)
    hashes = fields.List(Str(), required=True)


class Health(Schema):
    status = Str(
        required=True,
        metadata={
            "description": "ok; read_model_ahead / read_model_diverged khi dữ liệu đọc đi trước "
            "nhật ký (mọi lệnh và truy vấn bị từ chối) / when the read model is "
            "ahead of the log (every read and write is refused)"
        },
    )
    rollback = fields.Dict(
        allow_none=True,
        metadata={"description": "position, log_position, size, log_size khi status không phải ok"},
    )
    witnesses = fields.Dict(
        allow_none=True,
        metadata={
            "description": "lần hỏi nhân chứng gần nhất / the last ask of the witnesses: "
            "{at, size, answers: [{url, witness, status, size, witness_size, detail}], error}; "
            "null khi không cấu hình nhân chứng / when none is configured"
        },
    )
    log_size = Int(required=True)
    position = Int(
        required=True,
        allow_none=True,
        metadata={
            "description": "vị trí mà mô hình đọc của tiến trình này đã theo tới / the read "
            "model's position"
        },
    )
    log_position = Int(
        required=True,
        metadata={
            "description": "vị trí mới nhất trong kho sự kiện: đọc với ?position= bằng số này để "
            "thấy mọi thứ đã ghi / the newest position written"
        },
    )
