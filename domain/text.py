"""Free text in signed commands: bounded, printable, NFC, kept exactly as signed.

A signed command is stored for ever and shown to people who did not write it,
so its text must be what it looks like: no control characters that could break
a line, a header or a terminal, no bidirectional overrides that make text read
differently from its bytes, one Unicode form (NFC) so equal names are equal
strings. The text is never rewritten (the signature covers it): what breaks a
rule is refused, naming the field. Lengths are in Unicode code points.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.errors import Problem, Problems, ValidationFailed

LF = "\n"
# U+2028/2029 break lines like LF; U+202A-202E (embeddings, overrides) and
# U+2066-2069 (isolates) reorder what is displayed.
_FORMAT_CONTROLS = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class TextRule:
    """How long a field may be and whether it may hold line breaks (LF only)."""

    max_chars: int
    multiline: bool = False


# The rules, by kind of field (docs/FORMATS.md section 1 lists where each applies).
CODE_TEXT = TextRule(32)  # a printed label such as "I" or "1.1.1"
NAME = TextRule(200)  # people, units, cycles, issuers, band names
TITLE = TextRule(1000)  # criterion titles, document titles (trích yếu), sources
NOTE = TextRule(4000, multiline=True)  # reasons, notes, descriptions
FRAMEWORK_NOTE = TextRule(4000)  # a criterion's note in a framework (one line)


def forbidden(char: str, rule: TextRule) -> bool:
    """True for a character no signed text may hold (LF only in multi-line text)."""
    if char == LF:
        return not rule.multiline
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in _FORMAT_CONTROLS


# `forbidden` as one character class per kind of rule, so a text is scanned in C
# (every signed text is checked by the server and again by verify on each event).
# tests/unit/test_text_and_id_rules.py checks both say the same for any text.
_CONTROLS = "\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_FIRST_FORBIDDEN = {
    False: re.compile(f"[\n{_CONTROLS}]"),
    True: re.compile(f"[{_CONTROLS}]"),
}


def first_forbidden(value: str, rule: TextRule) -> int | None:
    """The index of the first character of `value` that `forbidden` refuses, or None."""
    found = _FIRST_FORBIDDEN[rule.multiline].search(value)
    return None if found is None else found.start()


def text_problems(
    value: object,
    field: str,
    rule: TextRule,
    *,
    required: bool = True,
    empty_code: str = "text_required",
) -> list[Problem]:
    """Every fault of one text field; [] when it is acceptable (None when not required)."""
    if value is None:
        if not required:
            return []
        return [Problem(empty_code, f"Cần điền '{field}'.", f"'{field}' is required.", field=field)]
    if not isinstance(value, str):
        return [
            Problem(
                "invalid_text",
                f"'{field}' phải là chuỗi ký tự.",
                f"'{field}' must be a string.",
                field=field,
            )
        ]
    out: list[Problem] = []
    if len(value) > rule.max_chars:
        out.append(
            Problem(
                "text_too_long",
                f"'{field}' dài {len(value)} ký tự, tối đa {rule.max_chars}.",
                f"'{field}' is {len(value)} characters long; at most {rule.max_chars}.",
                field=field,
            )
        )
        return out  # nothing more is read from an oversized value
    bad = first_forbidden(value, rule)
    if bad is not None:
        shown = f"U+{ord(value[bad]):04X}"
        allowed_vi = " (chỉ cho phép xuống dòng LF)" if rule.multiline else ""
        allowed_en = " (only LF line breaks are allowed)" if rule.multiline else ""
        out.append(
            Problem(
                "control_character",
                f"'{field}' chứa ký tự điều khiển {shown} ở vị trí {bad + 1}{allowed_vi}.",
                f"'{field}' holds the control character {shown} at position {bad + 1}{allowed_en}.",
                field=field,
            )
        )
    elif not unicodedata.is_normalized("NFC", value):
        out.append(
            Problem(
                "text_not_nfc",
                f"'{field}' chưa ở dạng Unicode NFC (dựng sẵn); hãy chuẩn hóa NFC trước khi ký.",
                f"'{field}' is not in Unicode NFC; normalise it to NFC before signing.",
                field=field,
            )
        )
    if required and not value.strip():
        out.append(
            Problem(empty_code, f"Cần điền '{field}'.", f"'{field}' is required.", field=field)
        )
    return out


def check_text(
    value: object,
    field: str,
    rule: TextRule,
    *,
    required: bool = True,
    empty_code: str = "text_required",
) -> None:
    """Raises ValidationFailed when `value` breaks `rule`."""
    problems = text_problems(value, field, rule, required=required, empty_code=empty_code)
    if problems:
        raise ValidationFailed(problems)


def add_text_problems(
    problems: Problems,
    value: object,
    field: str,
    rule: TextRule,
    *,
    required: bool = True,
    empty_code: str = "text_required",
) -> None:
    problems.items.extend(
        text_problems(value, field, rule, required=required, empty_code=empty_code)
    )
