"""What a framework is: name, jurisdiction, level, year, source, bands, identity.

A framework's id is a slug ("thai-nguyen-2021-commune") plus a version number;
written "thai-nguyen-2021-commune@2". A change is a new version that names the
one it supersedes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import DomainError, Problem
from domain.framework.bands import DECISION_4203, Bands
from domain.framework.problems import error, failed, problem
from domain.framework.text import clean, fold

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ID = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:@(?P<version>[1-9][0-9]*))?$")


class Level(StrEnum):
    COMMUNE = "commune"
    DISTRICT = "district"
    PROVINCE = "province"


_LEVELS = {
    "commune": Level.COMMUNE,
    "xa": Level.COMMUNE,
    "cap xa": Level.COMMUNE,
    "district": Level.DISTRICT,
    "huyen": Level.DISTRICT,
    "cap huyen": Level.DISTRICT,
    "province": Level.PROVINCE,
    "tinh": Level.PROVINCE,
    "cap tinh": Level.PROVINCE,
}


def parse_level(text: str | Level) -> Level:
    """ "commune", "xã", "cấp xã" -> Level.COMMUNE; raises DomainError `invalid_level`."""
    level = _LEVELS.get(fold(str(text)))
    if level is None:
        raise error("invalid_level", field="level", value=text)
    return level


def slugify(*parts: object) -> str:
    """ "Thái Nguyên", 2021, "commune" -> "thai-nguyen-2021-commune"."""
    words = re.sub(r"[^a-z0-9]+", "-", fold(" ".join(str(p) for p in parts)))
    return words.strip("-")


@dataclass(frozen=True)
class FrameworkId:
    """slug@version; a bare slug (version None) means "the latest version"."""

    slug: str
    version: int | None = None

    def __str__(self) -> str:
        return self.slug if self.version is None else f"{self.slug}@{self.version}"

    @classmethod
    def parse(cls, text: str) -> FrameworkId:
        match = _ID.fullmatch(str(text).strip())
        if not match:
            raise error("invalid_framework_id", field="id", value=text)
        version = match["version"]
        return cls(match["slug"], int(version) if version else None)


@dataclass(frozen=True)
class FrameworkMeta:
    """Everything about a framework except its tree. Text is stored NFC.

    `slug` defaults to jurisdiction-year-level; `supersedes` is the id
    ("slug@n") of the version this one replaces, if any.
    """

    name: str
    jurisdiction: str
    level: Level
    year: int
    source: str | None = None
    bands: Bands = field(default=DECISION_4203)
    supersedes: str | None = None
    slug: str = ""
    version: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean(self.name))
        object.__setattr__(self, "jurisdiction", clean(self.jurisdiction))
        object.__setattr__(self, "source", clean(self.source) or None)
        if isinstance(self.level, str) and not isinstance(self.level, Level):
            object.__setattr__(self, "level", _LEVELS.get(fold(self.level), self.level))
        if not self.slug:
            object.__setattr__(self, "slug", slugify(self.jurisdiction, self.year, self.level))

    @property
    def id(self) -> FrameworkId:
        return FrameworkId(self.slug, self.version)

    def problems(self) -> list[Problem]:
        """Every fault of the metadata (the tree is checked by Framework.build)."""
        out = []
        if not self.name:
            out.append(problem("missing_name", field="name"))
        if not self.jurisdiction:
            out.append(problem("missing_jurisdiction", field="jurisdiction"))
        if not isinstance(self.level, Level):
            out.append(problem("invalid_level", field="level", value=self.level))
        if (
            isinstance(self.year, bool)
            or not isinstance(self.year, int)
            or not 1990 <= self.year <= 2100
        ):
            out.append(problem("invalid_year", field="year", value=self.year))
        if not _SLUG.fullmatch(self.slug):
            out.append(problem("invalid_slug", field="slug", value=self.slug))
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            out.append(problem("invalid_version", field="version", value=self.version))
        if self.supersedes is not None and not _ID.fullmatch(self.supersedes):
            out.append(problem("invalid_framework_id", field="supersedes", value=self.supersedes))
        return out

    @classmethod
    def create(
        cls,
        *,
        name: str,
        jurisdiction: str,
        level: str,
        year: str | int,
        source: str | None = None,
        bands: str | Bands | None = None,
        slug: str | None = None,
        version: str | int = 1,
        supersedes: str | None = None,
    ) -> FrameworkMeta:
        """Metadata from the strings a command line passes; every fault reported at once.

        `bands` may be text as `Bands.parse` reads it. Raises ValidationFailed.
        """
        problems: list[Problem] = []
        parsed_year = _whole(year, "invalid_year", "year", problems)
        parsed_version = _whole(version, "invalid_version", "version", problems)
        parsed_bands = DECISION_4203
        if isinstance(bands, Bands):
            parsed_bands = bands
        elif bands:
            try:
                parsed_bands = Bands.parse(bands)
            except DomainError as exc:
                problems.extend(exc.problems)
        meta = cls(
            name=name,
            jurisdiction=jurisdiction,
            level=level,
            year=parsed_year,
            source=source,
            bands=parsed_bands,
            supersedes=supersedes or None,
            slug=slug or "",
            version=parsed_version,
        )
        problems.extend(p for p in meta.problems() if p.field not in _already(problems))
        if problems:
            raise failed(problems)
        return meta


def _whole(value: str | int, code: str, name: str, problems: list[Problem]) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(str(value).strip())
    except ValueError:
        problems.append(problem(code, field=name, value=value))
        return 0


def _already(problems: list[Problem]) -> set[str | None]:
    return {p.field for p in problems}
