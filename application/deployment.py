"""Creating and opening a deployment: data directory, keys, store, genesis."""

from __future__ import annotations

import uuid
from pathlib import Path

from application.app import ParIndex
from application.commands import sign_command, utc_now_text
from application.config import Settings
from application.signing import keys
from application.transparency import note
from application.transparency.log_store import LogIncomplete, StoredCheckpoint
from domain.errors import DomainError


def init_deployment(
    data_dir: str | Path,
    *,
    origin: str = "parindex.local/par-index",
    database_url: str | None = None,
    admin_name: str = "Quản trị viên",
    admin_key_path: str | Path | None = None,
) -> dict:
    """`parindex init`: a new data directory, its log key, the first admin key,
    the event store's tables and the genesis events, then a first checkpoint."""
    data_dir = Path(data_dir)
    settings = Settings(data_dir=data_dir, origin=origin, database_url=database_url)
    settings.apply_environment()
    if settings.config_path.exists():
        raise DomainError(
            "already_initialised",
            f"Thư mục '{data_dir}' đã được khởi tạo; không ghi đè.",
            f"'{data_dir}' is already initialised; nothing was overwritten.",
            status=409,
        )
    if not note.is_valid_name(origin):
        raise DomainError(
            "invalid_origin",
            "Tên nguồn nhật ký (origin) không hợp lệ.",
            "Invalid log origin name (no spaces or '+').",
            field="origin",
            status=400,
        )
    (data_dir / "keys").mkdir(parents=True, exist_ok=True)
    if settings.database_url:
        ensure_postgres_schema(settings)
    # Key files made here are removed again if init fails before the genesis is
    # stored, so a failed init (e.g. a database that already holds a deployment)
    # can simply be re-run. Once the genesis is stored, they are its only keys.
    created: list[Path] = []
    try:
        log_key = keys.generate()
        keys.write_key_file(
            settings.log_key_path, (note.format_signer_key(origin, log_key) + "\n").encode()
        )
        created.append(settings.log_key_path)
        vkey = note.format_verifier_key(origin, keys.public_raw(log_key))
        admin = keys.generate()
        admin_path = Path(admin_key_path) if admin_key_path else data_dir / "keys" / "admin.key"
        admin_id = keys.save_actor_key_file(admin_path, admin, display_name=admin_name)
        created.append(admin_path)
        command = {
            "type": "init_deployment",
            "id": f"init-{uuid.uuid4()}",
            "issued_at": utc_now_text(),
            "actor": admin_id,
            "origin": origin,
            "log_key": vkey,
            "public_key": keys.b64(keys.public_raw(admin)),
            "display_name": admin_name,
            "clock_skew_seconds": int(settings.clock_skew.total_seconds()),
        }
        app = ParIndex(settings, create_table=True)
        try:
            receipt = app.initialise(sign_command(command, admin), vkey)
            created.clear()
            checkpoint = issue_checkpoint(app)
        finally:
            app.close()
        settings.save()
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    return {
        "data_dir": str(data_dir),
        "backend": settings.backend,
        "origin": origin,
        "admin_key_id": admin_id,
        "admin_key_file": str(admin_path),
        "log_key": vkey,
        "genesis": receipt,
        "checkpoint": checkpoint.note,
    }


def ensure_postgres_schema(settings: Settings) -> None:
    import psycopg

    from application.config import postgres_env

    env = postgres_env(settings.database_url or "")
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{env["POSTGRES_SCHEMA"]}"')


def open_app(data_dir: str | Path) -> ParIndex:
    """The application on an initialised data directory (tables are not created)."""
    return ParIndex(Settings.load(data_dir))


def log_signer(settings: Settings) -> note.Signer:
    return note.parse_signer_key(settings.log_key_path.read_text("utf-8").strip())


def log_verifier_key(app: ParIndex) -> str:
    deployment = app.deployment()
    if deployment is None:
        raise DomainError(
            "not_initialised",
            "Nhật ký chưa có sự kiện khởi tạo.",
            "The log has no genesis event.",
            status=409,
        )
    return deployment.log_key


def issue_checkpoint(app: ParIndex) -> StoredCheckpoint:
    """Signs the current tree head with the log key and keeps it.

    A checkpoint for the current size is issued once; asking again returns it.
    """
    size, root = app.tlog.head()
    existing = app.tlog.checkpoint_for_size(size)
    if existing is not None and existing.root == root:
        return existing
    # Never sign a tree the store does not hold: a lost state row or lost leaf
    # rows would otherwise make the log key sign a shorter, rolled-back log.
    leaves = app.tlog.leaf_bound()
    latest = app.tlog.latest_checkpoint()
    if leaves != size or (latest is not None and latest.size > size):
        raise LogIncomplete(
            f"tree state {size}, leaves {leaves}, signed {latest.size if latest else 0}"
        )
    text = note.Checkpoint(app.settings.origin, size, root, []).format()
    signed = note.sign_note(text, [log_signer(app.settings)])
    return app.tlog.add_checkpoint(size, root, signed)
