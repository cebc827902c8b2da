"""Oversight notes in the read model (table `oversight_notes`): each observer's
note with the council's answer beside it, found by unit, by leaf, or by the log
index of the change it names."""

from __future__ import annotations

from typing import Any

from projections.schema import upsert_sql


def oversight_noted(b: Any, e: Any, m: Any) -> None:
    key = _unit(b, m.originator_id)
    if key is None:
        return
    name, role = b.actor(m.actor)
    signed = m.signed or {}
    b.cur.execute(
        upsert_sql("oversight_notes"),
        (
            *key,
            e.note_id,
            e.leaf,
            e.change,
            e.text,
            m.actor,
            name,
            role,
            m.at,
            m.leaf_index,
            signed.get("command"),
            signed.get("signature"),
            None,
            None,
            None,
            None,
            None,
            None,
        ),
    )


def oversight_note_answered(b: Any, e: Any, m: Any) -> None:
    key = _unit(b, m.originator_id)
    if key is None:
        return
    name, _role = b.actor(m.actor)
    b.cur.execute(
        "UPDATE oversight_notes SET answer = ?, answer_key_id = ?, answer_name = ?, "
        "answer_at = ?, answer_leaf_index = ?, answer_command = ? "
        "WHERE cycle = ? AND unit = ? AND note_id = ?",
        (
            e.answer,
            m.actor,
            name,
            m.at,
            m.leaf_index,
            (m.signed or {}).get("command"),
            *key,
            e.note_id,
        ),
    )


def _unit(b: Any, assessment_id: str) -> tuple[str, str] | None:
    work = b.unit_of(assessment_id)
    return None if work is None else (work.cycle, work.unit)


HANDLERS = {
    "domain.assessment:Assessment.OversightNoted": oversight_noted,
    "domain.assessment:Assessment.OversightNoteAnswered": oversight_note_answered,
}
