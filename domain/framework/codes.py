"""Criterion codes: "1", "1.1", "7.2.4.1"; areas may be printed as Roman numerals.

Tables write codes loosely ("1.", " 1.1 ", "II", "01.2"); `normalise_code`
turns each into one canonical dotted form so the tree can be checked.
"""

from __future__ import annotations

import re
import unicodedata

from domain.framework.problems import error

_ROMAN_VALUES = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)
_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


def int_to_roman(number: int) -> str:
    """12 -> "XII"."""
    if number < 1:
        raise ValueError("Roman numerals start at 1")
    out = []
    for value, letters in _ROMAN_VALUES:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def roman_to_int(text: str) -> int | None:
    """ "VIII" -> 8; None unless `text` is a well-formed upper-case Roman numeral.

    Lower case is refused: "i", "v", "x" in tables are list markers, not areas.
    """
    upper = text.strip()
    if not upper or not upper.isupper() or not _ROMAN.match(upper):
        return None
    total, rest = 0, upper
    for value, letters in _ROMAN_VALUES:
        while rest.startswith(letters):
            total += value
            rest = rest[len(letters) :]
    return total


def normalise_code(raw: str) -> str:
    """The canonical code: "1." -> "1", "II" -> "2", "II.1" -> "2.1", "01.2" -> "1.2".

    Raises DomainError `invalid_code`.
    """
    text = unicodedata.normalize("NFC", str(raw)).strip().replace(" ", "").rstrip(".")
    segments = text.split(".") if text else []
    if not segments:
        raise error("invalid_code", value=raw)
    numbers = []
    for position, segment in enumerate(segments):
        if segment.isdecimal() and segment.isascii():
            number = int(segment)
        elif position == 0 and (roman := roman_to_int(segment)) is not None:
            number = roman
        else:
            raise error("invalid_code", value=raw)
        if number < 1:
            raise error("invalid_code", value=raw)
        numbers.append(str(number))
    return ".".join(numbers)


def parent_code(code: str) -> str | None:
    """ "1.2.3" -> "1.2"; an area ("1") has no parent."""
    head, _, _ = code.rpartition(".")
    return head or None


def code_key(code: str) -> tuple[int, ...]:
    """Sort key in table order: 3.2.9 before 3.2.10."""
    return tuple(int(part) for part in code.split("."))


def depth(code: str) -> int:
    """1 for an area, 2 for a criterion, 3 for a sub-criterion, and so on."""
    return code.count(".") + 1


def default_label(code: str) -> str:
    """How a table prints the code when no label is given: Roman numerals for areas."""
    return int_to_roman(int(code)) if depth(code) == 1 else code
