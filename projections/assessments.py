"""Handlers for one unit's assessment events: scores, adjustments, evidence.

Each change of a leaf becomes one `history` row (an evidence event that names
three leaves gives three rows), numbered per leaf by `seq`. `old_points` and
`new_points` are the leaf's points by its own rule at that moment, before any
gate; the leaf's final points (after gates) are in `leaf_state` and
`node_scores`, recomputed at the end of the batch.

For an adjustment, `old_value` is what the appraisers changed: the previous
adjustment if there was one, else the self-score it replaces.

The appraisal season (docs/SEASON.md) gives each leaf a review (adjusted,
confirmed or corrected, with its round) or none ("never reviewed"), and a flag
(an explanation requested, then answered). History kinds, one row per leaf:

    adjustment            ScoreAdjusted (with its round)
    confirmation          ScoreConfirmed: the appraised input becomes the self
                          input as it stood (Assessment.appraised_view)
    explanation_request   ExplanationRequested (reason = the question)
    explanation_answer    ExplanationAnswered (reason = the answer; a revised
                          self input is new_value and becomes the self input)
    explanations_submitted  ExplanationsSubmitted, on each answered leaf
    unit_closed           AppraisalClosed of the unit, on each leaf it confirms
    correction            ScoreCorrected after publication
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.assessment import INPUT_FIELDS
from projections.rows import jdump, jload
from projections.schema import columns, upsert_sql
from projections.scores import rule_points
from projections.unitwork import LeafState, UnitWork

if TYPE_CHECKING:
    from projections.apply import Batch, Meta


_GIVEN: dict[tuple, str] = {}


def _given(e: Any) -> str:
    """The signed input fields as canonical JSON text (a `false` stays false).

    Equal inputs recur thousands of times ({"points":"1"}), so the text is kept."""
    values = tuple(getattr(e, name, None) for name in INPUT_FIELDS)
    key = (values, tuple(map(type, values)))
    text = _GIVEN.get(key)
    if text is None:
        out = {
            name: value
            for name, value in zip(INPUT_FIELDS, values, strict=True)
            if value is not None and not (name == "not_applicable" and not value)
        }
        if len(_GIVEN) > 100_000:
            _GIVEN.clear()
        text = _GIVEN[key] = jdump(out)
    return text


NOT_APPLICABLE = jdump({"not_applicable": True})
EMPTY = jdump({})


def _record(
    b: Batch,
    work: UnitWork,
    leaf: str,
    state: LeafState,
    kind: str,
    m: Meta,
    *,
    old: str | None = None,
    new: str | None = None,
    old_points: str | None = None,
    new_points: str | None = None,
    reason: str | None = None,
    evidence_ids: str | None = None,
    round_: int | None = None,
) -> None:
    state.history_count += 1
    state.last_leaf_index = m.leaf_index
    state.updated_at = m.at
    name, role = b.actor(m.actor)
    signed = m.signed or {}
    b.history.append(
        (
            work.cycle,
            work.unit,
            leaf,
            state.history_count,
            kind,
            m.actor,
            name,
            role,
            m.at,
            round_,
            old,
            new,
            old_points,
            new_points,
            reason,
            evidence_ids,
            m.leaf_index,
            m.notification_id,
            m.originator_id,
            m.version,
            signed.get("command"),
            signed.get("signature"),
        )
    )
    b.changed(work)


def self_score_recorded(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    state = work.leaf(e.leaf)
    old, new = state.self_input, _given(e)
    state.self_input, state.self_note = new, e.note
    state.not_applicable = bool(getattr(e, "not_applicable", False))
    fw = work.framework
    _record(
        b,
        work,
        e.leaf,
        state,
        "self_score",
        m,
        old=old,
        new=new,
        old_points=rule_points(fw, e.leaf, old),
        new_points=rule_points(fw, e.leaf, new),
        reason=e.note,
    )


def not_applicable_declared(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    state = work.leaf(e.leaf)
    old, new = state.self_input, NOT_APPLICABLE
    state.self_input, state.self_note, state.not_applicable = new, e.reason, True
    fw = work.framework
    _record(
        b,
        work,
        e.leaf,
        state,
        "not_applicable",
        m,
        old=old,
        new=new,
        old_points=rule_points(fw, e.leaf, old),
        new_points=rule_points(fw, e.leaf, new),
        reason=e.reason,
    )


def _review(
    b: Batch,
    e: Any,
    m: Meta,
    work: UnitWork,
    leaf: str,
    kind: str,
    new: str | None,
    how: str,
    round_: int,
    reason: str | None,
    evidence_ids: Any = None,
) -> None:
    """An appraiser's review of a leaf: its appraised input becomes `new`."""
    state = work.leaf(leaf)
    old = state.effective_appraised
    state.appraised_input, state.appraised_reason = new, reason
    state.review_how, state.review_round = how, round_
    fw = work.framework
    _record(
        b,
        work,
        leaf,
        state,
        kind,
        m,
        old=old,
        new=new,
        old_points=rule_points(fw, leaf, old),
        new_points=rule_points(fw, leaf, new),
        reason=reason,
        evidence_ids=jdump(list(evidence_ids)) if evidence_ids else None,
        round_=round_,
    )


def score_adjusted(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    round_ = getattr(e, "round", None) or 1
    _review(
        b, e, m, work, e.leaf, "adjustment", _given(e), "adjusted", round_, e.reason, e.evidence_ids
    )


def score_confirmed(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    # "the self input as it stood when confirmed" (Assessment._confirmed)
    stood = work.leaf(e.leaf).self_input or EMPTY
    _review(b, e, m, work, e.leaf, "confirmation", stood, "confirmed", e.round, e.note)


def survey_recorded(b: Batch, e: Any, m: Meta) -> None:
    """Each survey leaf's appraised input becomes the survey's points
    (Assessment._survey_recorded); one history entry a leaf, kind "survey"."""
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    source = f"{e.source['file_name']} (SHA-256 {e.source['sha256']})"
    reason = f"{source}; {e.reason}" if e.reason else source
    for leaf, points in e.scores.items():
        _review(b, e, m, work, leaf, "survey", jdump({"points": points}), "survey", 1, reason)


def score_corrected(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    round_ = 2 if work.flagged() else 1  # as Assessment._corrected
    _review(
        b,
        e,
        m,
        work,
        e.leaf,
        "correction",
        _given(e),
        "corrected",
        round_,
        e.reason,
        e.evidence_ids,
    )


def explanation_requested(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    state = work.leaf(e.leaf)
    state.flag_question, state.flag_answer, state.flag_evidence_ids = e.question, None, None
    _record(b, work, e.leaf, state, "explanation_request", m, reason=e.question, round_=1)


def explanation_answered(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    state = work.leaf(e.leaf)
    revised = _given(e)
    ids = jdump(list(e.evidence_ids or []))
    state.flag_answer, state.flag_evidence_ids = e.answer, ids
    old = new = None
    if revised != EMPTY:
        # A revised self input replaces the self input (Assessment._explanation_answered).
        old, new = state.self_input, revised
        state.self_input = new
        state.not_applicable = bool(getattr(e, "not_applicable", False))
    fw = work.framework
    _record(
        b,
        work,
        e.leaf,
        state,
        "explanation_answer",
        m,
        old=old,
        new=new,
        old_points=rule_points(fw, e.leaf, old),
        new_points=rule_points(fw, e.leaf, new),
        reason=e.answer,
        evidence_ids=ids if e.evidence_ids else None,
    )


def explanations_submitted(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    work.explanations_submitted_at = m.at
    work.status_changed = True
    for leaf in _distinct(e.answered):
        _record(b, work, leaf, work.leaf(leaf), "explanations_submitted", m)
    b.changed(work)


def unit_closed(b: Batch, e: Any, m: Meta) -> None:
    """The council closes one unit; each leaf it lists is confirmed as self-scored."""
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    round_ = 2 if work.flagged() else 1  # as Assessment._appraisal_closed
    for leaf in _distinct(e.confirmed):
        stood = work.leaf(leaf).self_input or EMPTY
        _review(b, e, m, work, leaf, "unit_closed", stood, "confirmed", round_, None)
    work.closed_at, work.closed_leaf = m.at, m.leaf_index
    work.status_changed = True
    b.changed(work)


def _distinct(leaves: Any) -> list[str]:
    out: list[str] = []
    for code in leaves if isinstance(leaves, list) else []:
        if isinstance(code, str) and code not in out:
            out.append(code)
    return out


def evidence_attached(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    leaves = _distinct(e.leaves)
    file = e.file or {}
    work.put_evidence(
        {
            "cycle": work.cycle,
            "unit": work.unit,
            "evidence_id": e.evidence_id,
            "leaves": jdump(leaves),
            "file_sha256": file.get("sha256"),
            "file_size": file.get("size"),
            "media_type": file.get("media_type"),
            "filename": file.get("filename"),
            "document": jdump(e.document),
            "description": e.description,
            "status": "attached",
            "attached_by": m.actor,
            "attached_at": m.at,
            "leaf_index": m.leaf_index,
            "originator_id": m.originator_id,
            "version": m.version,
            "withdrawn_reason": None,
            "withdrawn_by": None,
            "withdrawn_at": None,
            "withdrawn_leaf": None,
        }
    )
    new = jdump(
        {
            "evidence_id": e.evidence_id,
            "status": "attached",
            "file": e.file,
            "document": e.document,
            "description": e.description,
        }
    )
    ids = jdump([e.evidence_id])
    for leaf in leaves:
        state = work.leaf(leaf)
        state.evidence_count += 1
        _record(
            b,
            work,
            leaf,
            state,
            "evidence_attached",
            m,
            new=new,
            reason=e.description,
            evidence_ids=ids,
        )


def evidence_withdrawn(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    item = work.evidence.get(e.evidence_id) if work is not None else None
    if work is None or item is None:
        return
    item = dict(
        item,
        status="withdrawn",
        withdrawn_reason=e.reason,
        withdrawn_by=m.actor,
        withdrawn_at=m.at,
        withdrawn_leaf=m.leaf_index,
    )
    work.put_evidence(item)
    old = jdump({"evidence_id": e.evidence_id, "status": "attached"})
    new = jdump({"evidence_id": e.evidence_id, "status": "withdrawn"})
    ids = jdump([e.evidence_id])
    for leaf in jload(item["leaves"]) or []:
        state = work.leaf(leaf)
        state.evidence_count = max(0, state.evidence_count - 1)
        _record(
            b,
            work,
            leaf,
            state,
            "evidence_withdrawn",
            m,
            old=old,
            new=new,
            reason=e.reason,
            evidence_ids=ids,
        )


def _submission(b: Batch, e: Any, m: Meta, status: str, **row: Any) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    values = {
        "cycle": work.cycle,
        "unit": work.unit,
        "status": status,
        "digest": None,
        "self_total": None,
        "actor_key_id": m.actor,
        "at": m.at,
        "reason": None,
        "leaf_index": m.leaf_index,
        **row,
    }
    b.cur.execute(upsert_sql("submissions"), tuple(values[c] for c in columns("submissions")))
    if status == "submitted":
        work.submitted_at, work.submitted_leaf = m.at, m.leaf_index
    else:
        work.submitted_at = work.submitted_leaf = None
    work.status_changed = True
    b.changed(work)  # ranked only while submitted (unit_totals.submitted)


def submitted(b: Batch, e: Any, m: Meta) -> None:
    _submission(b, e, m, "submitted", digest=e.digest, self_total=e.self_total)


def submission_withdrawn(b: Batch, e: Any, m: Meta) -> None:
    _submission(b, e, m, "withdrawn", reason=e.reason)


HANDLERS = {
    "domain.assessment:Assessment.SelfScoreRecorded": self_score_recorded,
    "domain.assessment:Assessment.NotApplicableDeclared": not_applicable_declared,
    "domain.assessment:Assessment.ScoreAdjusted": score_adjusted,
    "domain.assessment:Assessment.Submitted": submitted,
    "domain.assessment:Assessment.SubmissionWithdrawn": submission_withdrawn,
    "domain.assessment:Assessment.EvidenceAttached": evidence_attached,
    "domain.assessment:Assessment.EvidenceWithdrawn": evidence_withdrawn,
    "domain.assessment:Assessment.ScoreConfirmed": score_confirmed,
    "domain.assessment:Assessment.ExplanationRequested": explanation_requested,
    "domain.assessment:Assessment.ExplanationAnswered": explanation_answered,
    "domain.assessment:Assessment.ExplanationsSubmitted": explanations_submitted,
    "domain.assessment:Assessment.AppraisalClosed": unit_closed,
    "domain.assessment:Assessment.ScoreCorrected": score_corrected,
    "domain.assessment:Assessment.SurveyRecorded": survey_recorded,
}
