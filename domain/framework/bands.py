"""Classification bands (xếp loại): which group an index falls into.

Decision 4203 Article 8 is the default; other provinces use other bands, so the
bands belong to the framework. A band holds from its minimum (inclusive) up to
the next band's minimum (exclusive); the lowest band must start at 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import DomainError, Problem
from domain.framework.decimals import canonical, parse_decimal
from domain.framework.problems import failed, problem

_BAND_CODE = re.compile(r"^[a-z][a-z0-9_]*$")

KNOWN_NAMES: dict[str, tuple[str, str]] = {
    "xuat_sac": ("Xuất sắc", "Excellent"),
    "tot": ("Tốt", "Good"),
    "kha": ("Khá", "Fair"),
    "trung_binh": ("Trung bình", "Average"),
    "yeu": ("Yếu", "Weak"),
    "thap": ("Thấp", "Low"),
}


@dataclass(frozen=True)
class Band:
    """One group: `code` (stable, snake_case), from `minimum` points of the index."""

    code: str
    minimum: Decimal
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Bands:
    """Bands ordered from the highest minimum down; validated on construction."""

    items: tuple[Band, ...]

    def __post_init__(self) -> None:
        problems = _problems(self.items)
        if problems:
            raise failed(problems)
        ordered = tuple(sorted(self.items, key=lambda b: b.minimum, reverse=True))
        object.__setattr__(self, "items", ordered)

    def classify(self, value: Decimal) -> Band:
        """The band `value` (an index or total) falls into: highest minimum <= value."""
        for band in self.items:
            if value >= band.minimum:
                return band
        return self.items[-1]

    @classmethod
    def parse(cls, text: str) -> Bands:
        """Bands from "xuat_sac=90;tot=80;kha=70;trung_binh=50;yeu=0".

        Each part is code=minimum, optionally followed by :Vietnamese name:English
        name ("thap=0:Thấp:Low"); known codes get their names by default.
        """
        items, problems = [], []
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            code, sep, rest = part.partition("=")
            minimum_text, *names = rest.split(":")
            code = code.strip()
            try:
                if not sep:
                    raise ValueError
                minimum = parse_decimal(minimum_text)
            except (ValueError, DomainError):
                problems.append(
                    _invalid(
                        f"phần '{part}' không có dạng mã=điểm", f"part '{part}' is not code=minimum"
                    )
                )
                continue
            vi, en = KNOWN_NAMES.get(code, (code, code))
            if names:
                vi = names[0].strip() or vi
                en = names[1].strip() if len(names) > 1 and names[1].strip() else en
            items.append(Band(code, minimum, vi, en))
        if problems:
            raise failed(problems)
        return cls(tuple(items))

    def to_text(self) -> str:
        """The inverse of `parse`, names included."""
        return ";".join(
            f"{b.code}={canonical(b.minimum)}:{b.name_vi}:{b.name_en}" for b in self.items
        )


def _invalid(reason_vi: str, reason_en: str) -> Problem:
    return problem(
        "invalid_classification_bands", field="bands", reason_vi=reason_vi, reason_en=reason_en
    )


def _problems(items: tuple[Band, ...]) -> list[Problem]:
    out: list[Problem] = []
    if not items:
        return [_invalid("không có nhóm nào", "there are no bands")]
    codes = [b.code for b in items]
    for code in codes:
        if not _BAND_CODE.fullmatch(code):
            out.append(
                _invalid(
                    f"mã nhóm '{code}' phải viết thường, không dấu (ví dụ tot)",
                    f"band code '{code}' must be snake_case ASCII (e.g. tot)",
                )
            )
    if len(set(codes)) != len(codes):
        out.append(_invalid("mã nhóm bị trùng", "band codes repeat"))
    minima = [b.minimum for b in items]
    if len(set(minima)) != len(minima):
        out.append(_invalid("hai nhóm có cùng điểm sàn", "two bands share a minimum"))
    if any(m < 0 or m > 100 for m in minima):
        out.append(_invalid("điểm sàn phải từ 0 đến 100", "minima must lie in 0..100"))
    if minima and min(minima) != 0:
        out.append(_invalid("nhóm thấp nhất phải bắt đầu từ 0", "the lowest band must start at 0"))
    return out


DECISION_4203 = Bands(
    (
        Band("xuat_sac", Decimal(90), "Xuất sắc", "Excellent"),
        Band("tot", Decimal(80), "Tốt", "Good"),
        Band("kha", Decimal(70), "Khá", "Fair"),
        Band("trung_binh", Decimal(50), "Trung bình", "Average"),
        Band("yeu", Decimal(0), "Yếu", "Weak"),
    )
)
"""Decision 4203/QĐ-UBND (Thái Nguyên, 2021) Article 8: the default bands."""
