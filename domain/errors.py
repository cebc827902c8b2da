"""Errors the domain raises: a stable English code, a Vietnamese message first.

Every error a user can cause carries a `code` (stable, English, snake_case) that
clients may branch on, a Vietnamese message (`message_vi`) shown by default, an
English one (`message_en`), and where the fault lies (`field`, `row`, `column`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One fault in user input: what, in both languages, and where."""

    code: str
    message_vi: str
    message_en: str
    field: str | None = None
    row: int | None = None
    column: str | None = None

    def as_dict(self, lang: str = "vi") -> dict:
        out: dict = {
            "code": self.code,
            "message": self.message_en if lang == "en" else self.message_vi,
        }
        for key in ("field", "row", "column"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class DomainError(Exception):
    """A rule of the domain refused something. `status` is the HTTP mapping hint."""

    status = 422

    def __init__(
        self,
        code: str,
        message_vi: str,
        message_en: str,
        *,
        problems: list[Problem] | None = None,
        status: int | None = None,
        field: str | None = None,
    ):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.problems = list(problems or [])
        self.field = field
        if status is not None:
            self.status = status

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi


class ValidationFailed(DomainError):
    """Input had one or more faults; nothing was written. `problems` lists each."""

    def __init__(
        self,
        problems: list[Problem],
        message_vi: str | None = None,
        message_en: str | None = None,
        code: str = "validation_failed",
    ):
        n = len(problems)
        super().__init__(
            code,
            message_vi or f"Dữ liệu không hợp lệ: {n} lỗi.",
            message_en or f"Invalid input: {n} error(s).",
            problems=problems,
            status=422,
        )


@dataclass
class Problems:
    """Collects problems so a whole input is checked before anything is refused."""

    items: list[Problem] = field(default_factory=list)

    def add(self, code: str, vi: str, en: str, **where) -> None:
        self.items.append(Problem(code, vi, en, **where))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)
