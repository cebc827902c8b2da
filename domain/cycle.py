"""An assessment cycle (kỳ đánh giá): a framework version, a year, an appraising
authority and the units (communes) scored in it."""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Target
from domain.errors import Problems
from domain.ids import CODE as CODE_RULE
from domain.ids import id_problem
from domain.text import NAME, add_text_problems

CYCLE_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/cycles")
CODE = CODE_RULE.pattern  # match with fullmatch
MAX_UNITS = 10_000


@lru_cache(maxsize=4096)
def cycle_aggregate_id(cycle: str) -> UUID:
    return uuid5(CYCLE_NAMESPACE, cycle)


def check_units(units: object, problems: Problems) -> list[dict]:
    """Units are [{code, name}] (1 to 10,000), codes unique lowercase slugs, names text."""
    if not isinstance(units, list) or not 1 <= len(units) <= MAX_UNITS:
        problems.add(
            "invalid_units",
            f"Cần danh sách từ 1 đến {MAX_UNITS} đơn vị (xã).",
            f"units must be a list of 1 to {MAX_UNITS} units.",
            field="units",
        )
        return []
    seen: set[str] = set()
    for i, u in enumerate(units):
        if not isinstance(u, dict) or set(u) != {"code", "name"}:
            problems.add(
                "invalid_unit",
                f"Đơn vị thứ {i + 1} gồm đúng code và name.",
                f"Unit {i + 1} must hold exactly code and name.",
                field=f"units[{i}]",
            )
            continue
        code, name = u["code"], u["name"]
        found = id_problem(code, f"units[{i}].code", CODE_RULE)
        if found is not None:
            problems.items.append(found)
        elif code in seen:
            problems.add(
                "duplicate_unit",
                f"Mã đơn vị '{code}' bị trùng.",
                f"Unit code '{code}' appears twice.",
                field=f"units[{i}].code",
            )
        else:
            seen.add(code)
        add_text_problems(problems, name, f"units[{i}].name", NAME, empty_code="invalid_unit_name")
    return units  # type: ignore[return-value]


class Cycle(Aggregate):
    @staticmethod
    def create_id(cycle: str) -> UUID:
        return cycle_aggregate_id(cycle)

    @event("Opened")
    def __init__(
        self,
        cycle: str,
        name: str,
        framework: str,
        year: int,
        authority: str,
        province: str,
        units: list,
        signed: dict,
    ):
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
