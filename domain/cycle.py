"""An assessment cycle (kỳ đánh giá): a framework version, a year, an appraising
authority and the units (communes) scored in it."""

from __future__ import annotations

import re
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Target
from domain.errors import Problems

CYCLE_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/cycles")
CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@lru_cache(maxsize=4096)
def cycle_aggregate_id(cycle: str) -> UUID:
    return uuid5(CYCLE_NAMESPACE, cycle)


def check_units(units: object, problems: Problems) -> list[dict]:
    """Units are [{code, name}], codes unique and lowercase slugs."""
    if not isinstance(units, list) or not units:
        problems.add("invalid_units", "Cần danh sách đơn vị (xã) không rỗng.",
                     "units must be a non-empty list.", field="units")
        return []
    seen: set[str] = set()
    for i, u in enumerate(units):
        code = u.get("code") if isinstance(u, dict) else None
        name = u.get("name") if isinstance(u, dict) else None
        if not isinstance(code, str) or not CODE.match(code):
            problems.add("invalid_unit_code", f"Mã đơn vị thứ {i + 1} không hợp lệ.",
                         f"Unit {i + 1} has an invalid code.", field=f"units[{i}].code")
        elif code in seen:
            problems.add("duplicate_unit", f"Mã đơn vị '{code}' bị trùng.",
                         f"Unit code '{code}' appears twice.", field=f"units[{i}].code")
        else:
            seen.add(code)
        if not isinstance(name, str) or not name.strip():
            problems.add("invalid_unit_name", f"Đơn vị thứ {i + 1} cần tên.",
                         f"Unit {i + 1} needs a name.", field=f"units[{i}].name")
    return units  # type: ignore[return-value]


class Cycle(Aggregate):
    @staticmethod
    def create_id(cycle: str) -> UUID:
        return cycle_aggregate_id(cycle)

    @event("Opened")
    def __init__(self, cycle: str, name: str, framework: str, year: int, authority: str,
                 province: str, units: list, signed: dict):
        self.cycle = cycle
        self.name = name
        self.framework = framework
        self.year = year
        self.authority = authority
        self.province = province
        self.units = units

    def unit_codes(self) -> frozenset[str]:
        # Asked on every command and read; a cycle's units never change once opened.
        codes = self.__dict__.get("_unit_codes")
        if codes is None:
            codes = self.__dict__["_unit_codes"] = frozenset(u["code"] for u in self.units)
        return codes

    def target(self, unit: str | None = None) -> Target:
        return Target(province=self.province, authority=self.authority, commune=unit)
