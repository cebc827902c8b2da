"""Response schemas of the ranking reads (signed and public): docs/API.md, "Rankings"."""

from __future__ import annotations

from marshmallow import Schema, fields

from interfaces.http.read_schemas import (
    Any,
    Bool,
    FrameworkBand,
    Int,
    List,
    Nested,
    NInt,
    NStr,
    PreviousLink,
    PreviousTotal,
    Str,
)
from interfaces.http.schemas import PointInTime


class Act(Schema):
    at = Str()
    key_id = NStr()
    leaf_index = NInt()


class Decision(Schema):
    number = Str()
    date = Str()


class RankingVersionSummary(Schema):
    version = Int(required=True)
    state = Str(
        required=True, metadata={"description": "proposed | approved | published | superseded"}
    )
    digest = Str()
    position = NInt(metadata={"description": "the log position the manifest is pinned to"})
    proposed = Nested(Act)
    approved = Nested(Act, allow_none=True)
    decision = Nested(Decision, allow_none=True)
    published = Nested(Act, allow_none=True)
    ranked_count = Int()
    unranked_count = Int()


class Rankings(Schema):
    point_in_time = Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = Str(required=True)
    closed = Nested(Act, allow_none=True)
    versions = List(Nested(RankingVersionSummary), required=True)


class RankingLine(Schema):
    unit = Str(required=True)
    name = NStr()
    type = NStr()
    status = Str(required=True, metadata={"description": "submitted | not_submitted | merged"})
    rank = NInt()
    self_total = NStr()
    appraised_total = NStr()
    index = NStr()
    band = NStr()
    into = NStr()
    previous = Nested(
        PreviousTotal,
        allow_none=True,
        metadata={"description": "last year's {unit, total, rank} of its counterpart"},
    )


class RankingVersion(RankingVersionSummary):
    point_in_time = Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = Str(required=True)
    framework = Str()
    bands = List(
        Nested(FrameworkBand), metadata={"description": "the framework's bands: names of the codes"}
    )
    ranked = List(Nested(RankingLine), required=True)
    previous = Nested(PreviousLink, allow_none=True)
    unranked = List(Nested(RankingLine), required=True)


class PublishedNode(Schema):
    code = Str(required=True)
    label = NStr()
    title = NStr()
    parent = NStr()
    depth = NInt()
    is_leaf = Bool()
    max_points = NStr()
    applicable_max = NStr()
    self_score = NStr()
    appraised_score = NStr()
    points_lost = NStr()
    percentage = NStr()
    excluded = Bool()
    self_input = Any()
    appraised_input = Any()
    reason = NStr()


class PublishedSheet(Schema):
    cycle = Str(required=True)
    version = Int(required=True)
    framework = Str()
    bands = List(Nested(FrameworkBand))
    line = Nested(RankingLine)
    nodes = List(Nested(PublishedNode), required=True)


class RankingDraft(Schema):
    cycle = Str(required=True)
    version = Int(required=True)
    manifest = fields.Dict(required=True)
    digest = Str(required=True)
    bands = List(Nested(FrameworkBand))
