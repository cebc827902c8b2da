"""`parindex serve`: gunicorn, each worker with its own app and read-model follower."""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    def __init__(
        self, data_dir: str, options: dict[str, Any], witness_interval: float | None = None
    ):
        self.data_dir = data_dir
        self.options = options
        self.witness_interval = witness_interval
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings and value is not None:
                self.cfg.set(name, value)

    def load(self):
        # Runs in each worker after the fork: its own store connections and follower.
        from interfaces.http.app import create_app

        return create_app(self.data_dir, follow=True, witness_interval=self.witness_interval)


def _worker_exit(_server: Any, worker: Any) -> None:
    flask = getattr(worker, "wsgi", None)
    extensions = getattr(flask, "extensions", {})
    if "parindex" in extensions:
        extensions["parindex"].close()


def prepare_read_model(data_dir: str) -> Any:
    """Before forking: bring the read model up to date in one pass (a rebuild is
    far faster than catching up batch by batch), so workers start current.

    A read model ahead of its log is left as it is (it is the evidence that the
    event store went back in time) and said so on stderr; the workers then
    refuse every read and write until `parindex rebuild-read-model`. Returns
    the projections.rollback.Rollback found, or None."""
    from application.deployment import open_app
    from interfaces.http.app import READ_MODEL_FILE
    from projections.rebuilder import open_current
    from projections.rollback import check_file

    path = Path(data_dir) / READ_MODEL_FILE
    with open_app(data_dir) as app:
        if path.exists():
            rollback = check_file(app, path)
            if rollback is not None:
                print(
                    f"parindex serve: KHÔNG PHỤC VỤ [{rollback.code}]: {rollback.message('vi')}"
                    f"\nparindex serve: NOT SERVING [{rollback.code}]: "
                    f"{rollback.message('en')}",
                    file=sys.stderr,
                    flush=True,
                )
                return rollback
        open_current(app, str(path)).close()
    return None


def rebuild_read_model(data_dir: str) -> dict:
    """`parindex rebuild-read-model`: a new read model from position 0. A read model
    found ahead of the log is first copied aside (kept for the auditor, never
    deleted here) and the result says what was found."""
    from application.deployment import open_app
    from interfaces.http.app import READ_MODEL_FILE
    from projections.rebuilder import rebuild
    from projections.rollback import check_file

    path = Path(data_dir) / READ_MODEL_FILE
    found, kept = None, None
    with open_app(data_dir) as app:
        if path.exists():
            found = check_file(app, path)
            if found is not None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                kept = path.with_name(f"{READ_MODEL_FILE}.{found.code}-{stamp}.sqlite")
                _copy_sqlite(path, kept)
        result = rebuild(app, path)
    return {
        "rollback": found.as_dict() if found else None,
        "message": {"vi": found.message("vi"), "en": found.message("en")} if found else None,
        "kept": str(kept) if kept else None,
        "position": result["position"],
        "events": result["events"],
        "digest": result["digest"],
    }


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (its WAL included)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)


# Threads per worker: requests whose head is complete (interfaces/http/worker.py);
# writes queue on the process's write lock, so more threads add no write speed,
# only room for clients that are slow to send a body or read an answer.
THREADS = 16


def serve(
    data_dir: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 2,
    timeout: int = 60,
    threads: int = THREADS,
    witness_interval: float | None = None,
) -> None:
    prepare_read_model(data_dir)
    Server(
        data_dir,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "interfaces.http.worker.EdgeWorker",
            "threads": threads,
            "timeout": timeout,
            "accesslog": "-",
            "errorlog": "-",
            "preload_app": False,
            "worker_exit": _worker_exit,
            "proc_name": "parindex",
        },
        witness_interval,
    ).run()
