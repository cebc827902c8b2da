"""Reads of oversight notes (projections/notes.py): a unit's notes, and the notes
shown beside a leaf's history and why-chain (on the leaf, or on one of its changes).

Note = {note_id, about: unit | leaf | change, leaf, change, text,
        by: {key_id, name, role}, at, leaf_index,
        answer: null | {text, by: {key_id, name}, at, leaf_index}}
"""

from __future__ import annotations

from typing import Any


def note(r: Any, upto: int | None = None) -> dict:
    """A note as it stood after leaf `upto` (its answer only if given by then)."""
    about = "change" if r["change"] is not None else "leaf" if r["leaf"] is not None else "unit"
    return {
        "note_id": r["note_id"],
        "about": about,
        "leaf": r["leaf"],
        "change": r["change"],
        "text": r["text"],
        "by": {"key_id": r["actor_key_id"], "name": r["actor_name"], "role": r["actor_role"]},
        "at": r["at"],
        "leaf_index": r["leaf_index"],
        "answer": None
        if r["answer"] is None or (upto is not None and r["answer_leaf_index"] > upto)
        else {
            "text": r["answer"],
            "by": {"key_id": r["answer_key_id"], "name": r["answer_name"]},
            "at": r["answer_at"],
            "leaf_index": r["answer_leaf_index"],
        },
    }


def unit_notes(cur: Any, cycle: str, unit: str, upto: int | None = None) -> dict | None:
    """Every note on the unit, oldest first (up to leaf `upto` when given); None if
    the unit is not in the cycle."""
    cur.execute("SELECT 1 FROM units WHERE cycle = ? AND unit = ?", (cycle, unit))
    if cur.fetchone() is None:
        return None
    cur.execute(
        "SELECT * FROM oversight_notes WHERE cycle = ? AND unit = ? AND leaf_index <= ? "
        "ORDER BY leaf_index",
        (cycle, unit, _upto(upto)),
    )
    notes = [note(r, upto) for r in cur.fetchall()]
    return {
        "cycle": cycle,
        "unit": unit,
        "notes": notes,
        "open": sum(1 for n in notes if n["answer"] is None),
    }


def leaf_notes(
    cur: Any, cycle: str, unit: str, leaf: str, changes: list[int], upto: int | None = None
) -> tuple:
    """(notes on the leaf itself, {log index: notes on that change}) for the
    changes `changes` (the leaf indices of the leaf's history), up to leaf `upto`."""
    cur.execute(
        "SELECT * FROM oversight_notes WHERE cycle = ? AND unit = ? AND leaf = ? "
        "AND leaf_index <= ? ORDER BY leaf_index",
        (cycle, unit, leaf, _upto(upto)),
    )
    on_leaf = [note(r, upto) for r in cur.fetchall()]
    by_change: dict[int, list[dict]] = {}
    wanted = sorted({c for c in changes if c is not None})
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        cur.execute(
            f"SELECT * FROM oversight_notes WHERE cycle = ? AND unit = ? AND leaf_index <= ? "
            f"AND change IN ({','.join('?' * len(part))}) ORDER BY leaf_index",
            (cycle, unit, _upto(upto), *part),
        )
        for r in cur.fetchall():
            by_change.setdefault(r["change"], []).append(note(r, upto))
    return on_leaf, by_change


def _upto(upto: int | None) -> int:
    return 2**62 if upto is None else upto
