"""Exact numbers as criteria tables print them: "0,5" or "0.5", at most 4 places.

Tables are read leniently (`parse_decimal`); signed data is not: a decimal in a
command is one exact ASCII text, the one `canonical` writes (`parse_exact`).

Binary floats are never used: a score is a Decimal from input to total. Sums of
4-place numbers are exact; the only divisions (ratios, percentages, the index)
run in `ARITHMETIC`, a fixed context, so results never depend on a caller's
global decimal context. Rounding happens for display only, except where a rule
says otherwise (ratio_proportional rounds half up to 4 places).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import ParamSpec, TypeVar

from domain.framework.problems import error

MAX_PLACES = 4
ARITHMETIC = Context(prec=34, rounding=ROUND_HALF_EVEN)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `function` in ARITHMETIC, whatever decimal context the caller has set."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(ARITHMETIC):
            return function(*args, **kwargs)

    return wrapper


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$")
_SPACES = "\u00a0\u202f\u2007 \t\r\n"


def places(value: Decimal) -> int:
    """Decimal places the value really needs (trailing zeros do not count)."""
    if value == 0:
        return 0
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def parse_decimal(value: str | int | Decimal) -> Decimal:
    """A Decimal from "0,5", "0.5", "10", an int or a Decimal; at most 4 places.

    Raises DomainError `not_a_number` or `too_many_decimals`.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("floats are never scores; pass a string or a Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise error("not_a_number", value=str(value))
        number = value
    else:
        text = value.strip(_SPACES)
        if not _NUMBER.match(text):
            raise error("not_a_number", value=value)
        number = Decimal(text.replace(",", "."))
    if places(number) > MAX_PLACES:
        raise error("too_many_decimals", value=str(value))
    return number


# The canonical text: ASCII digits, no sign but "-", no leading zeros, a point only
# before a fraction that does not end in 0, at most 4 places, at most 15 digits
# before the point (far above any score or count, inside exact arithmetic).
_EXACT = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{0,3}[1-9])?")
MAX_INTEGER_DIGITS = 15


def parse_exact(value: object, field: str | None = None) -> Decimal:
    """The Decimal of a decimal string exactly as `canonical` writes it ("0.5", "12").

    Anything else ("0,5", "0.50", ".5", "+1", "1e0", " 1", "-0", non-ASCII digits)
    is refused, never rewritten: the text is signed. The error shows the accepted
    form when the intended number is clear. Raises DomainError `invalid_decimal`,
    `decimal_not_canonical`, `too_many_decimals` or `decimal_too_large`.
    """
    if isinstance(value, str) and len(value) <= 64 and _EXACT.fullmatch(value) and value != "-0":
        return Decimal(value)
    shown = _shown(value)
    intended = _intended(value)
    if intended is None:
        raise error("invalid_decimal", field=field, value=shown)
    if places(intended) > MAX_PLACES:
        raise error("too_many_decimals", field=field, value=shown)
    if intended.adjusted() >= MAX_INTEGER_DIGITS:
        raise error("decimal_too_large", field=field, value=shown, digits=MAX_INTEGER_DIGITS)
    raise error("decimal_not_canonical", field=field, value=shown, accepted=canonical(intended))


def _intended(value: object) -> Decimal | None:
    """What a person most likely meant by a decimal-looking text, if anything."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c
        for c in unicodedata.normalize("NFKC", value)
    )
    text = text.strip(_SPACES).replace(",", ".")
    if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", text):
        return None
    number = Decimal(text)
    return number if number.is_finite() else None


def _shown(value: object) -> str:
    if not isinstance(value, str):
        return "null" if value is None else type(value).__name__
    text = value if len(value) <= 40 else value[:40] + "…"
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def canonical(value: Decimal) -> str:
    """The one exact string of a Decimal: no exponent, no trailing zeros ("0.25", "10")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def round_half_up(value: Decimal, digits: int = MAX_PLACES) -> Decimal:
    """Round half up to `digits` places (0.12345 -> 0.1235)."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=ARITHMETIC)


def display(value: Decimal | None, digits: int = 2) -> str:
    """For printing only: half up to 2 places ("2.935" -> "2.94"). Never feed back."""
    if value is None:
        return "-"
    return format(round_half_up(value, digits), "f")


def divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator in the fixed context (34 significant digits)."""
    return ARITHMETIC.divide(numerator, denominator)
