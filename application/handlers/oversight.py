"""The Fatherland Front's oversight notes and the council's answers
(docs/SEASON.md, "Oversight notes"). Unit commands: each is decided on the
unit's assessment, so verify replays it with the unit's own events."""

from __future__ import annotations

from application.handlers.assessments import BASE, _load, target
from application.handlers.base import Context, check_fields, handler


@handler("record_oversight_note", target=target)
def record_oversight_note(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "note_id", "text", "leaf", "change"))
    _when, assessment, framework = _load(ctx)
    change = ctx.command.get("change")
    # What the log holds at that index: read by the server from its log, by verify
    # from the leaves it has replayed (application/audit/shard.py).
    found = ctx.app.logged_change(change) if type(change) is int and change >= 0 else None
    assessment.record_oversight_note(
        framework,
        ctx.command.get("note_id"),
        ctx.command.get("text"),
        ctx.command.get("leaf"),
        change,
        found,
        ctx.signed.stored(),
    )
    return [assessment]


@handler("answer_oversight_note", target=target)
def answer_oversight_note(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "note_id", "answer"))
    _when, assessment, _framework = _load(ctx)
    assessment.answer_oversight_note(
        ctx.command.get("note_id"), ctx.command.get("answer"), ctx.signed.stored()
    )
    return [assessment]
