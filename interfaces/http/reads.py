"""What every signed read does first: authenticate, then wait for ?position=."""

from __future__ import annotations

from typing import Any

from application.errors import NotFound
from domain.actors import Target
from domain.keys import ActorKey
from interfaces.http.auth import signed_key
from interfaces.http.consistency import await_position
from interfaces.http.services import services


def begin(args: dict) -> ActorKey:
    key = signed_key()
    await_position(args.get("position"))
    return key


def q() -> Any:
    return services().queries


def found(value: Any, what_vi: str, what_en: str, code: str) -> Any:
    if value is None:
        raise NotFound(what_vi, what_en, code=code)
    return value


def cycle_visible(key: ActorKey, cycle: dict) -> bool:
    """Whether a cycle of the read model is in the key's reach (see auth.py)."""
    scope = key.scope_obj
    if scope.covers(Target(province=cycle.get("province"), authority=cycle.get("authority"))):
        return True
    if scope.kind != "commune":
        return False
    detail = q().cycle(cycle["cycle"]) or {}
    return any(u.get("unit") == scope.code for u in detail.get("units") or [])
