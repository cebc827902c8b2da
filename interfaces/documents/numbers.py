"""Numbers as Vietnamese readers write them: a comma before the decimals
("0,25", "78,046"), no exponent, exactly the places the value has (a
percentage at its 2); and back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_VI_NUMBER = re.compile(r"-?[0-9]{1,15}(,[0-9]{1,12})?")


def vi(value: Decimal, places: int | None = None) -> str:
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
        text = format(value, "f")
    else:
        text = format(value.normalize(), "f")
        if text in ("-0", "+0"):
            text = "0"
    return text.replace(".", ",")


def parse_vi(text: str) -> Decimal | None:
    """The number a cell's text shows ("0,25"), else None."""
    text = text.strip()
    if not _VI_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def from_cell(value: object) -> Decimal | None:
    """An .xlsx number as the decimal it was written from. Excel keeps doubles;
    the shortest text that reads back as the same double (repr) is the decimal
    written, for the at most 4 places and 15 digits points have."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal):
        return value
    return None
