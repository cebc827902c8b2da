"""`parindex serve`: gunicorn, each worker with its own app and read-model follower."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    def __init__(self, data_dir: str, options: dict[str, Any]):
        self.data_dir = data_dir
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings and value is not None:
                self.cfg.set(name, value)

    def load(self):
        # Runs in each worker after the fork: its own store connections and follower.
        from interfaces.http.app import create_app

        return create_app(self.data_dir, follow=True)


def _worker_exit(_server: Any, worker: Any) -> None:
    flask = getattr(worker, "wsgi", None)
    extensions = getattr(flask, "extensions", {})
    if "parindex" in extensions:
        extensions["parindex"].close()


def prepare_read_model(data_dir: str) -> None:
    """Before forking: bring the read model up to date in one pass (a rebuild is
    far faster than catching up batch by batch), so workers start current."""
    from application.deployment import open_app
    from interfaces.http.app import READ_MODEL_FILE
    from projections.rebuilder import open_current

    with open_app(data_dir) as app:
        open_current(app, str(Path(data_dir) / READ_MODEL_FILE)).close()


# Threads per worker: requests whose head is complete (interfaces/http/worker.py);
# writes queue on the process's write lock, so more threads add no write speed,
# only room for clients that are slow to send a body or read an answer.
THREADS = 16


def serve(data_dir: str, host: str = "127.0.0.1", port: int = 8080, workers: int = 2,
          timeout: int = 60, threads: int = THREADS) -> None:
    prepare_read_model(data_dir)
    Server(data_dir, {
        "bind": f"{host}:{port}", "workers": workers,
        "worker_class": "interfaces.http.worker.EdgeWorker", "threads": threads,
        "timeout": timeout, "accesslog": "-", "errorlog": "-", "preload_app": False,
        "worker_exit": _worker_exit, "proc_name": "parindex",
    }).run()
