"""Query arguments and answers of the oversight reads (docs/API.md, "Oversight").

Decimals are strings both ways: `min_change=0.5`, `large_share=0.25` in the
query, `"delta": "-0.75"` in the answer; never floats.
"""

from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from interfaces.http.leaf_schemas import OversightNote
from interfaces.http.read_schemas import Signer
from interfaces.http.schemas import PageArgs, PointInTime, QueryInt
from projections.as_of import AS_OF_PATTERN
from projections.queries_oversight import FLAG_NAMES
from projections.queries_oversight_sums import DIMS, ORDERS
from projections.schema import OVERSIGHT_KINDS

Str, Int, Bool = fields.String, fields.Integer, fields.Boolean
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,4})?")
CODE = validate.Length(min=1, max=64)


class QueryDecimal(fields.String):
    """A decimal in the query as plain ASCII text ("0.5"): at most 6 digits and 4 places."""

    def __init__(self, **kwargs):
        metadata = {"pattern": f"^{_DECIMAL.pattern}$", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            raise ValidationError(
                "Số thập phân dạng 0.5 (tối đa 4 chữ số thập phân) / a decimal such as 0.5 "
                "(at most 4 places)."
            )
        return Decimal(value)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class OversightFilters(PageArgs):
    as_of = Str(
        validate=validate.Regexp(AS_OF_PATTERN),
        metadata={
            "description": "như tại một thời điểm: vị trí nhật ký hoặc thời gian UTC / the "
            "changes up to a log index or an RFC 3339 UTC time"
        },
    )
    after = QueryInt(
        validate=validate.Range(min=0, max=2**62),
        metadata={
            "description": "trang tiếp theo: sau notification_id này (dòng cuối của trang "
            "trước) / the next page: after this notification_id"
        },
    )
    unit = Str(validate=CODE, metadata={"description": "mã đơn vị / unit code"})
    leaf = Str(validate=CODE, metadata={"description": "tiêu chí thành phần, vd. 1.1.1"})
    actor = Str(validate=CODE, metadata={"description": "mã khóa người thực hiện / key id"})
    round = QueryInt(validate=validate.Range(min=1, max=2))
    kind = Str(validate=validate.OneOf(OVERSIGHT_KINDS))
    min_change = QueryDecimal(
        metadata={"description": "thay đổi ít nhất (trị tuyệt đối, điểm) / at least this |delta|"}
    )
    after_submission = Bool()
    after_deadline = Bool()
    after_approval = Bool()
    after_publication = Bool()
    large = Bool(metadata={"description": "trừ điểm lớn / large deductions only (or none)"})
    large_share = QueryDecimal(
        load_default=Decimal("0.5"),
        metadata={
            "description": "ngưỡng trừ lớn: phần của điểm tối đa (mặc định 0.5; 0: mọi lần "
            "trừ) / the share of the leaf's max a large deduction reaches (0: any deduction)"
        },
    )


class AcrossFilters(OversightFilters):
    cycle = fields.List(
        Str(validate=CODE),
        metadata={"description": "các kỳ (lặp lại); mặc định mọi kỳ trong phạm vi của khóa"},
    )


class SummaryArgs(PageArgs):
    as_of = Str(
        validate=validate.Regexp(AS_OF_PATTERN),
        metadata={
            "description": "như tại một thời điểm: tổng các thay đổi đến vị trí nhật ký hoặc "
            "thời gian UTC / the sums of the changes up to a log index or an RFC 3339 UTC time"
        },
    )
    by = Str(load_default="actor", validate=validate.OneOf(DIMS))
    order = Str(load_default="key", validate=validate.OneOf(list(ORDERS)))


class AcrossSummaryArgs(SummaryArgs):
    cycle = fields.List(Str(validate=CODE))


class ChangeActor(Signer):
    role = Str(allow_none=True)


class Deadline(Schema):
    kind = Str(required=True)
    due = Str(allow_none=True)


class ChangeFlags(Schema):
    after_submission = Bool(required=True)
    after_deadline = Bool(required=True)
    after_approval = Bool(required=True)
    after_publication = Bool(required=True)
    large_deduction = Bool(required=True)


class OversightChange(Schema):
    log_index = Int(allow_none=True, metadata={"description": "vị trí lá trong nhật ký"})
    notification_id = Int(required=True)
    part = Int(required=True)
    cycle = Str(required=True)
    unit = Str(allow_none=True)
    unit_name = Str(allow_none=True)
    leaf = Str(allow_none=True)
    area = Str(allow_none=True)
    kind = Str(required=True)
    round = Int(allow_none=True)
    actor = fields.Nested(ChangeActor, required=True)
    at = Str(required=True, metadata={"description": "issued_at đã ký (UTC)"})
    logged_at = Str(required=True)
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    old_points = Str(allow_none=True)
    new_points = Str(allow_none=True)
    delta = Str(allow_none=True)
    max_points = Str(allow_none=True)
    reason = Str(allow_none=True)
    evidence_ids = fields.List(Str(), allow_none=True)
    deadline = fields.Nested(Deadline, allow_none=True)
    flags = fields.Nested(ChangeFlags, required=True)
    notes = fields.List(
        fields.Nested(OversightNote),
        metadata={"description": "ghi chú giám sát về thay đổi này / notes on this change"},
    )


class OversightChanges(Schema):
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = Str(allow_none=True)
    total = Int(required=True)
    limit = Int(required=True)
    offset = Int(required=True)
    after = Int(allow_none=True)
    large_share = Str(required=True)
    changes = fields.List(fields.Nested(OversightChange), required=True)


class SumRow(Schema):
    key = Str(required=True)
    name = Str(allow_none=True)
    role = Str(allow_none=True)
    title = Str(allow_none=True)
    changes = Int(required=True)
    score_changes = Int(required=True)
    points_deducted = Str(required=True)
    points_added = Str(required=True)
    net = Str(required=True)
    kinds = fields.Dict(keys=Str(), values=Int(), required=True)
    flags = fields.Dict(keys=Str(), values=Int(), required=True)
    large_deductions = Int(required=True, metadata={"description": "ở ngưỡng mặc định 0.5"})


class OversightSummary(Schema):
    cycle = Str(allow_none=True)
    by = Str(required=True)
    order = Str(required=True)
    total = Int(required=True)
    limit = Int(required=True)
    offset = Int(required=True)
    rows = fields.List(fields.Nested(SumRow), required=True)
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})


FILTER_NAMES = (
    "unit",
    "leaf",
    "actor",
    "round",
    "kind",
    "min_change",
    *FLAG_NAMES,
    "large",
    "large_share",
)
