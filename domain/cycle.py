"""An assessment cycle (kỳ đánh giá): a framework version, a year, an appraising
authority and the units (communes) scored in it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Target
from domain.errors import DomainError, Problems
from domain.ids import CODE as CODE_RULE
from domain.ids import id_problem
from domain.schedule import DEFAULT_ROUNDS, UNIT_TYPES, deadline_passed, parse_time
from domain.text import NAME, add_text_problems

CYCLE_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/cycles")
CODE = CODE_RULE.pattern  # match with fullmatch
MAX_UNITS = 10_000
UNIT_MEMBERS = frozenset({"code", "name", "type"})


@lru_cache(maxsize=4096)
def cycle_aggregate_id(cycle: str) -> UUID:
    return uuid5(CYCLE_NAMESPACE, cycle)


def check_units(
    units: object, problems: Problems, field: str = "units", taken: frozenset[str] = frozenset()
) -> list[dict]:
    """Units are [{code, name, type?}] (1 to 10,000), codes unique lowercase slugs
    (and not among `taken`), names text, type one of UNIT_TYPES when given."""
    if not isinstance(units, list) or not 1 <= len(units) <= MAX_UNITS:
        problems.add(
            "invalid_units",
            f"Cần danh sách từ 1 đến {MAX_UNITS} đơn vị (xã).",
            f"units must be a list of 1 to {MAX_UNITS} units.",
            field=field,
        )
        return []
    seen: set[str] = set(taken)
    for i, u in enumerate(units):
        if not isinstance(u, dict) or not {"code", "name"} <= set(u) <= UNIT_MEMBERS:
            problems.add(
                "invalid_unit",
                f"Đơn vị thứ {i + 1} gồm code, name và có thể có type.",
                f"Unit {i + 1} must hold code, name and optionally type.",
                field=f"{field}[{i}]",
            )
            continue
        code, name = u["code"], u["name"]
        found = id_problem(code, f"{field}[{i}].code", CODE_RULE)
        if found is not None:
            problems.items.append(found)
        elif code in seen:
            problems.add(
                "duplicate_unit",
                f"Mã đơn vị '{code}' bị trùng.",
                f"Unit code '{code}' appears twice.",
                field=f"{field}[{i}].code",
            )
        else:
            seen.add(code)
        add_text_problems(
            problems, name, f"{field}[{i}].name", NAME, empty_code="invalid_unit_name"
        )
        if "type" in u and u["type"] not in UNIT_TYPES:
            problems.add(
                "invalid_unit_type",
                f"Loại đơn vị phải là một trong: {', '.join(UNIT_TYPES)}.",
                f"The unit type must be one of: {', '.join(UNIT_TYPES)}.",
                field=f"{field}[{i}].type",
            )
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
        # The schedule (Scheduled): a cycle opened without one has two rounds
        # and no deadline, so nothing in it is ever late.
        self.level: str | None = None
        self.rounds = DEFAULT_ROUNDS
        self.deadlines: dict[str, str] = {}
        self.unit_deadlines: dict[str, dict[str, str]] = {}  # unit -> kind -> time
        self.merged: dict[str, str] = {}  # unit -> the unit it was merged into

    # Event handlers replace containers, never change them in place: verify
    # keeps a shallow copy of the cycle after each of its commands and reads
    # the copy that stood at a command's log position (audit/deployment_pass.py).

    @event("Scheduled")
    def _scheduled(self, level: str | None, rounds: int, deadlines: dict, command: dict) -> None:
        # `command` names the open_cycle command whose signed copy opens the run.
        self.level = level
        self.rounds = rounds
        self.deadlines = dict(deadlines)

    def schedule(self, level: str | None, rounds: int, deadlines: dict, command: dict) -> None:
        self._scheduled(level=level, rounds=rounds, deadlines=deadlines, command=command)

    def deadline(self, kind: str, unit: str | None = None) -> datetime | None:
        """The deadline of that kind for the unit (its own extension, else the cycle's)."""
        text = None
        if unit is not None:
            text = self.unit_deadlines.get(unit, {}).get(kind)
        if text is None:
            text = self.deadlines.get(kind)
        return None if text is None else parse_time(text, kind)

    def check_deadline(self, kind: str, unit: str | None, issued_at: datetime) -> None:
        """Refuses a command signed after the deadline (deadline_passed, naming it)."""
        due = self.deadline(kind, unit)
        if due is not None and issued_at > due:
            raise deadline_passed(kind, due, issued_at, unit)

    def unit_codes(self) -> frozenset[str]:
        # Asked on every command and read; memoized per units list (a new list
        # replaces the old one when units are added).
        memo = self.__dict__.get("_unit_codes")
        if memo is None or memo[0] is not self.units:
            memo = self.__dict__["_unit_codes"] = (
                self.units,
                frozenset(u["code"] for u in self.units),
            )
        return memo[1]

    def check_active(self, unit: str) -> None:
        """Refuses a command on a unit merged into another (merge_units): its
        history stays readable, its commands go to the unit it became."""
        into = self.merged.get(unit)
        if into is not None:
            raise DomainError(
                "unit_merged",
                f"Đơn vị {unit} đã được sáp nhập vào {into}.",
                f"Unit {unit} was merged into {into}.",
                field="unit",
                status=409,
            )

    def unit_type(self, unit: str) -> str | None:
        for u in self.units:
            if u["code"] == unit:
                return u.get("type")
        return None

    def target(self, unit: str | None = None) -> Target:
        return Target(province=self.province, authority=self.authority, commune=unit)
