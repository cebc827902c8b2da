"""Oversight notes (giám sát): the Fatherland Front's signed remarks on a unit,
one of its criteria, or one change in its history, and the council's answer
(Decision 4203, Article 11; docs/SEASON.md, "Oversight notes").

A note is about exactly one thing: the unit as a whole (neither `leaf` nor
`change`), one leaf, or one change named by its log index. Only the changes the
oversight view lists can be named; a change is resolved from the log by the
application (the server reads its log, verify the leaves it has replayed), and
the rule here checks that it is one of this unit's.
"""

from __future__ import annotations

from uuid import UUID

from domain.errors import DomainError
from domain.ids import NOTE_ID, check_id

# The events of an assessment that are "changes" an observer may point at: the
# appraisal side of the season and the commune's withdrawal and explanations.
NOTABLE = frozenset(
    {
        "ScoreAdjusted",
        "ScoreConfirmed",
        "ExplanationRequested",
        "ExplanationAnswered",
        "ScoreCorrected",
        "SubmissionWithdrawn",
        "AppraisalClosed",
    }
)
TOPIC_PREFIX = "domain.assessment:Assessment."


def notable_topic(topic: object) -> bool:
    """True for the stored topic of a change a note may name."""
    return (
        isinstance(topic, str)
        and topic.startswith(TOPIC_PREFIX)
        and topic[len(TOPIC_PREFIX) :] in NOTABLE
    )


def check_note_id(note_id: object) -> str:
    """A note's id: the client's choice, unique within the unit."""
    return check_id(note_id, "note_id", NOTE_ID)


def check_subject(leaf: object, change: object) -> None:
    """At most one of `leaf` and `change`; a change is a non-negative log index."""
    if leaf is not None and change is not None:
        raise DomainError(
            "note_subject",
            "Ghi chú giám sát nói về một tiêu chí ('leaf') hoặc một thay đổi ('change'), "
            "không cả hai: thay đổi đã cho biết tiêu chí.",
            "An oversight note is about a leaf or a change, not both: the change names its leaf.",
            field="change",
        )
    if change is not None and (type(change) is not int or change < 0):
        raise DomainError(
            "invalid_field",
            "'change' là vị trí nhật ký (số nguyên không âm) của thay đổi.",
            "'change' is the log index (a non-negative integer) of the change.",
            field="change",
        )


def check_change(change: int, found: tuple[UUID | str, str] | None, unit_id: UUID) -> None:
    """`found` is (aggregate id, topic) of the event at log index `change`, or None
    when the log holds no change there."""
    oid = None if found is None else found[0]
    if isinstance(oid, str):
        oid = UUID(oid)
    if found is None or oid != unit_id or not notable_topic(found[1]):
        raise DomainError(
            "change_not_found",
            f"Vị trí nhật ký {change} không phải một thay đổi (thẩm định, xác nhận, giải trình, "
            "đính chính, rút hồ sơ, kết thúc thẩm định) của đơn vị này.",
            f"Log index {change} is not a change (appraisal, confirmation, explanation, "
            "correction, withdrawal, close) of this unit.",
            field="change",
            status=404,
        )


def note_not_found(note_id: str) -> DomainError:
    return DomainError(
        "note_not_found",
        f"Không có ghi chú giám sát '{note_id}' của đơn vị này.",
        f"No oversight note '{note_id}' on this unit.",
        field="note_id",
        status=404,
    )


def note_exists(note_id: str) -> DomainError:
    return DomainError(
        "note_exists",
        f"Đã có ghi chú giám sát '{note_id}' của đơn vị này: chọn mã khác.",
        f"Oversight note '{note_id}' already exists on this unit: choose another id.",
        field="note_id",
        status=409,
    )


def note_answered(note_id: str) -> DomainError:
    return DomainError(
        "note_answered",
        f"Hội đồng đã trả lời ghi chú giám sát '{note_id}'.",
        f"The council has already answered oversight note '{note_id}'.",
        field="note_id",
        status=409,
    )
