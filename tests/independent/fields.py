"""The field rules of a signed command (FORMATS.md sections 1, 3.2, 3.6), as data.

`check_fields(command)` raises `Refused(code)` for the first rule a command breaks.
Only the standard library: this is the outsider's reading of the document.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from datetime import date, datetime

CODE = r"[a-z0-9][a-z0-9_.-]{0,63}"
KEY_ID = r"pk_[a-z2-7]{32}"
LEAF = r"[1-9][0-9]{0,3}(\.[1-9][0-9]{0,3}){0,7}"
EVIDENCE_ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
FRAMEWORK_ID = r"[a-z0-9]+(-[a-z0-9]+)*@[1-9][0-9]{0,8}"
COMMAND_ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"
ISSUED_AT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"
DECIMAL = r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{0,3}[1-9])?"
ROLES = (
    "admin",
    "commune_officer",
    "commune_chair",
    "appraiser",
    "council_chair",
    "approver",
    "observer",
    "auditor",
)
SCOPE = rf"\*|(province|authority|commune):{CODE}"
MAX_INT = 2**53 - 1


class Refused(Exception):
    """The derivation rule refuses the command (it yields nothing)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class ClaimFailed(Refused):
    """A cross-unit command whose units do not bear it out (FORMATS.md 8.2 step 1,
    claims): reported at its leaf, while its effect on the cycle or ranking
    stands for the commands after it, so one forgery is one finding."""

    def __init__(self, code: str, yields: list):
        super().__init__(code)
        self.yields = yields


def full(pattern: str, value) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def controls(value: str, multiline: bool) -> bool:
    for c in value:
        o = ord(c)
        if c == "\n" and multiline:
            continue
        if o < 0x20 or 0x7F <= o <= 0x9F or o in (0x2028, 0x2029):
            return True
        if 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            return True
    return False


def text(value, limit: int, *, ml: bool = False, trimmed: bool = False) -> None:
    """Section 1 "Text": NFC, no control character, bounded, more than white space."""
    if not isinstance(value, str):
        raise Refused("invalid_field")
    if unicodedata.normalize("NFC", value) != value:
        raise Refused("text_not_nfc")
    if controls(value, ml):
        raise Refused("control_character")
    if len(value) > limit:
        raise Refused("text_too_long")
    if not value.strip():
        raise Refused("invalid_field")
    if trimmed and value != value.strip():
        raise Refused("invalid_field")


def decimal(value) -> None:
    if not full(DECIMAL, value) or value == "-0":
        raise Refused("decimal_not_canonical")


def public_key(value) -> bytes:
    """3.6: base64 of 32 bytes that re-encodes to the same text."""
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or base64.b64encode(raw).decode() != value:
        raise Refused("invalid_public_key")
    return raw


def real_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
        return True
    except ValueError:
        return False


# -- per type: (required, optional) members, and a checker per member -----------------
def _opt_text(limit, **kw):
    return lambda v: v is None or text(v, limit, **kw)


def _pattern(p, code="invalid_code"):
    def check(v):
        if not full(p, v):
            raise Refused(code)

    return check


def _bool(v):
    if v is not None and not isinstance(v, bool):
        raise Refused("invalid_field")


def _opt_decimal(v):
    if v is not None:
        decimal(v)


def _year(v):
    if not is_int(v) or not 2000 <= v <= 2100:
        raise Refused("invalid_field")


UNIT_TYPES = ("xa", "phuong", "thi_tran", "dac_khu")
KINDS = ("self_assessment_due", "explanation_due", "appraisal_due")  # in season order


def _unit(u, code="invalid_field"):
    """One unit of open_cycle's `units`: code, name and optionally type."""
    if not isinstance(u, dict) or not {"code", "name"} <= set(u) <= {"code", "name", "type"}:
        raise Refused(code)
    _pattern(CODE)(u["code"])
    text(u["name"], 200)
    if "type" in u and u["type"] not in UNIT_TYPES:
        raise Refused("invalid_unit_type")


def _units(v):
    if not isinstance(v, list) or not 1 <= len(v) <= 10_000:
        raise Refused("invalid_field")
    seen = set()
    for u in v:
        _unit(u)
        if u["code"] in seen:
            raise Refused("duplicate_unit")
        seen.add(u["code"])


def utc_time(v) -> datetime:
    """An RFC 3339 UTC time ending in Z, as a datetime; else invalid_time."""
    if not full(ISSUED_AT, v) or not real_datetime(v):
        raise Refused("invalid_time")
    return datetime.fromisoformat(v[:-1] + "+00:00")


def _level(v):
    if v is not None and v not in ("district", "province"):
        raise Refused("invalid_field")


def _rounds(v):
    if v is not None and (not is_int(v) or v not in (1, 2)):
        raise Refused("invalid_field")


def _deadlines(v):
    """An object of the three kinds (any of them), in season order."""
    if v is None:
        return
    if not isinstance(v, dict) or not set(v) <= set(KINDS):
        raise Refused("invalid_field")
    times = [utc_time(v[k]) for k in KINDS if k in v]
    if any(b < a for a, b in zip(times, times[1:], strict=False)):
        raise Refused("deadlines_out_of_order")


def _id_list(pattern, lo, code):
    def check(v):
        if v is None and lo == 0:
            return
        if not isinstance(v, list) or not lo <= len(v) <= 200 or len(set(map(str, v))) != len(v):
            raise Refused("invalid_field")
        for x in v:
            _pattern(pattern, code)(x)

    return check


def _file(v):
    if v is None:
        return
    if not isinstance(v, dict) or not {"sha256", "size", "media_type"} <= set(v) <= {
        "sha256",
        "size",
        "media_type",
        "filename",
    }:
        raise Refused("invalid_field")
    # 3.6: "Events written before these rules may hold any `file` value": replay
    # takes the hash as signed; `verify --data-dir` reports a bad one (evidence_missing)
    if not isinstance(v["sha256"], str):
        raise Refused("invalid_sha256")
    if not is_int(v["size"]) or v["size"] < 0 or not isinstance(v["media_type"], str):
        raise Refused("invalid_field")
    name = v.get("filename")
    if name is None:
        return
    if not isinstance(name, str) or not 1 <= len(name.encode("utf-8", "replace")) <= 255:
        raise Refused("invalid_filename")
    bad = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    nfkc = unicodedata.normalize("NFKC", name)
    if any(unicodedata.category(c) in bad for c in name) or any(
        s in n for s in "/\\" for n in (name, nfkc)
    ):
        raise Refused("invalid_filename")
    if name.strip() in (".", "..") or nfkc.strip() in (".", ".."):
        raise Refused("invalid_filename")


def _document(v):
    if v is None:
        return
    allowed = {"number", "date", "issuer", "section", "title"}
    if not isinstance(v, dict) or "number" not in v or not set(v) <= allowed:
        raise Refused("invalid_field")
    text(v["number"], 100)
    for k, limit in (("issuer", 200), ("section", 200), ("title", 1000)):
        _opt_text(limit)(v.get(k))
    d = v.get("date")
    if d is not None:
        if not full(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", d):
            raise Refused("invalid_date")
        try:
            date.fromisoformat(d)
        except ValueError as e:
            raise Refused("invalid_date") from e


SCORE_INPUTS = {
    "points": _opt_decimal,
    "numerator": _opt_decimal,
    "denominator": _opt_decimal,
    "done": _bool,
    "not_applicable": _bool,
}
WHERE = {"cycle": _pattern(CODE), "unit": _pattern(CODE)}
REASON = _opt_text(4000, ml=True)


def _text_value(value) -> None:
    if not isinstance(value, str):
        raise Refused("invalid_field")


FIELDS: dict[str, tuple[set[str], dict]] = {
    # type: (required members, {member: checker})
    "init_deployment": (
        {"origin", "log_key", "public_key", "display_name"},
        {
            "origin": lambda v: None,
            "log_key": lambda v: None,
            "public_key": public_key,
            "display_name": _opt_text(200),
            "clock_skew_seconds": lambda v: (
                None if v is None or (is_int(v) and v >= 1) else _raise("invalid_field")
            ),
        },
    ),
    "register_key": (
        {"key_id", "public_key", "role", "scope", "display_name"},
        {
            "key_id": _pattern(KEY_ID, "invalid_key_id"),
            "public_key": public_key,
            "role": lambda v: None if v in ROLES else _raise("invalid_role"),
            "scope": _pattern(SCOPE, "invalid_scope"),
            "display_name": _opt_text(200, trimmed=True),
        },
    ),
    "revoke_key": (
        {"key_id", "reason"},
        {"key_id": _pattern(KEY_ID, "invalid_key_id"), "reason": REASON},
    ),
    "rotate_key": (
        {"old_key_id", "key_id", "public_key"},
        {
            "old_key_id": _pattern(KEY_ID, "invalid_key_id"),
            "key_id": _pattern(KEY_ID, "invalid_key_id"),
            "public_key": public_key,
            "display_name": _opt_text(200, trimmed=True),
        },
    ),
    "publish_framework": (
        {"framework"},
        {"framework": lambda v: None if isinstance(v, dict) else _raise("invalid_field")},
    ),
    "open_cycle": (
        {"cycle", "authority", "province", "name", "framework", "year", "units"},
        {
            "cycle": _pattern(CODE),
            "authority": _pattern(CODE),
            "province": _pattern(CODE),
            "name": _opt_text(200),
            "framework": _pattern(FRAMEWORK_ID, "invalid_framework_id"),
            "year": _year,
            "units": _units,
            "level": _level,
            "rounds": _rounds,
            "deadlines": _deadlines,
        },
    ),
    "record_self_score": (
        {"cycle", "unit", "leaf"},
        {
            **WHERE,
            "leaf": _pattern(LEAF, "invalid_leaf"),
            "note": _opt_text(4000, ml=True),
            **SCORE_INPUTS,
        },
    ),
    "declare_not_applicable": (
        {"cycle", "unit", "leaf", "reason"},
        {**WHERE, "leaf": _pattern(LEAF, "invalid_leaf"), "reason": REASON},
    ),
    "attach_evidence": (
        {"cycle", "unit", "evidence_id", "leaves"},
        {
            **WHERE,
            "evidence_id": _pattern(EVIDENCE_ID, "invalid_evidence_id"),
            "leaves": _id_list(LEAF, 1, "invalid_leaf"),
            "file": _file,
            "document": _document,
            "description": _opt_text(4000, ml=True),
        },
    ),
    "withdraw_evidence": (
        {"cycle", "unit", "evidence_id", "reason"},
        {**WHERE, "evidence_id": _pattern(EVIDENCE_ID, "invalid_evidence_id"), "reason": REASON},
    ),
    "adjust_score": (
        {"cycle", "unit", "leaf", "reason"},
        {
            **WHERE,
            "leaf": _pattern(LEAF, "invalid_leaf"),
            "reason": REASON,
            "evidence_ids": _id_list(EVIDENCE_ID, 0, "invalid_evidence_id"),
            **SCORE_INPUTS,
        },
    ),
}
FIELDS["submit_assessment"] = (
    {"cycle", "unit", "digest", "self_total"},
    {**WHERE, "digest": _text_value, "self_total": _text_value},
)
FIELDS["withdraw_submission"] = ({"cycle", "unit", "reason"}, {**WHERE, "reason": REASON})


# -- the season (FORMATS.md 3.6, docs/SEASON.md) -------------------------------------
def _kind(v):
    if v not in KINDS:
        raise Refused("unknown_deadline")


def _merged_codes(v):
    if not isinstance(v, list) or not 2 <= len(v) <= 10_000:
        raise Refused("invalid_units")
    for x in v:
        _pattern(CODE)(x)
    if len(set(v)) != len(v):
        raise Refused("invalid_units")


def _into(v):
    _unit(v, "invalid_unit")


def _required_text(limit, code):
    def check(v):
        if not isinstance(v, str) or not v.strip():
            raise Refused(code)
        text(v, limit, ml=True)

    return check


def _confirm(v):
    if v is None:
        return
    _id_list(LEAF, 1, "invalid_leaf")(v)


def _evidence_required(v):
    if v is None or v == []:
        raise Refused("evidence_required")
    _id_list(EVIDENCE_ID, 1, "invalid_evidence_id")(v)


def _version(v):
    if not is_int(v) or not 1 <= v <= MAX_INT:
        raise Refused("invalid_field")


def _date(v):
    if not full(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v):
        raise Refused("invalid_date")
    try:
        date.fromisoformat(v)
    except ValueError as e:
        raise Refused("invalid_date") from e


LEAF_FIELD = {"leaf": _pattern(LEAF, "invalid_leaf")}
FIELDS.update(
    {
        "extend_deadline": (
            {"cycle", "deadline", "until", "reason"},
            {
                "cycle": _pattern(CODE),
                "deadline": _kind,
                "until": lambda v: utc_time(v) and None,
                "unit": lambda v: v is None or _pattern(CODE)(v),
                "reason": REASON,
            },
        ),
        "add_units": (
            {"cycle", "units", "reason"},
            {"cycle": _pattern(CODE), "units": _units, "reason": REASON},
        ),
        "merge_units": (
            {"cycle", "units", "into", "reason"},
            {"cycle": _pattern(CODE), "units": _merged_codes, "into": _into, "reason": REASON},
        ),
        "confirm_score": (
            {"cycle", "unit", "leaf"},
            {**WHERE, **LEAF_FIELD, "note": _opt_text(4000, ml=True)},
        ),
        "request_explanation": (
            {"cycle", "unit", "leaf"},
            {**WHERE, **LEAF_FIELD, "question": _required_text(4000, "question_required")},
        ),
        "answer_explanation": (
            {"cycle", "unit", "leaf"},
            {
                **WHERE,
                **LEAF_FIELD,
                "answer": _required_text(4000, "answer_required"),
                "evidence_ids": _id_list(EVIDENCE_ID, 0, "invalid_evidence_id"),
                **SCORE_INPUTS,
            },
        ),
        "submit_explanations": ({"cycle", "unit"}, dict(WHERE)),
        "close_appraisal": (
            {"cycle"},
            {
                "cycle": _pattern(CODE),
                "unit": lambda v: v is None or _pattern(CODE)(v),
                "confirm": _confirm,
            },
        ),
        "correct_score": (
            {"cycle", "unit", "leaf", "reason"},
            {
                **WHERE,
                **LEAF_FIELD,
                "reason": REASON,
                "evidence_ids": _evidence_required,
                **SCORE_INPUTS,
            },
        ),
        "propose_ranking": (
            {"cycle", "manifest"},
            {
                "cycle": _pattern(CODE),
                "manifest": lambda v: None if isinstance(v, dict) else _raise("invalid_field"),
            },
        ),
        "approve_ranking": (
            {"cycle", "version", "digest", "decision_number", "decision_date"},
            {
                "cycle": _pattern(CODE),
                "version": _version,
                "digest": _text_value,
                "decision_number": lambda v: text(v, 100),
                "decision_date": _date,
            },
        ),
        "publish_ranking": ({"cycle", "version"}, {"cycle": _pattern(CODE), "version": _version}),
    }
)


# -- oversight notes (FORMATS.md 3.6, docs/SEASON.md "Oversight notes") ---------------
NOTE_ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"


def _change(v):
    """The log index of a change: an integer >= 0 (JSON integers are bounded, 3.3)."""
    if v is not None and (not is_int(v) or not 0 <= v <= MAX_INT):
        raise Refused("invalid_field")


FIELDS.update(
    {
        "record_oversight_note": (
            {"cycle", "unit", "note_id", "text"},
            {
                **WHERE,
                # the document gives the pattern but no code for a malformed id
                "note_id": _pattern(NOTE_ID, "invalid_note_id"),
                "text": _required_text(4000, "note_required"),
                "leaf": lambda v: v is None or _pattern(LEAF, "invalid_leaf")(v),
                "change": _change,
            },
        ),
        "answer_oversight_note": (
            {"cycle", "unit", "note_id", "answer"},
            {
                **WHERE,
                # the document names no pattern here ("a note of this assessment");
                # an id no note can have is note_not_found either way
                "note_id": _pattern(NOTE_ID, "note_not_found"),
                # "at most 4,000 characters"; the row does not say whether line
                # breaks are allowed (the note's `text` says so): read as a
                # multi-line field like answer_explanation's `answer` (section 1)
                "answer": _required_text(4000, "answer_required"),
            },
        ),
    }
)
COMMON = {"type", "id", "issued_at", "actor", "expected_version"}


def _raise(code: str):
    raise Refused(code)


def check_fields(cmd: dict) -> None:
    """Section 3.2 common fields, then the type's members (3.6)."""
    kind = cmd.get("type")
    if kind not in FIELDS:
        raise Refused("unknown_command")
    if not full(COMMAND_ID, cmd.get("id")) or not full(KEY_ID, cmd.get("actor")):
        raise Refused("malformed_command")
    at = cmd.get("issued_at")
    if not full(ISSUED_AT, at) or not real_datetime(at):
        raise Refused("malformed_command")
    ev = cmd.get("expected_version")
    if ev is not None and not is_int(ev):
        raise Refused("malformed_command")
    required, checks = FIELDS[kind]
    unknown = set(cmd) - COMMON - set(checks)
    if unknown:
        raise Refused("unknown_field")
    for name in required:
        if cmd.get(name) is None:
            raise Refused("missing_field")
    for name, check in checks.items():
        check(cmd.get(name))
    if kind == "attach_evidence" and cmd.get("file") is None and cmd.get("document") is None:
        raise Refused("invalid_field")
