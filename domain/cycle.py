"""An assessment cycle (kỳ đánh giá): a framework version, a year, an appraising
authority and the units (communes) scored in it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Target
from domain.errors import DomainError, Problems
from domain.ids import CODE as CODE_RULE
from domain.ids import LEAF as LEAF_RULE
from domain.ids import id_problem
from domain.schedule import (
    DEADLINES,
    DEFAULT_ROUNDS,
    UNIT_TYPES,
    check_kind,
    deadline_passed,
    parse_time,
)
from domain.text import NAME, NOTE, add_text_problems

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
        # The cycle this one is compared with (PreviousLinked); None: not linked.
        self.previous: dict | None = None

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
        """The deadline of that kind for the unit: its own extension, or the
        cycle's when that is later (an extension never ends up earlier than a
        later extension of the whole cycle)."""
        text = self.deadlines.get(kind)
        due = None if text is None else parse_time(text, kind)
        own = None if unit is None else self.unit_deadlines.get(unit, {}).get(kind)
        if own is not None:
            mine = parse_time(own, kind)
            if due is None or mine > due:
                due = mine
        return due

    def deadlines_for(self, unit: str | None = None) -> dict[str, datetime]:
        """Every deadline the unit (or the cycle) has, by kind, in season order."""
        out = {}
        for kind in DEADLINES:
            due = self.deadline(kind, unit)
            if due is not None:
                out[kind] = due
        return out

    # -- the calendar and the units, changed while the cycle runs ------------------
    def extend_deadline(
        self, kind: str, until: str, unit: str | None, reason: str, signed: dict
    ) -> None:
        """Moves one deadline later, for the cycle or for one unit (docs/SEASON.md)."""
        check_kind(kind)
        at = parse_time(until, "until")
        if unit is not None:
            self.check_unit(unit)
            self.check_active(unit)
        _require_reason(reason)
        current = self.deadline(kind, unit)
        if current is None:
            raise DomainError(
                "no_such_deadline",
                f"Kỳ {self.cycle} không có {DEADLINES[kind][0]} để gia hạn.",
                f"Cycle {self.cycle} has no {DEADLINES[kind][1]} to extend.",
                field="deadline",
                status=422,
            )
        if at <= current:
            raise DomainError(
                "not_an_extension",
                f"Thời hạn mới ({until}) phải sau {DEADLINES[kind][0]} hiện tại "
                f"({_text(current)}).",
                f"The new time ({until}) must be later than the current "
                f"{DEADLINES[kind][1]} ({_text(current)}).",
                field="until",
                status=409,
            )
        after = {**self.deadlines_for(unit), kind: at}
        kinds = list(after)
        for before_kind, next_kind in zip(kinds, kinds[1:], strict=False):
            if after[next_kind] < after[before_kind]:
                raise DomainError(
                    "deadlines_out_of_order",
                    f"{DEADLINES[before_kind][0].capitalize()} không được sau "
                    f"{DEADLINES[next_kind][0]} ({_text(after[next_kind])}): "
                    "gia hạn hạn sau trước.",
                    f"The {DEADLINES[before_kind][1]} may not come after the "
                    f"{DEADLINES[next_kind][1]} ({_text(after[next_kind])}): "
                    "extend the later one first.",
                    field="until",
                    status=409,
                )
        self._deadline_extended(deadline=kind, until=until, unit=unit, reason=reason, signed=signed)

    @event("DeadlineExtended")
    def _deadline_extended(
        self, deadline: str, until: str, unit: str | None, reason: str, signed: dict
    ) -> None:
        if unit is None:
            self.deadlines = {**self.deadlines, deadline: until}
        else:
            own = {**self.unit_deadlines.get(unit, {}), deadline: until}
            self.unit_deadlines = {**self.unit_deadlines, unit: own}

    def check_open_for_units(self, issued_at: datetime) -> None:
        """Units are added or merged only until the cycle's own self-assessment deadline."""
        self.check_deadline("self_assessment_due", None, issued_at)

    def add_units(self, units: object, reason: object, signed: dict) -> list[dict]:
        problems = Problems()
        units = check_units(units, problems, taken=self.unit_codes())
        add_text_problems(problems, reason, "reason", NOTE, empty_code="reason_required")
        problems.raise_if_any()
        if len(self.units) + len(units) > MAX_UNITS:
            raise DomainError(
                "too_many_units",
                f"Một kỳ có tối đa {MAX_UNITS} đơn vị (đã có {len(self.units)}).",
                f"A cycle holds at most {MAX_UNITS} units (it has {len(self.units)}).",
                field="units",
                status=409,
            )
        self._units_added(units=units, reason=reason, signed=signed)
        return units

    @event("UnitsAdded")
    def _units_added(self, units: list, reason: str, signed: dict) -> None:
        self.units = [*self.units, *units]

    def merge_units(self, units: object, into: object, reason: object, signed: dict) -> dict:
        """Two or more active units become one new unit; their history stays."""
        problems = Problems()
        if (
            not isinstance(units, list)
            or not 2 <= len(units) <= MAX_UNITS
            or not all(isinstance(u, str) for u in units)
        ):
            problems.add(
                "invalid_units",
                "Cần danh sách ít nhất 2 mã đơn vị để sáp nhập.",
                "units must list at least 2 unit codes to merge.",
                field="units",
            )
            units = []
        elif len(set(units)) != len(units):
            problems.add(
                "duplicate_unit",
                "Một mã đơn vị được nêu hai lần.",
                "A unit code is listed twice.",
                field="units",
            )
        found = Problems()
        merged = check_units([into], found, field="into", taken=self.unit_codes())
        problems.items.extend(
            replace(p, field=(p.field or "into").replace("into[0]", "into")) for p in found.items
        )
        add_text_problems(problems, reason, "reason", NOTE, empty_code="reason_required")
        problems.raise_if_any()
        for code in units:
            self.check_unit(code)
            self.check_active(code)
        if len(self.units) + 1 > MAX_UNITS:
            raise DomainError(
                "too_many_units",
                f"Một kỳ có tối đa {MAX_UNITS} đơn vị.",
                f"A cycle holds at most {MAX_UNITS} units.",
                field="into",
                status=409,
            )
        self._units_merged(units=units, into=merged[0], reason=reason, signed=signed)
        return merged[0]

    @event("UnitsMerged")
    def _units_merged(self, units: list, into: dict, reason: str, signed: dict) -> None:
        self.units = [*self.units, into]
        self.merged = {**self.merged, **{code: into["code"] for code in units}}

    # -- year on year (docs/SEASON.md "Year on year") ---------------------------------
    def link_previous(
        self,
        previous: object,
        year: int,
        imported: bool,
        maps: tuple[object, object],
        allowed: tuple[frozenset[str], frozenset[str] | None, frozenset[str] | None],
        reason: object,
        signed: dict,
    ) -> None:
        """Names the cycle this one is compared with: a cycle run here, or a past
        cycle imported from its published tables. `maps` are (code_map,
        unit_map): this cycle's criterion or unit code -> the previous one's
        (null: none), only where they differ; `allowed` are (this framework's
        codes, the previous framework's codes, the previous cycle's units),
        None where any code may be named (an imported cycle)."""
        if previous == self.cycle:
            raise DomainError(
                "invalid_previous",
                "Kỳ trước phải là một kỳ khác.",
                "The previous cycle must be another cycle.",
                field="previous",
                status=422,
            )
        if year >= self.year:
            raise DomainError(
                "previous_not_earlier",
                f"Kỳ trước (năm {year}) phải trước năm {self.year} của kỳ {self.cycle}.",
                f"The previous cycle (year {year}) must come before {self.cycle}'s {self.year}.",
                field="previous",
                status=409,
            )
        codes, previous_codes, previous_units = allowed
        problems = Problems()
        code_map = _check_map(maps[0], "code_map", codes, previous_codes, LEAF_RULE, problems)
        unit_map = _check_map(
            maps[1], "unit_map", self.unit_codes(), previous_units, CODE_RULE, problems
        )
        add_text_problems(problems, reason, "reason", NOTE, empty_code="reason_required")
        problems.raise_if_any()
        self._previous_linked(
            previous=previous,
            year=year,
            imported=imported,
            code_map=code_map,
            unit_map=unit_map,
            reason=reason,
            signed=signed,
        )

    @event("PreviousLinked")
    def _previous_linked(
        self,
        previous: str,
        year: int,
        imported: bool,
        code_map: dict,
        unit_map: dict,
        reason: str,
        signed: dict,
    ) -> None:
        self.previous = {
            "cycle": previous,
            "year": year,
            "imported": imported,
            "code_map": dict(code_map),
            "unit_map": dict(unit_map),
        }

    def check_unit(self, unit: str) -> None:
        if unit not in self.unit_codes():
            raise DomainError(
                "unit_not_found",
                f"Không tìm thấy đơn vị {unit} trong kỳ {self.cycle}",
                f"Not found: unit {unit} in {self.cycle}",
                field="unit",
                status=404,
            )

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
        memo = self.__dict__.get("_unit_types")
        if memo is None or memo[0] is not self.units:
            memo = self.__dict__["_unit_types"] = (
                self.units,
                {u["code"]: u.get("type") for u in self.units},
            )
        return memo[1].get(unit)

    def framework_for(self, framework: Any, unit: str) -> Any:
        """The table `unit` is scored against: the framework's view for its type
        (docs/FRAMEWORKS.md, "Maxima by unit type"), the framework itself when
        no maximum depends on the type."""
        if framework is None or not framework.typed:
            return framework
        return framework.for_type(self.unit_type(unit))

    def target(self, unit: str | None = None) -> Target:
        return Target(province=self.province, authority=self.authority, commune=unit)


MAX_MAP = 5_000


def _check_map(
    given: object,
    field: str,
    keys: frozenset[str],
    values: frozenset[str] | None,
    rule: object,
    problems: Problems,
) -> dict:
    """{this code: previous code or null}: keys among `keys`, values among
    `values` (any code of the rule when None)."""
    if given is None:
        return {}
    if not isinstance(given, dict) or len(given) > MAX_MAP:
        problems.add(
            "invalid_map",
            f"{field} là bảng mã -> mã (tối đa {MAX_MAP}).",
            f"{field} maps codes to codes (at most {MAX_MAP}).",
            field=field,
        )
        return {}
    for key, value in given.items():
        at = f"{field}.{str(key)[:64]}"
        if key not in keys:
            problems.add(
                "unknown_code",
                f"Mã '{str(key)[:64]}' không có trong kỳ này.",
                f"Code '{str(key)[:64]}' is not in this cycle.",
                field=at,
            )
        elif value is None:
            continue
        elif id_problem(value, at, rule) is not None or (
            values is not None and value not in values
        ):
            problems.add(
                "unknown_previous_code",
                f"Mã '{str(value)[:64]}' không có trong kỳ trước.",
                f"Code '{str(value)[:64]}' is not in the previous cycle.",
                field=at,
            )
        if len(problems.items) > 50:
            break
    return given


def _text(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _require_reason(reason: object) -> None:
    problems = Problems()
    add_text_problems(problems, reason, "reason", NOTE, empty_code="reason_required")
    problems.raise_if_any()
