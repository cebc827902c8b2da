"""The read model's tables, created with sqlite-utils.

Every table is derived from the event log and nothing else, so the file can be
dropped and rebuilt at any time. Decimals are exact TEXT; `*_key` INTEGER
columns are sort keys (see `projections.rows`). `leaf_index` columns point at
the event's leaf in the transparency log, so any row can be proven.

The library's `tracking` table (written by SQLiteTrackingRecorder in the same
transaction as the rows) holds the last notification id applied.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.db import DescIndex

# The kinds of row of the oversight view, in the order its sums list them.
OVERSIGHT_KINDS = (
    "adjustment",
    "confirmation",
    "explanation_request",
    "explanation_answer",
    "unit_closed",
    "correction",
    "submission_withdrawn",
    "deadline_extended",
)
_TOTALS: dict[str, type] = {
    "cycle": str,
    "unit": str,
    "unit_name": str,
    "position": int,
    "framework": str,
    "max_total": str,
    "self_total": str,
    "self_applicable_max": str,
    "self_index": str,
    "self_band_code": str,
    "appraised_total": str,
    "applicable_max": str,
    "index": str,
    "band_code": str,
    "band_vi": str,
    "band_en": str,
    "points_lost": str,
    "evidence_count": int,
    "self_total_key": int,
    "total_key": int,
    "index_key": int,
    "submitted": int,  # 1 while the unit's self-assessment stands submitted
}
# What a change adds to the oversight sums (projections/oversight_sums.py).
_SUM_MEASURES: dict[str, type] = {
    "changes": int,
    "score_changes": int,
    "deducted_key": int,  # points deducted x 10^4
    "added_key": int,
    **{f"n_{kind}": int for kind in OVERSIGHT_KINDS},
    "after_submission": int,
    "after_deadline": int,
    "after_approval": int,
    "after_publication": int,
    "large_deductions": int,  # at the default share (oversight.DEFAULT_SHARE)
}
_STATUS: dict[str, type] = {
    "cycle": str,
    "unit": str,
    "name": str,
    "position": int,
    "stage": str,  # not_submitted | round_1 | explanation | round_2 | closed
    "leaves_scored": int,
    "evidence_count": int,
    "flags_open": int,
    "flags_answered": int,
    "reviewed": int,
    "submitted_at": str,
    "submitted_leaf": int,
    "explanations_submitted_at": str,
    "closed_at": str,
    "closed_leaf": int,
}

# name -> (columns in order, primary key). Column order is the INSERT order.
TABLES: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "deployment": (
        {
            "id": int,
            "origin": str,
            "log_key": str,
            "admin_key_id": str,
            "leaf_index": int,
            "at": str,
        },
        ("id",),
    ),
    "frameworks": (
        {
            "id": str,
            "slug": str,
            "version": int,
            "name": str,
            "jurisdiction": str,
            "level": str,
            "year": int,
            "source": str,
            "supersedes": str,
            "digest": str,
            "data": str,
            "bands": str,
            "max_total": str,
            "node_count": int,
            "leaf_count": int,
            "leaf_index": int,
            "published_at": str,
            "published_by": str,
        },
        ("id",),
    ),
    "framework_nodes": (
        {
            "framework_id": str,
            "code": str,
            "parent": str,
            "depth": int,
            "position": int,
            "label": str,
            "title": str,
            "max_points": str,
            "note": str,
            "rule": str,
            "is_leaf": int,
            "component": str,  # survey | bonus | penalty (an area's), else null
            "cap": str,
            "max_by_type": str,  # JSON {unit type: maximum} of a leaf, else null
        },
        ("framework_id", "code"),
    ),
    "keys": (
        {
            "key_id": str,
            "aggregate_id": str,
            "public_key": str,
            "display_name": str,
            "role": str,
            "scope": str,
            "status": str,
            "registered_leaf": int,
            "registered_at": str,
            "registered_by": str,
            "rotated_from": str,
            "rotated_to": str,
            "revoked_leaf": int,
            "revoked_at": str,
            "revoked_reason": str,
        },
        ("key_id",),
    ),
    "cycles": (
        {
            "cycle": str,
            "name": str,
            "framework": str,
            "year": int,
            "authority": str,
            "province": str,
            "unit_count": int,
            "leaf_index": int,
            "opened_at": str,
            "opened_by": str,
            # the schedule (Cycle.Scheduled, moved by Cycle.DeadlineExtended)
            "level": str,
            "rounds": int,
            "deadlines": str,  # JSON {kind: time}
            "unit_deadlines": str,  # JSON {unit: {kind: time}}
            "aggregate_id": str,
            "scheduled_leaf": int,  # the Cycle.Scheduled event (as_of: not yet before it)
            "previous": str,  # JSON: the cycle it is compared with (Cycle.PreviousLinked)
            "previous_leaf": int,
        },
        ("cycle",),
    ),
    # What the cycle's own events say of each unit (its type, what it merged into).
    "cycle_units": (
        {
            "cycle": str,
            "unit": str,
            "type": str,
            "added_leaf": int,
            "merged_into": str,
            "merged_leaf": int,
        },
        ("cycle", "unit"),
    ),
    # The calendar's and the units' changes while the cycle runs, oldest first.
    "cycle_changes": (
        {
            "cycle": str,
            "seq": int,
            "kind": str,  # deadline_extended | units_added | units_merged | previous_linked
            "deadline": str,
            "unit": str,
            "until": str,
            "previous": str,  # the deadline it replaced, for that unit or the cycle
            "own_previous": str,  # a unit's own deadline before (null: it had none)
            "units": str,  # JSON list of codes (added or merged)
            "into": str,
            "reason": str,
            "actor_key_id": str,
            "actor_name": str,
            "at": str,
            "leaf_index": int,
        },
        ("cycle", "seq"),
    ),
    # Past cycles scored outside parindex, imported from published tables.
    "past_cycles": (
        {
            "cycle": str,
            "name": str,
            "year": int,
            "unit_count": int,
            "imports": str,  # JSON [{source, units, reason, actor, at, leaf_index}]
            "leaf_index": int,
            "at": str,
        },
        ("cycle",),
    ),
    "past_results": (
        {
            "cycle": str,
            "unit": str,
            "name": str,
            "total": str,
            "rank": int,
            "scores": str,  # JSON {criterion code: points} as imported
            "sources": str,  # JSON [sha256 of each file that stated figures]
            "leaf_index": int,
        },
        ("cycle", "unit"),
    ),
    "units": (
        {
            "cycle": str,
            "unit": str,
            "name": str,
            "position": int,
            "assessment_id": str,
        },
        ("cycle", "unit"),
    ),
    "leaf_state": (
        {
            "cycle": str,
            "unit": str,
            "leaf": str,
            "self_input": str,
            "self_points": str,
            "self_note": str,
            "appraised_input": str,
            "appraised_points": str,
            "appraised_reason": str,
            "not_applicable": int,
            "evidence_count": int,
            "history_count": int,
            "last_leaf_index": int,
            "updated_at": str,
            # the appraisal (docs/SEASON.md): null how = never reviewed
            "review_how": str,  # adjusted | confirmed | corrected
            "review_round": int,
            "flag_question": str,  # an explanation requested of the leaf
            "flag_answer": str,  # the commune's answer (null: not answered)
            "flag_evidence_ids": str,  # JSON list, with the answer
        },
        ("cycle", "unit", "leaf"),
    ),
    "node_scores": (
        {
            "cycle": str,
            "unit": str,
            "code": str,
            "position": int,
            "max_points": str,
            "applicable_max": str,
            "self_applicable_max": str,
            "self_score": str,
            "appraised_score": str,
            "percentage": str,
            "self_percentage": str,
            "points_lost": str,
            "evidence_count": int,
            "excluded": int,
            "self_explanation": str,
            "appraised_explanation": str,
        },
        ("cycle", "unit", "code"),
    ),
    "unit_totals": (
        _TOTALS,
        ("cycle", "unit"),
    ),
    # Where each unit stands in the season (docs/SEASON.md, "One unit's states"):
    # `stage` as the log alone says it; a read turns "explanation" into round_2
    # once the unit's explanation_due has passed (projections/status.py).
    "unit_status": (
        _STATUS,
        ("cycle", "unit"),
    ),
    "evidence": (
        {
            "cycle": str,
            "unit": str,
            "evidence_id": str,
            "leaves": str,
            "file_sha256": str,
            "file_size": int,
            "media_type": str,
            "filename": str,
            "document": str,
            "description": str,
            "status": str,
            "attached_by": str,
            "attached_at": str,
            "leaf_index": int,
            "originator_id": str,
            "version": int,
            "withdrawn_reason": str,
            "withdrawn_by": str,
            "withdrawn_at": str,
            "withdrawn_leaf": int,
        },
        ("cycle", "unit", "evidence_id"),
    ),
    # A unit's latest submission (submit_assessment) or its withdrawal.
    "submissions": (
        {
            "cycle": str,
            "unit": str,
            "status": str,  # "submitted" | "withdrawn"
            "digest": str,
            "self_total": str,
            "actor_key_id": str,
            "at": str,
            "reason": str,  # of a withdrawal
            "leaf_index": int,
        },
        ("cycle", "unit"),
    ),
    # The council's close of a cycle's appraisal (close_appraisal without a unit).
    "cycle_closes": (
        {"cycle": str, "at": str, "actor_key_id": str, "leaf_index": int},
        ("cycle",),
    ),
    # Each version of a cycle's ranking: proposed, approved, published or superseded.
    "rankings": (
        {
            "cycle": str,
            "version": int,
            "state": str,
            "digest": str,
            "proposed_at": str,
            "proposed_by": str,
            "proposed_leaf": int,  # the position the manifest is pinned to
            "approved_at": str,
            "approved_by": str,
            "approved_leaf": int,
            "decision_number": str,
            "decision_date": str,
            "published_at": str,
            "published_by": str,
            "published_leaf": int,
            "ranked_count": int,
            "unranked_count": int,
        },
        ("cycle", "version"),
    ),
    # A version's lines as signed: ranked units first (by rank), then the others.
    "ranking_lines": (
        {
            "cycle": str,
            "version": int,
            "unit": str,
            "position": int,
            "name": str,
            "type": str,
            "status": str,  # submitted | not_submitted | merged
            "self_total": str,
            "appraised_total": str,
            "index_": str,
            "band": str,
            "rank": int,
            "into": str,
        },
        ("cycle", "version", "unit"),
    ),
    # Every unit's sheet (each node, a leaf's inputs) when a version was published.
    "published_nodes": (
        {
            "cycle": str,
            "version": int,
            "unit": str,
            "code": str,
            "position": int,
            "max_points": str,
            "applicable_max": str,
            "self_score": str,
            "appraised_score": str,
            "points_lost": str,
            "percentage": str,
            "excluded": int,
            "self_input": str,
            "appraised_input": str,
            "appraised_reason": str,
        },
        ("cycle", "version", "unit", "code"),
    ),
    "history": (
        {
            "cycle": str,
            "unit": str,
            "leaf": str,
            "seq": int,
            "kind": str,
            "actor_key_id": str,
            "actor_name": str,
            "actor_role": str,
            "at": str,
            "round": int,  # of an appraiser's review (adjustment, confirmation, ...)
            "old_value": str,
            "new_value": str,
            "old_points": str,
            "new_points": str,
            "reason": str,
            "evidence_ids": str,
            "leaf_index": int,
            "notification_id": int,
            "originator_id": str,
            "version": int,
            "command": str,
            "signature": str,
        },
        ("cycle", "unit", "leaf", "seq"),
    ),
    # The oversight view (projections/oversight.py): one row per appraisal change,
    # confirmation, explanation, unit close, correction, withdrawal or deadline
    # extension. A future oversight note joins on `leaf_index` (one change).
    "oversight": (
        {
            "notification_id": int,
            "part": int,
            "cycle": str,
            "unit": str,
            "leaf": str,
            "area": str,  # the leaf's top-level criterion (I..VIII: "1".."8")
            "kind": str,
            "round": int,
            "actor_key_id": str,
            "actor_name": str,
            "actor_role": str,
            "at": str,  # the signed issued_at
            "logged_at": str,  # the event's own (server) timestamp
            "old_value": str,
            "new_value": str,
            "old_points": str,
            "new_points": str,
            "delta": str,  # new - old points, exact
            "delta_key": int,  # delta x 10^4
            "size_key": int,  # |delta| x 10^4
            "loss_ppm": int,  # a deduction's share of the leaf's max, floor(x 10^6); else 0
            "max_points": str,
            "reason": str,
            "evidence_ids": str,
            "deadline": str,  # the kind of deadline the change is judged against
            "due": str,  # that deadline as it stood (the unit's, extensions included)
            "after_submission": int,
            "after_deadline": int,
            "after_approval": int,
            "after_publication": int,
            "leaf_index": int,
        },
        ("notification_id", "part"),
    ),
    # Its sums per cycle and (dim, key): dim cycle (key ""), actor, unit, leaf, area;
    # cycle "*" holds the same over every cycle.
    "oversight_sums": (
        {"cycle": str, "dim": str, "key": str} | _SUM_MEASURES,
        ("cycle", "dim", "key"),
    ),
    # projections/oversight_frames.py: the sums per (dim, key) after a leaf index,
    # every so many changes of a cycle (or of every cycle, "*")
    "oversight_keyframes": (
        {"cycle": str, "keyframe": int, "dim": str, "key": str} | {k: int for k in _SUM_MEASURES},
        ("cycle", "keyframe", "dim", "key"),
    ),
    "oversight_frames": (  # per cycle ("*": every cycle): its last keyframe, changes since
        {"cycle": str, "keyframe": int, "since": int},
        ("cycle",),
    ),
    # When each event was stored (projections/as_of.py): `running_at` is the latest
    # time of any event up to this one, so it never decreases along the log and a
    # time maps to the longest prefix of the log stored at or before it.
    "log_times": (
        {"leaf_index": int, "at": str, "running_at": str},
        ("leaf_index",),
    ),
    # Each unit's timeline (projections/as_of.py): its unit_status row after every
    # event that changed it, and its unit_totals row at its opening and after every
    # event while it stands submitted (and at its withdrawal): the rows the live
    # ranking and status reads need as of any log index.
    "unit_status_log": (
        {"cycle": str, "unit": str, "leaf_index": int}
        | {k: v for k, v in _STATUS.items() if k not in ("cycle", "unit")},
        ("cycle", "unit", "leaf_index"),
    ),
    "unit_totals_log": (
        {"cycle": str, "unit": str, "leaf_index": int}
        | {k: v for k, v in _TOTALS.items() if k not in ("cycle", "unit")},
        ("cycle", "unit", "leaf_index"),
    ),
    # projections/standing.py: a unit's stage, submitted flag and appraised total
    # each time one of them changes, and every unit's at keyframes along the log.
    "standing_log": (
        {
            "cycle": str,
            "leaf_index": int,
            "unit": str,
            "stage": str,
            "submitted": int,
            "total_key": int,
        },
        ("cycle", "leaf_index", "unit"),
    ),
    "standing_keyframes": (
        {
            "cycle": str,
            "keyframe": int,  # the leaf index it stands after
            "unit": str,
            "stage": str,
            "submitted": int,
            "total_key": int,
        },
        ("cycle", "keyframe", "unit"),
    ),
    "standing_frames": (  # per cycle: its last keyframe and the rows logged since
        {"cycle": str, "keyframe": int, "since": int},
        ("cycle",),
    ),
    # projections/notes.py: an observer's note and the council's answer
    "oversight_notes": (
        {
            "cycle": str,
            "unit": str,
            "note_id": str,
            "leaf": str,  # the leaf it is about, or null
            "change": int,  # the log index of the change it is about, or null
            "text": str,
            "actor_key_id": str,
            "actor_name": str,
            "actor_role": str,
            "at": str,
            "leaf_index": int,
            "command": str,
            "signature": str,
            "answer": str,
            "answer_key_id": str,
            "answer_name": str,
            "answer_at": str,
            "answer_leaf_index": int,
            "answer_command": str,
        },
        ("cycle", "unit", "note_id"),
    ),
}

# Stored in primary-key order (WITHOUT ROWID): read in long runs of that order
# (projections/standing.py), so a run is contiguous pages, not a lookup a row.
CLUSTERED = frozenset(
    {
        "unit_status_log",
        "unit_totals_log",
        "standing_log",
        "standing_keyframes",
        "oversight_keyframes",
    }
)

INDEXES: tuple[tuple[str, tuple[str | DescIndex, ...], bool], ...] = (
    ("keys", ("aggregate_id",), True),
    ("units", ("assessment_id",), True),
    ("cycles", ("aggregate_id",), True),
    # the live ranking's order: highest total first, then by code (domain.ranking)
    ("unit_totals", ("cycle", "submitted", DescIndex("total_key"), "unit"), False),
    ("unit_status", ("cycle", "position"), False),
    ("unit_status", ("cycle", "stage"), False),
    ("cycle_units", ("cycle", "merged_into"), False),
    ("ranking_lines", ("cycle", "version", "position"), True),
    # oversight: each filter walks its own index in log order (queries_oversight.py)
    ("oversight", ("cycle", "notification_id"), False),
    ("oversight", ("cycle", "unit", "notification_id"), False),
    ("oversight", ("cycle", "actor_key_id", "notification_id"), False),
    ("oversight", ("cycle", "kind", "notification_id"), False),
    ("oversight", ("cycle", "leaf", "notification_id"), False),
    ("oversight", ("cycle", "after_deadline", "notification_id"), False),
    ("oversight", ("cycle", "after_approval", "notification_id"), False),
    ("oversight", ("cycle", "after_publication", "notification_id"), False),
    ("oversight", ("cycle", "after_submission", "notification_id"), False),
    ("oversight", ("cycle", "size_key"), False),
    ("oversight", ("unit", "notification_id"), False),  # across cycles
    ("oversight", ("actor_key_id", "notification_id"), False),
    ("oversight", ("cycle", "loss_ppm"), False),
    # the changes between two log indexes (projections/oversight_frames.py)
    ("oversight", ("cycle", "leaf_index"), False),
    ("oversight", ("leaf_index",), False),
    ("oversight_sums", ("cycle", "dim", DescIndex("changes"), "key"), False),
    ("oversight_sums", ("cycle", "dim", DescIndex("deducted_key"), "key"), False),
    ("oversight_sums", ("cycle", "dim", DescIndex("added_key"), "key"), False),
    ("oversight_sums", ("dim", "key"), False),
    ("units", ("unit",), False),  # a unit's name in any cycle (oversight across cycles)
    ("oversight_notes", ("change",), False),
    ("log_times", ("running_at", "leaf_index"), False),
    ("history", ("cycle", "unit", "leaf_index"), False),
    ("oversight_notes", ("cycle", "unit", "leaf"), False),
)

TRACKING_TABLE = "tracking"

# The log this file was built from, as of its last batch: (position, size, root).
# Outside TABLES (and the digests): it describes the log, not derived rows. A
# server compares it with the log before serving (projections.rollback).
ANCHOR_TABLE = "log_anchor"

# Bump when a table or column changes: a file of another version is rebuilt
# (projections.rebuilder.open_current), never migrated; it is disposable.
SCHEMA_VERSION = 11


def columns(table: str) -> tuple[str, ...]:
    return tuple(TABLES[table][0])


def primary_key(table: str) -> tuple[str, ...]:
    return TABLES[table][1]


def upsert_sql(table: str) -> str:
    cols = columns(table)
    names = ", ".join(f'"{c}"' for c in cols)
    return f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})"


def create_tables(db: sqlite_utils.Database) -> int:
    """Creates what is missing; returns the file's schema version (a new file
    gets SCHEMA_VERSION, kept in SQLite's user_version)."""
    if not set(TABLES) & set(db.table_names()):
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    for name, (cols, pk) in TABLES.items():
        if name in CLUSTERED:
            kinds = {str: "TEXT", int: "INTEGER"}
            defs = ", ".join(f'"{c}" {kinds[t]}' for c, t in cols.items())
            keys = ", ".join(f'"{c}"' for c in pk)
            db.execute(
                f'CREATE TABLE IF NOT EXISTS "{name}" ({defs}, PRIMARY KEY ({keys})) WITHOUT ROWID'
            )
            continue
        db[name].create(cols, pk=pk if len(pk) > 1 else pk[0], if_not_exists=True)
    for table, cols, unique in INDEXES:
        db[table].create_index(cols, unique=unique, if_not_exists=True)
    db[ANCHOR_TABLE].create(
        {"id": int, "position": int, "size": int, "root": str}, pk="id", if_not_exists=True
    )
    return version
