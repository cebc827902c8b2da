"""An actor's key: registered, rotated or revoked by signed admin events."""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Role, Scope

KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/keys")


@lru_cache(maxsize=65536)
def key_aggregate_id(key_id: str) -> UUID:
    return uuid5(KEY_NAMESPACE, key_id)


class ActorKey(Aggregate):
    """One Ed25519 public key, the person behind it, their role and scope."""

    @staticmethod
    def create_id(key_id: str) -> UUID:
        return key_aggregate_id(key_id)

    @event("Registered")
    def __init__(
        self,
        key_id: str,
        public_key: str,
        role: str,
        scope: str,
        display_name: str,
        signed: dict,
        rotated_from: str | None = None,
    ):
        self.key_id = key_id
        self.public_key = public_key
        self.role = role
        self.scope = scope
        self.display_name = display_name
        self.rotated_from = rotated_from
        self.revoked = False
        self.revoked_reason: str | None = None
        self.rotated_to: str | None = None

    @property
    def active(self) -> bool:
        return not self.revoked and self.rotated_to is None

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def scope_obj(self) -> Scope:
        return Scope.parse(self.scope)

    @event("Revoked")
    def revoke(self, reason: str, signed: dict) -> None:
        self.revoked = True
        self.revoked_reason = reason

    @event("Rotated")
    def rotate(self, successor_key_id: str, signed: dict) -> None:
        self.rotated_to = successor_key_id
