"""Vietnamese text as tables hold it: any Unicode normalisation in, NFC out."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """NFC, whitespace runs (line breaks in a cell included) collapsed to one space."""
    if text is None:
        return ""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", str(text))).strip()


def fold(text: str) -> str:
    """For matching names only: lower case, no diacritics ("Điểm tối đa" -> "diem toi da")."""
    decomposed = unicodedata.normalize("NFD", clean(text).casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
