"""Value conventions of the read model: exact decimal text, JSON text, UTC time.

Decimals are stored as their canonical text ("2.935"), never as REAL; where a
table is ordered by a number it also holds an INTEGER key scaled by a power of
ten and floored, so SQLite sorts and ranks exactly. JSON columns hold compact
JSON with sorted keys, so equal values are equal text and digests are stable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from domain.framework import canonical, display

TOTAL_SCALE = 4  # totals have at most 4 places: the key is exact
INDEX_SCALE = 12  # the index is a quotient: floored at 12 places
_ZERO = timedelta(0)


def jdump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def jload(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def utc_text(moment: datetime) -> str:
    """RFC 3339 UTC with Z, always six fractional digits (as command timestamps are)."""
    if moment.utcoffset() != _ZERO:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_CANONICAL: dict[Decimal, str] = {}


def dec_text(value: Decimal | None) -> str | None:
    """canonical(value), remembered: scores repeat a few values many times."""
    if value is None:
        return None
    found = _CANONICAL.get(value)
    if found is None:
        if len(_CANONICAL) > 200_000:
            _CANONICAL.clear()
        found = _CANONICAL[value] = canonical(value)
    return found


def scaled_key(value: Decimal | None, places: int) -> int | None:
    """floor(value x 10^places) as an integer sort key (None stays None)."""
    if value is None:
        return None
    return int((value.scaleb(places)).to_integral_value(rounding=ROUND_FLOOR))


def shown(text: str | None) -> str | None:
    """The 2-place display string of an exact decimal text (half up)."""
    return None if text is None else display(Decimal(text))


def plain_rows(cur: Any, sql: str, params: tuple | list = ()) -> list[tuple]:
    """All rows of one query as plain tuples, in the read transaction of `cur` (a
    second cursor of its connection): thousands of named rows cost tens of ms."""
    raw = getattr(cur, "sqlite_cursor", cur).connection.cursor()
    raw.row_factory = None
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()
