"""Schemas of evidence, a leaf's history and its proven why-chain (projections.queries)."""

from __future__ import annotations

from marshmallow import Schema, fields

from interfaces.http.read_schemas import (
    Any,
    Bool,
    Flag,
    Int,
    List,
    Nested,
    NInt,
    NStr,
    Review,
    Str,
)
from interfaces.http.schemas import Checkpoint, PointInTime


# -- evidence --------------------------------------------------------------------------
class Actor(Schema):
    key_id = NStr()
    name = NStr()
    role = NStr()


class EvidenceFile(Schema):
    sha256 = Str()
    size = NInt()
    media_type = NStr()
    filename = NStr()


class Withdrawal(Schema):
    reason = NStr()
    by = Nested(Actor)
    at = NStr()
    leaf_index = NInt()


class EvidenceItem(Schema):
    evidence_id = Str(required=True)
    leaves = List(Str())
    file = Nested(EvidenceFile, allow_none=True)
    document = Any()
    description = NStr()
    status = Str()
    attached_by = Nested(Actor)
    attached_at = NStr()
    leaf_index = NInt()
    originator_id = NStr()
    version = NInt()
    withdrawn = Nested(Withdrawal, allow_none=True)


class EvidenceList(Schema):
    cycle = Str(required=True)
    unit = Str(required=True)
    items = List(Nested(EvidenceItem), required=True)


# -- a leaf's history and why -------------------------------------------------------------
class LeafHead(Schema):
    cycle = Str(required=True)
    unit = Str(required=True)
    leaf = Str(required=True)
    label = NStr()
    title = NStr()
    max_points = NStr()


class Step(Schema):
    seq = Int()
    kind = Str(
        metadata={
            "description": "self_score | not_applicable | adjustment | confirmation | "
            "explanation_request | explanation_answer | explanations_submitted | "
            "unit_closed | correction | evidence_attached | evidence_withdrawn"
        }
    )
    actor = Nested(Actor)
    at = NStr()
    round = NInt(metadata={"description": "the appraisal round of a review, else null"})
    old_value = Any()
    new_value = Any()
    old_points = NStr()
    new_points = NStr()
    reason = NStr()
    evidence_ids = List(Str(), allow_none=True)
    leaf_index = NInt()
    notification_id = NInt()
    originator_id = NStr()
    version = NInt()


class NoteAnswer(Schema):
    text = Str()
    by = Nested(Actor)
    at = NStr()
    leaf_index = NInt()


class OversightNote(Schema):
    note_id = Str(required=True)
    about = Str(metadata={"description": "unit | leaf | change"})
    leaf = NStr()
    change = NInt(metadata={"description": "the log index of the change it is about"})
    text = Str()
    by = Nested(Actor)
    at = NStr()
    leaf_index = NInt()
    answer = Nested(
        NoteAnswer, allow_none=True, metadata={"description": "the council's answer, or null"}
    )


class Entry(Step):
    command = NStr(metadata={"description": "the exact signed JCS text"})
    signature = NStr(metadata={"description": "base64 Ed25519"})
    signature_status = Str(
        metadata={
            "description": "valid | invalid | unknown_key: the "
            "signature re-checked against the actor's key on read"
        }
    )
    notes = List(Nested(OversightNote), metadata={"description": "notes on this change"})


class LeafHistory(LeafHead):
    point_in_time = Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    entries = List(Nested(Entry), required=True)
    notes = List(Nested(OversightNote), metadata={"description": "oversight notes on the leaf"})


class Proof(Schema):
    leaf_index = Int(required=True)
    tree_size = Int(required=True)
    leaf_hash = Str(required=True, metadata={"description": "base64"})
    hashes = List(Str(), required=True)


class LoggedEvent(Schema):
    """The stored event behind a leaf: recompute leaf_hash from it (docs/FORMATS.md)."""

    originator_id = Str(required=True)
    version = Int(required=True)
    topic = Str(required=True)
    state = Str(required=True, metadata={"description": "base64 of the stored bytes"})


class WhyStep(Step):
    evidence = List(Nested(EvidenceItem))
    notes = List(Nested(OversightNote))
    produces = List(Str())
    proof = Nested(Proof, allow_none=True)
    logged = Nested(LoggedEvent, allow_none=True)


class Ground(Schema):
    """A deployment event the chain rests on (genesis, a key event, the cycle's
    opening, a framework's publication), proven like a chain event."""

    leaf_index = Int(required=True)
    proof = Nested(Proof, required=True)
    logged = Nested(LoggedEvent, required=True)


class SelfValue(Schema):
    input = fields.Dict(allow_none=True)
    points = NStr()
    display = NStr()
    note = NStr()
    not_applicable = Bool()
    explanation = Any()
    from_seq = NInt()
    from_leaf_index = NInt()


class AppraisedValue(Schema):
    input = fields.Dict(allow_none=True)
    points = NStr()
    display = NStr()
    reason = NStr()
    adjusted = Bool()
    review = Nested(Review, allow_none=True)  # null: never reviewed
    explanation = Any()
    from_seq = NInt()
    from_leaf_index = NInt()


class Why(LeafHead):
    self = Nested(SelfValue)
    appraised = Nested(AppraisedValue)
    flag = Nested(Flag, allow_none=True)
    chain = List(Nested(WhyStep), required=True)
    notes = List(Nested(OversightNote), metadata={"description": "oversight notes on the leaf"})
    evidence = List(Nested(EvidenceItem))
    grounds = List(
        Nested(Ground),
        required=True,
        metadata={
            "description": "Các sự kiện toàn hệ thống mà chuỗi dựa vào (khởi tạo, khóa, "
            "mở kỳ, công bố bộ tiêu chí), mỗi sự kiện kèm bằng chứng / the deployment "
            "events the chain rests on, each with its proof (docs/API.md)"
        },
    )
    checkpoint = Nested(
        Checkpoint,
        required=True,
        metadata={"description": "Điểm kiểm tra đã ký mà mọi bằng chứng trong `chain` dẫn tới"},
    )
