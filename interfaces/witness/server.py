"""`parindex witness serve`: one gunicorn worker (the state lock is also a file lock,
so a second process on the same directory waits its turn rather than racing)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from application.transparency.witness_home import open_witness
from interfaces.witness.app import create_witness_app


class WitnessServer(BaseApplication):
    def __init__(self, data_dir: str, logs: list[str], options: dict[str, Any]):
        self.data_dir, self.logs, self.options = data_dir, logs, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings and value is not None:
                self.cfg.set(name, value)

    def load(self):
        return create_witness_app(open_witness(self.data_dir, self.logs))


def serve(data_dir: str, logs: Iterable[str], host: str, port: int, threads: int = 8) -> None:
    open_witness(data_dir, logs)  # refuse now, in the foreground, on a bad state
    WitnessServer(
        data_dir,
        list(logs),
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "threads": threads,
            "timeout": 30,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "parindex-witness",
        },
    ).run()
