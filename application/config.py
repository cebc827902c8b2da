"""Deployment settings: the data directory, the event store, limits.

A data directory holds `parindex.json` (written by `parindex init`), the log
key (`keys/log.key`, mode 0600), evidence blobs and read models. The event store
is the SQLite file `events.sqlite` in it unless `PARINDEX_DATABASE_URL` (or the
`database_url` in parindex.json) names a PostgreSQL database:
`postgresql://user:password@host:port/dbname?schema=name`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from domain.errors import DomainError

CONFIG_FILE = "parindex.json"
DEFAULT_SKEW_SECONDS = 600
DEFAULT_MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
# Every request body but an evidence upload. It must stay at or above the size
# bound a single signed command may have (application/commands.py), so that a
# command the write path would accept is never cut off by the HTTP layer first.
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
# How far a signed read header's `created` may be from the server's clock: a
# captured header replays for this long at most (docs/API.md).
DEFAULT_REQUEST_WINDOW_SECONDS = 60
# A write waits at most this long for the store's write lock (or for its turn on
# one aggregate), and one statement of a write runs at most this long: a stuck
# writer makes the others fail with store_busy / store_timeout, never freeze.
DEFAULT_WRITE_LOCK_TIMEOUT_SECONDS = 5
# New evidence bytes one key may upload in any 24 hours: a hundred files at the
# default bound. Blobs are not in the log and no command need ever name them, so
# without it one officer's key could fill the server's disk.
DEFAULT_MAX_UPLOAD_BYTES_PER_DAY = 2 * 1024 * 1024 * 1024
DEFAULT_WRITE_STATEMENT_TIMEOUT_SECONDS = 30


@dataclass
class Settings:
    data_dir: Path
    origin: str = "parindex.local/par-index"
    database_url: str | None = None
    clock_skew: timedelta = field(default_factory=lambda: timedelta(seconds=DEFAULT_SKEW_SECONDS))
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    request_window: timedelta = field(
        default_factory=lambda: timedelta(seconds=DEFAULT_REQUEST_WINDOW_SECONDS)
    )
    write_lock_timeout: int = DEFAULT_WRITE_LOCK_TIMEOUT_SECONDS
    write_statement_timeout: int = DEFAULT_WRITE_STATEMENT_TIMEOUT_SECONDS
    max_upload_bytes_per_day: int = DEFAULT_MAX_UPLOAD_BYTES_PER_DAY
    # Witnesses asked to cosign checkpoints (C2SP tlog-witness): [{"url", "vkey"}].
    witnesses: list[dict] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE

    @property
    def log_key_path(self) -> Path:
        return self.data_dir / "keys" / "log.key"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @classmethod
    def load(cls, data_dir: str | os.PathLike) -> Settings:
        """Reads DIR/parindex.json; PARINDEX_* environment variables override it."""
        data_dir = Path(data_dir)
        path = data_dir / CONFIG_FILE
        if not path.exists():
            raise DomainError(
                "not_initialised",
                f"Thư mục dữ liệu '{data_dir}' chưa được khởi tạo: chạy "
                f"'parindex init --data-dir {data_dir}' trước.",
                f"Data directory '{data_dir}' is not initialised: run "
                f"'parindex init --data-dir {data_dir}' first.",
                status=400,
            )
        raw = json.loads(path.read_text("utf-8"))
        settings = cls(
            data_dir=data_dir,
            origin=raw["origin"],
            database_url=raw.get("database_url"),
            clock_skew=timedelta(seconds=int(raw.get("clock_skew_seconds", DEFAULT_SKEW_SECONDS))),
            max_evidence_bytes=int(raw.get("max_evidence_bytes", DEFAULT_MAX_EVIDENCE_BYTES)),
            max_request_bytes=int(raw.get("max_request_bytes", DEFAULT_MAX_REQUEST_BYTES)),
            request_window=timedelta(
                seconds=int(raw.get("request_window_seconds", DEFAULT_REQUEST_WINDOW_SECONDS))
            ),
            write_lock_timeout=_positive(
                raw.get("write_lock_timeout_seconds", DEFAULT_WRITE_LOCK_TIMEOUT_SECONDS)
            ),
            write_statement_timeout=_positive(
                raw.get("write_statement_timeout_seconds", DEFAULT_WRITE_STATEMENT_TIMEOUT_SECONDS)
            ),
            max_upload_bytes_per_day=_positive(
                raw.get("max_upload_bytes_per_day", DEFAULT_MAX_UPLOAD_BYTES_PER_DAY)
            ),
            witnesses=list(raw.get("witnesses", [])),
        )
        settings.apply_environment()
        if settings.database_url and ":***@" in settings.database_url:
            raise DomainError(
                "database_password_needed",
                "Triển khai này dùng PostgreSQL có mật khẩu: đặt PARINDEX_DATABASE_URL.",
                "This deployment uses PostgreSQL with a password: set PARINDEX_DATABASE_URL.",
                status=400,
            )
        return settings

    def apply_environment(self) -> None:
        env = os.environ
        if env.get("PARINDEX_DATABASE_URL"):
            self.database_url = env["PARINDEX_DATABASE_URL"]
        if env.get("PARINDEX_CLOCK_SKEW_SECONDS"):
            self.clock_skew = timedelta(seconds=int(env["PARINDEX_CLOCK_SKEW_SECONDS"]))
        if env.get("PARINDEX_MAX_EVIDENCE_BYTES"):
            self.max_evidence_bytes = int(env["PARINDEX_MAX_EVIDENCE_BYTES"])
        if env.get("PARINDEX_MAX_REQUEST_BYTES"):
            self.max_request_bytes = int(env["PARINDEX_MAX_REQUEST_BYTES"])
        if env.get("PARINDEX_REQUEST_WINDOW_SECONDS"):
            self.request_window = timedelta(seconds=int(env["PARINDEX_REQUEST_WINDOW_SECONDS"]))
        if env.get("PARINDEX_WRITE_LOCK_TIMEOUT_SECONDS"):
            self.write_lock_timeout = _positive(env["PARINDEX_WRITE_LOCK_TIMEOUT_SECONDS"])
        if env.get("PARINDEX_WRITE_STATEMENT_TIMEOUT_SECONDS"):
            self.write_statement_timeout = _positive(
                env["PARINDEX_WRITE_STATEMENT_TIMEOUT_SECONDS"]
            )
        if env.get("PARINDEX_MAX_UPLOAD_BYTES_PER_DAY"):
            self.max_upload_bytes_per_day = _positive(env["PARINDEX_MAX_UPLOAD_BYTES_PER_DAY"])

    def save(self) -> None:
        """Writes parindex.json; a database password is never written to disk."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        raw = {
            "origin": self.origin,
            "clock_skew_seconds": int(self.clock_skew.total_seconds()),
            "max_evidence_bytes": self.max_evidence_bytes,
            "max_request_bytes": self.max_request_bytes,
            "request_window_seconds": int(self.request_window.total_seconds()),
            "write_lock_timeout_seconds": self.write_lock_timeout,
            "write_statement_timeout_seconds": self.write_statement_timeout,
            "max_upload_bytes_per_day": self.max_upload_bytes_per_day,
        }
        if self.witnesses:
            raw["witnesses"] = self.witnesses
        if self.database_url:
            # Recorded so a later command without the variable does not silently
            # open an empty SQLite store; the password stays in the environment.
            raw["database_url"] = redact_password(self.database_url)
        self.config_path.write_text(json.dumps(raw, indent=2) + "\n", "utf-8")

    def event_store_env(self, *, create_table: bool) -> dict[str, str]:
        """The eventsourcing library's settings for this deployment's store."""
        env = {
            "CREATE_TABLE": "y" if create_table else "n",
            "AGGREGATE_CACHE_MAXSIZE": "10000",
            # Snapshots of assessments (application/app.py SNAPSHOT_INTERVAL): a
            # cache beside the events, never part of the log (FORMATS 9.4).
            "IS_SNAPSHOTTING_ENABLED": "y",
            "COMPRESSOR_TOPIC": "",
            "CIPHER_TOPIC": "",
        }
        if self.database_url:
            env.update(postgres_env(self.database_url))
            env["POSTGRES_LOCK_TIMEOUT"] = str(self.write_lock_timeout)
            env["APPLICATION_RECORDER_TOPIC"] = (
                "application.store.recorders:LoggedPostgresApplicationRecorder"
            )
        else:
            env.update(
                {
                    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(self.sqlite_path),
                    "SQLITE_LOCK_TIMEOUT": str(self.write_lock_timeout),
                    "APPLICATION_RECORDER_TOPIC": (
                        "application.store.recorders:LoggedSQLiteApplicationRecorder"
                    ),
                }
            )
        return env


def postgres_env(url: str) -> dict[str, str]:
    """Library settings from a postgresql:// URL. Never enables DB functions."""
    parts = urlparse(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise DomainError(
            "invalid_database_url",
            "PARINDEX_DATABASE_URL phải có dạng postgresql://người_dùng@máy:cổng/csdl.",
            "PARINDEX_DATABASE_URL must look like postgresql://user@host:port/dbname.",
            status=400,
        )
    query = parse_qs(parts.query)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": (parts.path or "/").lstrip("/") or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_LOCK_TIMEOUT": "30",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }


def _positive(value: object) -> int:
    seconds = int(value)  # type: ignore[call-overload]
    if seconds < 1:
        raise ValueError(f"a timeout must be at least 1 second, not {value!r}")
    return seconds


def redact_password(url: str) -> str:
    parts = urlparse(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
