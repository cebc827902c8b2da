"""Key registry commands: register, rotate, revoke (admin only)."""

from __future__ import annotations

from application.errors import NotFound
from application.handlers.base import Context, check_fields, handler
from application.signing.keys import actor_key_id, unb64
from domain.actors import Role, Scope
from domain.deployment import Deployment
from domain.errors import DomainError, Problems
from domain.ids import KEY_ID, check_id
from domain.keys import ActorKey, key_aggregate_id
from domain.text import NAME, NOTE, check_text, text_problems

REGISTER_FIELDS = ("key_id", "public_key", "role", "scope", "display_name")


def _public_key(problems: Problems, text: object, key_id: object) -> bytes | None:
    try:
        # Strict and canonical: the stored text must decode the same way everywhere.
        raw = unb64(text) if isinstance(text, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        problems.add(
            "invalid_public_key",
            "Khóa công khai phải là 32 byte Ed25519, mã base64.",
            "public_key must be a base64 32-byte Ed25519 key.",
            field="public_key",
        )
        return None
    if key_id != actor_key_id(raw):
        problems.add(
            "key_id_mismatch",
            "Mã khóa không khớp với khóa công khai.",
            "key_id does not match the public key.",
            field="key_id",
        )
    return raw


def _check_name(problems: Problems, name: object) -> None:
    # Stored exactly as signed, so it must already be clean.
    found = text_problems(name, "display_name", NAME, empty_code="invalid_display_name")
    if not found and name != name.strip():  # type: ignore[union-attr]
        problems.add(
            "invalid_display_name",
            "Họ tên người giữ khóa không được thừa khoảng trắng ở đầu hoặc cuối.",
            "display_name must not start or end with spaces.",
            field="display_name",
        )
    problems.items.extend(found)


def _new_key(ctx: Context, problems: Problems, rotated_from: str | None = None) -> ActorKey | None:
    c = ctx.command
    _public_key(problems, c.get("public_key"), c.get("key_id"))
    role = c.get("role")
    if not isinstance(role, str) or role not in {r.value for r in Role}:
        shown = ascii(role)[:40]  # never the whole of a huge value
        problems.add(
            "invalid_role",
            f"Vai trò không hợp lệ: {shown}.",
            f"Invalid role: {shown}.",
            field="role",
        )
    try:
        canonical_scope = str(Scope.parse(str(c.get("scope", ""))))
    except DomainError as e:
        problems.add(e.code, e.message_vi, e.message_en, field="scope")
    else:
        if canonical_scope != c.get("scope"):  # stored as signed, so refuse, don't rewrite
            problems.add(
                "invalid_scope",
                f"Viết phạm vi đúng dạng: '{canonical_scope}'.",
                f"Write the scope as '{canonical_scope}'.",
                field="scope",
            )
    name = c.get("display_name")
    _check_name(problems, name)
    problems.raise_if_any()
    # A key's aggregate id is derived from its key id, so the store's unique
    # (id, version 1) refuses a second registration in the same transaction.
    # The first try leans on that; a retry after such a conflict looks, so the
    # client gets the clear key_exists rather than a version conflict.
    if ctx.attempt > 0 and ctx.app.find_key(c["key_id"]) is not None:
        raise DomainError(
            "key_exists",
            "Khóa này đã được đăng ký.",
            "This key is already registered.",
            field="key_id",
            status=409,
        )
    return ActorKey(
        key_id=c["key_id"],
        public_key=c["public_key"],
        role=c["role"],
        scope=c["scope"],
        display_name=name,
        signed=ctx.signed.stored(),
        rotated_from=rotated_from,
    )


def genesis_aggregates(signed) -> list:
    """What `init_deployment` yields: the deployment, then its first admin key.
    The server calls this after its own checks; verify calls it to re-derive."""
    c = signed.command
    skew = c.get("clock_skew_seconds")
    deployment = Deployment(
        origin=c.get("origin"),
        log_key=c.get("log_key"),
        admin_key_id=signed.actor,
        signed=signed.stored(),
        clock_skew_seconds=skew,
    )
    admin = ActorKey(
        key_id=signed.actor,
        public_key=c.get("public_key"),
        role=Role.ADMIN.value,
        scope="*",
        display_name=c.get("display_name"),
        signed=signed.stored(),
    )
    return [deployment, admin]


@handler("register_key")
def register_key(ctx: Context) -> list:
    check_fields(ctx, REGISTER_FIELDS)
    return [_new_key(ctx, Problems())]


def _existing(ctx: Context, field: str) -> ActorKey:
    key_id = check_id(ctx.command.get(field), field, KEY_ID)
    key = ctx.app.find_key(key_id)
    if key is None:
        raise NotFound(f"khóa {key_id}", f"key {key_id}", code="key_not_found")
    if not key.active:
        raise DomainError(
            "key_inactive",
            "Khóa này đã bị thu hồi hoặc thay thế.",
            "This key is already revoked or rotated.",
            field=field,
            status=409,
        )
    return key


@handler("revoke_key")
def revoke_key(ctx: Context) -> list:
    check_fields(ctx, ("key_id", "reason"))
    key = _existing(ctx, "key_id")
    reason = ctx.field("reason")
    check_text(reason, "reason", NOTE)
    key.revoke(reason=reason, signed=ctx.signed.stored())
    return [key]


@handler("rotate_key")
def rotate_key(ctx: Context) -> list:
    """Replaces a person's key: the old one stops, the new one keeps role and scope."""
    check_fields(ctx, ("old_key_id", "key_id", "public_key", "display_name"))
    old = _existing(ctx, "old_key_id")
    problems = Problems()
    command = dict(ctx.command, role=old.role, scope=old.scope)
    command.setdefault("display_name", old.display_name)
    _public_key(problems, command.get("public_key"), command.get("key_id"))
    _check_name(problems, command.get("display_name"))
    problems.raise_if_any()
    if ctx.app.find_key(command["key_id"]) is not None:
        raise DomainError(
            "key_exists",
            "Khóa mới đã được đăng ký.",
            "The new key is already registered.",
            field="key_id",
            status=409,
        )
    new = ActorKey(
        key_id=command["key_id"],
        public_key=command["public_key"],
        role=old.role,
        scope=old.scope,
        display_name=command["display_name"],
        signed=ctx.signed.stored(),
        rotated_from=old.key_id,
    )
    old.rotate(successor_key_id=new.key_id, signed=ctx.signed.stored())
    assert key_aggregate_id(new.key_id) == new.id
    return [old, new]
