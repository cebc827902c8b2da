"""What a handler gets and gives: a context in, a target and aggregates out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from application.commands import SignedCommand
from domain.actors import DEPLOYMENT, Target
from domain.errors import DomainError, Problems
from domain.keys import ActorKey

if TYPE_CHECKING:
    from application.app import ParIndex


@dataclass
class Context:
    app: ParIndex
    signed: SignedCommand
    key: ActorKey
    now: datetime
    attempt: int = 0  # > 0 when retrying after a conflicting concurrent write
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> dict:
        return self.signed.command

    def field(
        self, name: str, kind: type | tuple = str, *, required: bool = True, default: Any = None
    ) -> Any:
        value = self.command.get(name, default)
        if value is None and not required:
            return default
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            raise DomainError(
                "invalid_field",
                f"Trường '{name}' thiếu hoặc sai kiểu.",
                f"Field '{name}' is missing or of the wrong type.",
                field=name,
                status=422,
            )
        return value


@dataclass(frozen=True)
class Handler:
    """`target` says what the command touches (for the scope check); `decide`
    loads aggregates, applies the domain rule and returns those to save."""

    type: str
    decide: Callable[[Context], list[Any]]
    target: Callable[[Context], Target] = lambda ctx: DEPLOYMENT
    fields: tuple[str, ...] = ()


HANDLERS: dict[str, Handler] = {}


def handler(
    type_: str, *, target: Callable[[Context], Target] | None = None, fields: tuple[str, ...] = ()
) -> Callable:
    def register(fn: Callable[[Context], list[Any]]) -> Callable:
        HANDLERS[type_] = Handler(type_, fn, target or (lambda ctx: DEPLOYMENT), fields)
        return fn

    return register


_BASE_FIELDS = frozenset({"type", "id", "issued_at", "actor", "expected_version"})


def check_fields(ctx: Context, allowed: tuple[str, ...]) -> None:
    """Refuses fields the command type does not know: a typo must not pass silently."""
    unknown = ctx.command.keys() - _BASE_FIELDS
    if not unknown:
        return
    unknown.difference_update(allowed)
    problems = Problems()
    for name in sorted(unknown):
        problems.add(
            "unknown_field",
            f"Trường '{name}' không thuộc lệnh '{ctx.signed.type}'.",
            f"Field '{name}' is not part of '{ctx.signed.type}'.",
            field=name,
        )
    problems.raise_if_any()
