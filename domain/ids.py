"""Identifiers in signed commands: short ASCII slugs, checked before anything is looked up.

An id is echoed in errors, used in URLs, file names and keys of the read model,
so each kind has one bounded ASCII pattern. Patterns are matched whole
(`fullmatch`: a trailing newline is not ignored as `$` would).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import Problem, ValidationFailed


@dataclass(frozen=True)
class IdRule:
    name: str
    pattern: re.Pattern[str]
    form_vi: str
    form_en: str


# cycles, units, authorities, provinces, scope codes
CODE = IdRule(
    "code",
    re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}"),
    "chữ thường a-z, số, - _ . (tối đa 64 ký tự, bắt đầu bằng chữ hoặc số)",
    "lowercase a-z, digits, - _ . (at most 64, starting with a letter or digit)",
)
EVIDENCE_ID = IdRule(
    "evidence_id",
    re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"),
    "chữ, số và . _ : - (tối đa 64 ký tự)",
    "letters, digits and . _ : - (at most 64)",
)
NOTE_ID = IdRule(
    "note_id",
    re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"),
    "chữ, số và . _ : - (tối đa 64 ký tự)",
    "letters, digits and . _ : - (at most 64)",
)
# a criterion code as a framework stores it: "1", "1.2", "7.2.4.1"
LEAF = IdRule(
    "leaf",
    re.compile(r"[1-9][0-9]{0,3}(?:\.[1-9][0-9]{0,3}){0,7}"),
    "mã tiêu chí dạng 1.1.1",
    "a criterion code such as 1.1.1",
)
KEY_ID = IdRule(
    "key_id",
    re.compile(r"pk_[a-z2-7]{32}"),
    "mã khóa pk_ và 32 ký tự a-z, 2-7",
    "pk_ and 32 characters a-z, 2-7",
)
FRAMEWORK_ID = IdRule(
    "framework_id",
    re.compile(r"(?=.{1,74}\Z)[a-z0-9]+(?:-[a-z0-9]+)*@[1-9][0-9]{0,8}"),
    "mã bộ tiêu chí dạng ten-bo-tieu-chi@1",
    "a framework id such as some-slug@1",
)
SLUG = IdRule(
    "slug",
    re.compile(r"(?=.{1,64}\Z)[a-z0-9]+(?:-[a-z0-9]+)*"),
    "chữ thường không dấu, số và dấu gạch ngang (tối đa 64 ký tự)",
    "lowercase ASCII letters, digits and hyphens (at most 64)",
)
BAND_CODE = IdRule(
    "band_code",
    re.compile(r"[a-z][a-z0-9_]{0,31}"),
    "chữ thường a-z, số và _ (tối đa 32 ký tự)",
    "lowercase a-z, digits and _ (at most 32)",
)
_MAX_ID_LENGTH = 128  # no pattern above allows more; also bounds what an error echoes


def id_problem(value: object, field: str, rule: IdRule) -> Problem | None:
    if isinstance(value, str) and len(value) <= _MAX_ID_LENGTH and rule.pattern.fullmatch(value):
        return None
    shown = _shown(value)
    return Problem(
        f"invalid_{rule.name}",
        f"'{field}' không hợp lệ ({shown}); dạng đúng: {rule.form_vi}.",
        f"'{field}' is not valid ({shown}); expected {rule.form_en}.",
        field=field,
    )


def check_id(value: object, field: str, rule: IdRule) -> str:
    """`value` if it is a valid id of this kind; ValidationFailed otherwise."""
    found = id_problem(value, field, rule)
    if found is not None:
        raise ValidationFailed([found])
    assert isinstance(value, str)
    return value


def _shown(value: object) -> str:
    """The value as an error may echo it: short, escaped, never the whole of a huge input."""
    if not isinstance(value, str):
        return type(value).__name__ if value is not None else "null"
    text = value if len(value) <= 40 else value[:40] + "…"
    return ascii(text)
