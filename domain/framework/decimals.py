"""Exact numbers as criteria tables print them: "0,5" or "0.5", at most 4 places.

Binary floats are never used: a score is a Decimal from input to total. Sums of
4-place numbers are exact; the only divisions (ratios, percentages, the index)
run in `ARITHMETIC`, a fixed context, so results never depend on a caller's
global decimal context. Rounding happens for display only, except where a rule
says otherwise (ratio_proportional rounds half up to 4 places).
"""

from __future__ import annotations

import functools
import re
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
