"""A past cycle scored outside parindex (kết quả năm trước được nhập).

Years before a province used parindex were scored on paper and published as
tables: Appendix II (each unit's total and rank) and each unit's Appendix I
(its score on every criterion). The admin imports such a table as one signed
command that states what the table says and the SHA-256 of the file it was
read from; the past cycle is then a source a cycle can name as its previous
one (Cycle.link_previous), always shown as imported, never as scored here.

The import states figures as published, not inputs: parindex does not score
them again. A unit imported twice keeps what the later import states and the
earlier import stays in the log; replacing a figure needs a reason.
"""

from __future__ import annotations

import json
import re
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.cycle import MAX_UNITS
from domain.errors import DomainError, Problems
from domain.framework.decimals import parse_exact
from domain.ids import CODE, LEAF, id_problem
from domain.text import NAME, NOTE, add_text_problems

PAST_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/past-cycles")
MAX_SCORES = 2_000  # criteria of one unit
MAX_POINTS = 1_000
ENTRY_FIELDS = frozenset({"unit", "name", "total", "rank", "scores"})
FIGURES = ("total", "rank", "scores")
SHA256 = re.compile(r"[0-9a-f]{64}")


def past_cycle_id(cycle: str) -> UUID:
    return uuid5(PAST_NAMESPACE, cycle)


def _points(value: object, field: str, problems: Problems) -> None:
    try:
        number = parse_exact(value, field)
    except DomainError as e:
        problems.items.extend(e.problems)
        return
    if not 0 <= number <= MAX_POINTS:
        problems.add(
            "invalid_past_score",
            f"Điểm phải từ 0 đến {MAX_POINTS}.",
            f"A score must be from 0 to {MAX_POINTS}.",
            field=field,
        )


def check_source(source: object, problems: Problems) -> None:
    """{file_name, sha256}: the published file the figures were read from."""
    if not isinstance(source, dict) or set(source) != {"file_name", "sha256"}:
        problems.add(
            "invalid_source",
            "Nguồn gồm file_name và sha256 của tệp kết quả đã công bố.",
            "source holds file_name and sha256 of the published results file.",
            field="source",
        )
        return
    add_text_problems(
        problems, source["file_name"], "source.file_name", NAME, empty_code="invalid_source"
    )
    if not isinstance(source["sha256"], str) or not SHA256.fullmatch(source["sha256"]):
        problems.add(
            "invalid_sha256",
            "sha256 là 64 chữ số hệ 16 viết thường.",
            "sha256 is 64 lowercase hexadecimal digits.",
            field="source.sha256",
        )


def check_entries(units: object, problems: Problems) -> list[dict]:
    """[{unit, name, total?, rank?, scores?}]: each with at least one figure."""
    if not isinstance(units, list) or not 1 <= len(units) <= MAX_UNITS:
        problems.add(
            "invalid_units",
            f"Cần danh sách từ 1 đến {MAX_UNITS} đơn vị.",
            f"units must list 1 to {MAX_UNITS} units.",
            field="units",
        )
        return []
    seen: set[str] = set()
    for i, entry in enumerate(units):
        at = f"units[{i}]"
        if (
            not isinstance(entry, dict)
            or not {"unit", "name"} <= set(entry) <= ENTRY_FIELDS
            or not set(FIGURES) & set(entry)
        ):
            problems.add(
                "invalid_unit",
                f"Đơn vị thứ {i + 1} gồm unit, name và ít nhất một trong total, rank, scores.",
                f"Unit {i + 1} holds unit, name and at least one of total, rank, scores.",
                field=at,
            )
            continue
        found = id_problem(entry["unit"], f"{at}.unit", CODE)
        if found is not None:
            problems.items.append(found)
        elif entry["unit"] in seen:
            problems.add(
                "duplicate_unit",
                f"Mã đơn vị '{entry['unit']}' bị trùng.",
                f"Unit code '{entry['unit']}' appears twice.",
                field=f"{at}.unit",
            )
        else:
            seen.add(entry["unit"])
        add_text_problems(problems, entry["name"], f"{at}.name", NAME, empty_code="invalid_field")
        if "total" in entry:
            _points(entry["total"], f"{at}.total", problems)
        rank = entry.get("rank", 1)
        if type(rank) is not int or not 1 <= rank <= MAX_UNITS:
            problems.add(
                "invalid_rank",
                f"Thứ hạng là số nguyên từ 1 đến {MAX_UNITS}.",
                f"A rank is a whole number from 1 to {MAX_UNITS}.",
                field=f"{at}.rank",
            )
        if "scores" in entry:
            _check_scores(entry["scores"], f"{at}.scores", problems)
    return units  # type: ignore[return-value]


def _check_scores(scores: object, at: str, problems: Problems) -> None:
    if not isinstance(scores, dict) or not 1 <= len(scores) <= MAX_SCORES:
        problems.add(
            "invalid_scores",
            f"scores là bảng mã tiêu chí -> điểm (1 đến {MAX_SCORES} tiêu chí).",
            f"scores maps criterion codes to points (1 to {MAX_SCORES} criteria).",
            field=at,
        )
        return
    for code, value in scores.items():
        found = id_problem(code, f"{at}.{str(code)[:40]}", LEAF)
        if found is not None:
            problems.items.append(found)
            continue
        _points(value, f"{at}.{code}", problems)
        if len(problems.items) > 50:
            return


class PastCycle(Aggregate):
    """The figures imported for a past cycle, by unit, as the latest import states them."""

    @staticmethod
    def create_id(cycle: str) -> UUID:
        return past_cycle_id(cycle)

    # Event handlers replace containers, never change them in place (verify
    # keeps copies of deployment-wide aggregates: audit/deployment_pass.py).

    @event("Imported")
    def __init__(self, cycle: str, signed: dict):
        command = json.loads(signed["command"])  # signed, kept once
        self.cycle = cycle
        self.name = command["name"]
        self.year = command["year"]
        self.results: dict[str, dict] = {}
        self.imports: tuple[dict, ...] = ()
        self._take(command)

    def replaced(self, units: list[dict]) -> list[str]:
        """The units of `units` with a figure this import would replace."""
        out = []
        for entry in units:
            had = self.results.get(entry["unit"], {})
            if any(name in had and name in entry for name in FIGURES):
                out.append(entry["unit"])
        return out

    def check_same(self, name: object, year: object) -> None:
        if year != self.year:
            raise DomainError(
                "past_cycle_differs",
                f"Kỳ {self.cycle} đã được nhập là năm {self.year}.",
                f"Past cycle {self.cycle} was imported as year {self.year}.",
                field="year",
                status=409,
            )
        if name != self.name:
            raise DomainError(
                "past_cycle_differs",
                f"Kỳ {self.cycle} đã được nhập với tên «{self.name}».",
                f"Past cycle {self.cycle} was imported named '{self.name}'.",
                field="name",
                status=409,
            )

    def add(self, signed: dict) -> None:
        self._imported(signed=signed)

    @event("ResultsImported")
    def _imported(self, signed: dict) -> None:
        self._take(json.loads(signed["command"]))

    def _take(self, command: dict) -> None:
        results = dict(self.results)
        sha = command["source"]["sha256"]
        for entry in command["units"]:
            had = results.get(entry["unit"], {})
            now = {**had, **{k: v for k, v in entry.items() if k != "unit"}}
            now["sources"] = (*had.get("sources", ()), sha)
            results[entry["unit"]] = now
        self.results = results
        self.imports = (
            *self.imports,
            {
                "source": dict(command["source"]),
                "units": len(command["units"]),
                "reason": command.get("reason"),
            },
        )


def check_import(command: dict) -> None:
    """The fields of an import_past_results command, all faults at once."""
    problems = Problems()
    found = id_problem(command.get("cycle"), "cycle", CODE)
    if found is not None:
        problems.items.append(found)
    add_text_problems(problems, command.get("name"), "name", NAME, empty_code="invalid_field")
    year = command.get("year")
    if type(year) is not int or not 2000 <= year <= 2100:
        problems.add("invalid_year", "Năm không hợp lệ.", "Invalid year.", field="year")
    check_source(command.get("source"), problems)
    check_entries(command.get("units"), problems)
    if command.get("reason") is not None:
        add_text_problems(problems, command["reason"], "reason", NOTE, empty_code="reason_required")
    problems.raise_if_any()
