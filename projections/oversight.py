"""The oversight view (giám sát, issue 9): who changed what, when, and why.

One `oversight` row per appraisal change (adjustment), confirmation,
explanation request and answer, unit close, correction, submission withdrawal
and deadline extension, and its sums per cycle, actor, unit, leaf and area
(`oversight_sums`). A row is made right after the event's own handler ran
(`chained`): a leaf's change is read from the history row that handler just
appended, so the two views can never disagree on a value, a round or an actor;
a withdrawal, a unit close and an extension from the event and the rows their
handlers wrote.

`at` is the command's signed `issued_at`, the time the deadlines are judged on.
Flags, from the log alone, as the season stood at the event:

- after_submission: the unit stood submitted (a withdrawal always did);
- after_deadline: `at` is later than the deadline the kind is judged against
  (DEADLINE), the unit's as it stood (its own extension or the cycle's, the
  later); for an extension, the deadline it moved, as it stood before. The
  server refuses most commands signed late, so this marks what the rules let
  through late: corrections, closes, extensions;
- after_approval / after_publication: a version of the cycle's ranking had
  been approved / published before the event;
- a large deduction is judged on read, from `loss_ppm` (the deduction's share
  of the leaf's maximum) and the share the reader asks for.

Rows and sums are written once per batch (projections/oversight_sums.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from projections.oversight_sums import write
from projections.rows import dec_text, jdump
from projections.schema import columns
from projections.status import Calendar

if TYPE_CHECKING:
    from projections.apply import Batch, Meta

H = {name: i for i, name in enumerate(columns("history"))}

# The deadline each kind is judged against (docs/SEASON.md, "The calendar").
DEADLINE = {
    "adjustment": "appraisal_due",
    "confirmation": "appraisal_due",
    "explanation_request": "explanation_due",
    "explanation_answer": "explanation_due",
    "unit_closed": "appraisal_due",
    "correction": "appraisal_due",
    "submission_withdrawn": "self_assessment_due",
}


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def signed_at(m: Meta) -> str:
    """The command's signed issued_at (the event's own time if it cannot be read)."""
    try:
        found = json.loads((m.signed or {})["command"])["issued_at"]
    except (KeyError, TypeError, ValueError):
        return m.at
    return found if isinstance(found, str) else m.at


def _late(at: str, due: str | None) -> int:
    when, limit = _time(at), _time(due)
    return int(when is not None and limit is not None and when > limit)


def _rankings(b: Batch, cycle: str) -> tuple[int, int]:
    """(approved, published): whether a version had been, before this event."""
    b.cur.execute(
        "SELECT COUNT(approved_at) AS a, COUNT(published_at) AS p FROM rankings WHERE cycle = ?",
        (cycle,),
    )
    r = b.cur.fetchone()
    return int(r["a"] > 0), int(r["p"] > 0)


def _due(b: Batch, cycle: str, unit: str | None, kind: str) -> str | None:
    b.cur.execute("SELECT deadlines, unit_deadlines FROM cycles WHERE cycle = ?", (cycle,))
    row = b.cur.fetchone()
    if row is None:
        return None
    cal = Calendar(row)
    return (cal.for_unit(unit) if unit else cal.deadlines).get(kind)


def _points(framework: Any, leaf: str | None) -> tuple[str | None, str | None]:
    """The leaf's maximum and its area (top-level criterion)."""
    if leaf is None or framework is None or not framework.is_leaf(leaf):
        return None, None
    above = framework.ancestors(leaf)
    return dec_text(framework.node(leaf).max_points), above[-1] if above else leaf


def _base(b: Batch, m: Meta, cycle: str, unit: str | None, kind: str, due: str | None) -> dict:
    at = signed_at(m)
    name, role = b.actor(m.actor)
    approved, published = _rankings(b, cycle)
    return {
        "notification_id": m.notification_id,
        "part": 0,
        "cycle": cycle,
        "unit": unit,
        "kind": kind,
        "actor_key_id": m.actor,
        "actor_name": name,
        "actor_role": role,
        "at": at,
        "logged_at": m.at,
        "deadline": DEADLINE.get(kind),
        "due": due,
        "after_deadline": _late(at, due),
        "after_approval": approved,
        "after_publication": published,
        "leaf_index": m.leaf_index,
    }


# -- after each event's own handler -------------------------------------------------------
def leaf_changed(b: Batch, e: Any, m: Meta) -> None:
    """An adjustment, confirmation, request, answer or correction of one leaf."""
    if not b.history or b.history[-1][H["notification_id"]] != m.notification_id:
        return
    h = b.history[-1]
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    kind, leaf = h[H["kind"]], h[H["leaf"]]
    row = _base(b, m, work.cycle, work.unit, kind, _due(b, work.cycle, work.unit, DEADLINE[kind]))
    max_points, area = _points(work.framework, leaf)
    row.update(
        leaf=leaf,
        area=area,
        max_points=max_points,
        round=h[H["round"]],
        actor_name=h[H["actor_name"]],
        actor_role=h[H["actor_role"]],
        old_value=h[H["old_value"]],
        new_value=h[H["new_value"]],
        old_points=h[H["old_points"]],
        new_points=h[H["new_points"]],
        reason=h[H["reason"]],
        evidence_ids=h[H["evidence_ids"]],
        after_submission=int(work.submitted_at is not None),
    )
    write(b, row)


def unit_closed(b: Batch, e: Any, m: Meta) -> None:
    """The council's close of one unit: one row, the leaves it confirmed as new_value."""
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    kind = "unit_closed"
    row = _base(b, m, work.cycle, work.unit, kind, _due(b, work.cycle, work.unit, DEADLINE[kind]))
    confirmed = e.confirmed if isinstance(e.confirmed, list) else []
    row.update(
        round=2 if work.flagged() else 1,
        new_value=jdump(sorted({c for c in confirmed if isinstance(c, str)})),
        after_submission=int(work.submitted_at is not None),
    )
    write(b, row)


def submission_withdrawn(b: Batch, e: Any, m: Meta) -> None:
    work = b.unit_of(m.originator_id)
    if work is None:
        return
    kind = "submission_withdrawn"
    row = _base(b, m, work.cycle, work.unit, kind, _due(b, work.cycle, work.unit, DEADLINE[kind]))
    row.update(reason=e.reason, after_submission=1)  # refused unless it stood submitted
    write(b, row)


def deadline_extended(b: Batch, e: Any, m: Meta) -> None:
    """Judged against the deadline it moved, as it stood before (the change row)."""
    b.cur.execute("SELECT cycle FROM cycles WHERE aggregate_id = ?", (m.originator_id,))
    found = b.cur.fetchone()
    if found is None:
        return
    cycle = found["cycle"]
    b.cur.execute(
        "SELECT previous FROM cycle_changes WHERE cycle = ? ORDER BY seq DESC LIMIT 1", (cycle,)
    )
    change = b.cur.fetchone()
    previous = change["previous"] if change is not None else None
    work = b.unit((cycle, e.unit)) if e.unit else None
    row = _base(b, m, cycle, e.unit, "deadline_extended", previous)
    row.update(
        deadline=e.deadline,
        old_value=jdump(previous),
        new_value=jdump(e.until),
        reason=e.reason,
        after_submission=int(work is not None and work.submitted_at is not None),
    )
    write(b, row)


AFTER: dict[str, Callable[[Batch, Any, Meta], None]] = {
    "domain.assessment:Assessment.ScoreAdjusted": leaf_changed,
    "domain.assessment:Assessment.ScoreConfirmed": leaf_changed,
    "domain.assessment:Assessment.ExplanationRequested": leaf_changed,
    "domain.assessment:Assessment.ExplanationAnswered": leaf_changed,
    "domain.assessment:Assessment.ScoreCorrected": leaf_changed,
    "domain.assessment:Assessment.AppraisalClosed": unit_closed,
    "domain.assessment:Assessment.SubmissionWithdrawn": submission_withdrawn,
    "domain.cycle:Cycle.DeadlineExtended": deadline_extended,
}


def chained(handlers: dict[str, Callable]) -> dict[str, Callable]:
    """The handlers, each followed by the oversight row of its event (if any)."""
    out = dict(handlers)
    for topic, after in AFTER.items():
        first = handlers[topic]

        def both(b: Batch, e: Any, m: Meta, first: Callable = first, after: Callable = after):
            first(b, e, m)
            after(b, e, m)

        out[topic] = both
    return out
