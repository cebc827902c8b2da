"""Criteria frameworks shipped with parindex (`parindex framework install NAME`).

Each is a CSV in the import format beside this module, with the metadata the
import needs. Paths are found from this file, so they work from an installed
package too (pyproject ships *.csv as package data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.errors import DomainError
from domain.framework.meta import FrameworkMeta, Level
from domain.framework.model import Framework

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class BundledFramework:
    """A shipped table and the metadata it is installed with."""

    file: str
    name: str
    jurisdiction: str
    level: Level
    year: int
    source: str
    version: int = 1
    supersedes: str | None = None  # the bundled name of the version this one replaces

    def meta(self) -> FrameworkMeta:
        return FrameworkMeta(
            name=self.name,
            jurisdiction=self.jurisdiction,
            level=self.level,
            year=self.year,
            source=self.source,
            version=self.version,
            supersedes=(None if self.supersedes is None else str(load_bundled(self.supersedes).id)),
        )


BUNDLED: dict[str, BundledFramework] = {
    "thai-nguyen-2021-commune": BundledFramework(
        file="thai-nguyen-2021-commune.csv",
        name="Bộ tiêu chí Chỉ số CCHC cấp xã tỉnh Thái Nguyên 2021",
        jurisdiction="Thái Nguyên",
        level=Level.COMMUNE,
        year=2021,
        source="Quyết định 4203/QĐ-UBND ngày 30/12/2021",
    ),
    # Version 2: "(nếu có)" read as the Decision words it (docs/FRAMEWORKS.md,
    # "The bundled framework"): 1.8.1, 1.8.2 and 8.5.1 are no longer optional.
    "thai-nguyen-2021-commune-v2": BundledFramework(
        file="thai-nguyen-2021-commune-v2.csv",
        name="Bộ tiêu chí Chỉ số CCHC cấp xã tỉnh Thái Nguyên 2021 (bản 2: mục nếu có)",
        jurisdiction="Thái Nguyên",
        level=Level.COMMUNE,
        year=2021,
        source="Quyết định 4203/QĐ-UBND ngày 30/12/2021",
        version=2,
        supersedes="thai-nguyen-2021-commune",
    ),
}


def chain(name: str) -> list[str]:
    """The bundled names to publish for `name`, oldest first: each version it
    supersedes, then itself."""
    names = [name]
    while (earlier := _bundled(names[0]).supersedes) is not None:
        names.insert(0, earlier)
    return names


def _bundled(name: str) -> BundledFramework:
    try:
        return BUNDLED[name]
    except KeyError:
        known = ", ".join(sorted(BUNDLED))
        raise DomainError(
            "unknown_bundled_framework",
            f"Không có bộ tiêu chí kèm theo tên '{name}' (có: {known}).",
            f"No bundled framework is named '{name}' (available: {known}).",
            status=404,
            field="name",
        ) from None


def bundled_framework_path(name: str) -> Path:
    """The CSV file of bundled framework `name`; DomainError unknown_bundled_framework (404)."""
    return _HERE / _bundled(name).file


def load_bundled(name: str) -> Framework:
    """The bundled framework, imported and validated like any other table."""
    from interfaces.framework_io.importer import parse_table

    return parse_table(bundled_framework_path(name), _bundled(name).meta()).framework
