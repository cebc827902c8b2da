"""Reads about one leaf or one piece of evidence (shapes: see projections.queries)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.signing.jcs import COMMAND_CONTEXT
from projections.queries_notes import leaf_notes
from projections.rows import jload, shown

# The events a leaf's values come from (an explanation answer only when it
# revised the self input): what `why` chains and proves.
SELF_KINDS = ("self_score", "not_applicable", "explanation_answer")
APPRAISED_KINDS = ("adjustment", "confirmation", "correction", "unit_closed")
SCORE_KINDS = (*SELF_KINDS, *APPRAISED_KINDS)
EVIDENCE_SELECT = (
    "SELECT e.*, a.display_name AS attached_name, a.role AS attached_role, "
    "w.display_name AS withdrawn_name, w.role AS withdrawn_role FROM evidence e "
    "LEFT JOIN keys a ON a.key_id = e.attached_by LEFT JOIN keys w ON w.key_id = e.withdrawn_by "
)


def _leaf(cur: Any, cycle: str, unit: str, leaf: str) -> Any:
    """The leaf's row if cycle, unit and leaf all exist, else None: its maximum
    as the unit's own table has it (node_scores: the table of its type), and
    None for a leaf that table leaves out."""
    cur.execute(
        "SELECT n.code, n.label, n.title, s.max_points FROM units u "
        "JOIN cycles c ON c.cycle = u.cycle "
        "JOIN framework_nodes n ON n.framework_id = c.framework AND n.code = ? AND n.is_leaf = 1 "
        "JOIN node_scores s ON s.cycle = u.cycle AND s.unit = u.unit AND s.code = n.code "
        "WHERE u.cycle = ? AND u.unit = ?",
        (leaf, cycle, unit),
    )
    return cur.fetchone()


def _head(cycle: str, unit: str, node: Any) -> dict:
    return {
        "cycle": cycle,
        "unit": unit,
        "leaf": node["code"],
        "label": node["label"],
        "title": node["title"],
        "max_points": node["max_points"],
    }


def _entry(r: Any) -> dict:
    return {
        "seq": r["seq"],
        "kind": r["kind"],
        "actor": {"key_id": r["actor_key_id"], "name": r["actor_name"], "role": r["actor_role"]},
        "at": r["at"],
        "round": r["round"],
        "old_value": jload(r["old_value"]),
        "new_value": jload(r["new_value"]),
        "old_points": r["old_points"],
        "new_points": r["new_points"],
        "reason": r["reason"],
        "evidence_ids": jload(r["evidence_ids"]),
        "leaf_index": r["leaf_index"],
        "notification_id": r["notification_id"],
        "originator_id": r["originator_id"],
        "version": r["version"],
        "command": r["command"],
        "signature": r["signature"],
    }


def leaf_history(
    cur: Any, cycle: str, unit: str, leaf: str, upto: int | None = None
) -> dict | None:
    """The leaf's events, oldest first; with `upto`, those up to that log index
    (history rows are only ever appended: the history as it stood then)."""
    node = _leaf(cur, cycle, unit, leaf)
    if node is None:
        return None
    cur.execute(
        "SELECT h.*, k.public_key AS signer_public_key FROM history h "
        "LEFT JOIN keys k ON k.key_id = h.actor_key_id "
        "WHERE h.cycle = ? AND h.unit = ? AND h.leaf = ? AND h.leaf_index <= ? ORDER BY h.seq",
        (cycle, unit, leaf, 2**62 if upto is None else upto),
    )
    entries = []
    for r in cur.fetchall():
        entry = _entry(r)
        entry["signature_status"] = signature_status(
            r["signer_public_key"], entry["command"], entry["signature"]
        )
        entries.append(entry)
    indices = [e["leaf_index"] for e in entries]
    on_leaf, by_change = leaf_notes(cur, cycle, unit, leaf, indices, upto)
    for entry in entries:
        entry["notes"] = by_change.get(entry["leaf_index"], [])
    return dict(_head(cycle, unit, node), entries=entries, notes=on_leaf)


def signature_status(public_key: str | None, command: str | None, signature: str | None) -> str:
    """ "valid" when the actor's registered key signed exactly this command text;
    "invalid" when it did not; "unknown_key" when no such key is registered.
    Checked at read time from the stored bytes, not taken from the writer's word."""
    if not public_key:
        return "unknown_key"
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.b64decode(signature or ""), COMMAND_CONTEXT + (command or "").encode("utf-8")
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return "invalid"
    return "valid"


def why(cur: Any, cycle: str, unit: str, leaf: str) -> dict | None:
    node = _leaf(cur, cycle, unit, leaf)
    if node is None:
        return None
    cur.execute(
        "SELECT * FROM leaf_state WHERE cycle = ? AND unit = ? AND leaf = ?", (cycle, unit, leaf)
    )
    state = cur.fetchone()
    cur.execute(
        "SELECT * FROM node_scores WHERE cycle = ? AND unit = ? AND code = ?", (cycle, unit, leaf)
    )
    score = cur.fetchone()
    marks = ",".join("?" * len(SCORE_KINDS))
    cur.execute(
        f"SELECT * FROM history WHERE cycle = ? AND unit = ? AND leaf = ? "
        f"AND kind IN ({marks}) AND (kind != 'explanation_answer' OR new_value IS NOT NULL) "
        "ORDER BY seq",
        (cycle, unit, leaf, *SCORE_KINDS),
    )
    steps = [_entry(r) for r in cur.fetchall()]
    items = {e["evidence_id"]: e for e in _evidence(cur, cycle, unit)}

    last_self = next((s for s in reversed(steps) if s["kind"] in SELF_KINDS), None)
    last_review = next((s for s in reversed(steps) if s["kind"] in APPRAISED_KINDS), None)
    appraised_from = last_review or last_self
    for step in steps:
        step.pop("command")
        step.pop("signature")
        step["evidence"] = [items[i] for i in step["evidence_ids"] or [] if i in items]
        step["produces"] = [
            name
            for name, src in (("self", last_self), ("appraised", appraised_from))
            if src is step
        ]

    self_input = jload(state["self_input"]) if state else None
    appraised_input = jload(state["appraised_input"]) if state else None
    self_points = score["self_score"] if score is not None and self_input is not None else None
    effective = appraised_input if appraised_input is not None else self_input
    appraised_points = (
        score["appraised_score"] if score is not None and effective is not None else None
    )
    out = _head(cycle, unit, node)
    out["self"] = {
        "input": self_input,
        "points": self_points,
        "display": shown(self_points),
        "note": state["self_note"] if state else None,
        "not_applicable": bool(state["not_applicable"]) if state else False,
        "explanation": jload(score["self_explanation"]) if score is not None else None,
        **_source(last_self),
    }
    out["appraised"] = {
        "input": effective,
        "points": appraised_points,
        "display": shown(appraised_points),
        "reason": state["appraised_reason"] if state else None,
        "adjusted": bool(state) and state["review_how"] in ("adjusted", "corrected"),
        "review": None
        if not state or state["review_how"] is None
        else {"how": state["review_how"], "round": state["review_round"]},
        "explanation": jload(score["appraised_explanation"]) if score is not None else None,
        **_source(appraised_from),
    }
    out["flag"] = (
        None
        if not state or state["flag_question"] is None
        else {
            "question": state["flag_question"],
            "answered": state["flag_answer"] is not None,
            "answer": state["flag_answer"],
            "evidence_ids": jload(state["flag_evidence_ids"]) or [],
        }
    )
    on_leaf, by_change = leaf_notes(cur, cycle, unit, leaf, [s["leaf_index"] for s in steps])
    for step in steps:
        step["notes"] = by_change.get(step["leaf_index"], [])
    out["chain"] = steps
    out["notes"] = on_leaf
    out["evidence"] = [
        e for e in items.values() if e["status"] == "attached" and leaf in (e["leaves"] or [])
    ]
    return out


def _source(step: dict | None) -> dict:
    return {
        "from_seq": step["seq"] if step else None,
        "from_leaf_index": step["leaf_index"] if step else None,
    }


def _evidence_item(r: Any) -> dict:
    file = None
    if r["file_sha256"] is not None:
        file = {
            "sha256": r["file_sha256"],
            "size": r["file_size"],
            "media_type": r["media_type"],
            "filename": r["filename"],
        }
    withdrawn = None
    if r["status"] == "withdrawn":
        withdrawn = {
            "reason": r["withdrawn_reason"],
            "at": r["withdrawn_at"],
            "leaf_index": r["withdrawn_leaf"],
            "by": {
                "key_id": r["withdrawn_by"],
                "name": r["withdrawn_name"],
                "role": r["withdrawn_role"],
            },
        }
    return {
        "evidence_id": r["evidence_id"],
        "leaves": jload(r["leaves"]) or [],
        "file": file,
        "document": jload(r["document"]),
        "description": r["description"],
        "status": r["status"],
        "attached_by": {
            "key_id": r["attached_by"],
            "name": r["attached_name"],
            "role": r["attached_role"],
        },
        "attached_at": r["attached_at"],
        "leaf_index": r["leaf_index"],
        "originator_id": r["originator_id"],
        "version": r["version"],
        "withdrawn": withdrawn,
    }


def _evidence(cur: Any, cycle: str, unit: str) -> list[dict]:
    cur.execute(
        EVIDENCE_SELECT + "WHERE e.cycle = ? AND e.unit = ? ORDER BY e.leaf_index, e.evidence_id",
        (cycle, unit),
    )
    return [_evidence_item(r) for r in cur.fetchall()]


def _unit_exists(cur: Any, cycle: str, unit: str) -> bool:
    cur.execute("SELECT 1 FROM units WHERE cycle = ? AND unit = ?", (cycle, unit))
    return cur.fetchone() is not None


def evidence_list(cur: Any, cycle: str, unit: str) -> dict | None:
    if not _unit_exists(cur, cycle, unit):
        return None
    return {"cycle": cycle, "unit": unit, "items": _evidence(cur, cycle, unit)}


def evidence_item(cur: Any, cycle: str, unit: str, evidence_id: str) -> dict | None:
    cur.execute(
        EVIDENCE_SELECT + "WHERE e.cycle = ? AND e.unit = ? AND e.evidence_id = ?",
        (cycle, unit, evidence_id),
    )
    row = cur.fetchone()
    return None if row is None else _evidence_item(row)
