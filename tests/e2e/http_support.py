"""What the HTTP end-to-end tests share: a deployment with a cycle, keys, a client.

`World` is a real deployment (SQLite, temporary directory) with the bundled Thái
Nguyên framework published, one cycle `tn-2025` (province thai-nguyen, authority
dong-hy, units xa-01..xa-03) and keys for a commune officer of xa-01 and an
appraiser of dong-hy. `Http` wraps Flask's test client and signs like a client.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from application.signing import keys
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from interfaces.http.signing import authorization
from tests.support import (
    Env,
    Key,
    command,
    drop_pg_schema,
    make_env,
    new_key,
    pg_base_url,
    pg_schema_url,
    register_command,
)

CYCLE, PROVINCE, AUTHORITY = "tn-2025", "thai-nguyen", "dong-hy"
UNITS = ("xa-01", "xa-02", "xa-03")
PROBLEM = "application/problem+json"


@dataclass
class World:
    env: Env
    framework_id: str
    keys: dict[str, Key] = field(default_factory=dict)

    @property
    def app(self):
        return self.env.app

    def key(self, role: str, scope: str, name: str | None = None) -> Key:
        """A registered key (made once per role/scope/name)."""
        label = name or f"{role}|{scope}"
        if label not in self.keys:
            key = new_key()
            self.env.send(register_command(self.env.admin, key, role, scope))
            self.keys[label] = key
        return self.keys[label]

    def cycle_up_to(self, code: str, upto: str = "published") -> dict | None:
        """Opens cycle `code` (unit xa-01, nobody submits) and takes it through the
        season's end up to `upto`: open, closed, proposed, approved, published.
        Returns the proposal's manifest once there is one."""
        units = [{"code": UNITS[0], "name": "Xã 01"}]
        self.env.send(
            command(
                self.env.admin,
                "open_cycle",
                cycle=code,
                name="Kỳ thử",
                framework=self.framework_id,
                year=2025,
                authority=AUTHORITY,
                province=PROVINCE,
                units=units,
            )
        )
        if upto == "open":
            return None
        council = self.key("council_chair", f"authority:{AUTHORITY}")
        approver = self.key("approver", f"province:{PROVINCE}")
        return self.env.season_end(code, council, approver, upto)

    def key_file(self, key: Key, path: Path) -> Path:
        if not path.exists():
            keys.write_key_file(
                path,
                json.dumps(
                    {
                        "kind": keys.ACTOR_KEY_FILE_KIND,
                        "key_id": key.key_id,
                        "public_key": key.public_key,
                        "private_key": keys.b64(keys.private_raw(key.private)),
                    }
                ).encode(),
            )
        return path

    @property
    def officer(self) -> Key:
        return self.key("commune_officer", f"commune:{UNITS[0]}")

    @property
    def appraiser(self) -> Key:
        return self.key("appraiser", f"authority:{AUTHORITY}")

    @property
    def admin(self) -> Key:
        return self.env.admin


_PG_SCHEMAS: list[tuple[str, str]] = []


def _world_database_url() -> str | None:
    """PARINDEX_E2E_BACKEND=postgres runs the HTTP end-to-end tests with the event
    store on PostgreSQL (.ci/run does a second pass that way); one fresh schema
    per world, dropped when the test process ends."""
    if os.environ.get("PARINDEX_E2E_BACKEND") != "postgres":
        return None
    base = pg_base_url()
    if base is None:
        raise RuntimeError("PARINDEX_E2E_BACKEND=postgres needs PARINDEX_TEST_POSTGRES_URL")
    if not _PG_SCHEMAS:
        atexit.register(lambda: [drop_pg_schema(b, s) for b, s in _PG_SCHEMAS])
    schema = f"t_{uuid.uuid4().hex}"
    _PG_SCHEMAS.append((base, schema))
    return pg_schema_url(base, schema)


@contextmanager
def flask_client(world: World) -> Iterator[Http]:
    """A Flask test client on the world's data dir (no background follower)."""
    from interfaces.http.app import create_app, services_of

    flask = create_app(world.env.data_dir, follow=False)
    try:
        yield Http(flask.test_client())
    finally:
        services_of(flask).close()


def make_world(root: Path, database_url: str | None = None) -> World:
    env = make_env(root, database_url or _world_database_url())
    framework = to_dict(load_bundled("thai-nguyen-2021-commune"))
    env.send(command(env.admin, "publish_framework", framework=framework))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=CYCLE,
            name="Kỳ đánh giá 2025",
            framework=framework["id"],
            year=2025,
            authority=AUTHORITY,
            province=PROVINCE,
            units=[{"code": u, "name": f"Xã {u[-2:]}"} for u in UNITS],
        )
    )
    world = World(env, framework["id"])
    _ = world.officer, world.appraiser  # registered up front
    return world


class Http:
    """Flask's test client, signing requests and commands like a real client."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def get(
        self,
        path: str,
        key: Key | None = None,
        *,
        lang: str | None = None,
        headers: dict | None = None,
        created: str | None = None,
    ):
        h = dict(headers or {})
        if lang:
            h["Accept-Language"] = lang
        if key is not None:
            h["Authorization"] = authorization(
                key.key_id, key.private, "GET", path, created=created
            )
        return self.client.get(path, headers=h)

    def put_blob(self, data: bytes, content_type: str, key: Key | None):
        h = {"Content-Type": content_type}
        if key is not None:
            h["Authorization"] = authorization(
                key.key_id, key.private, "PUT", "/api/v1/evidence/blobs", data
            )
        return self.client.put("/api/v1/evidence/blobs", data=data, headers=h)

    def post(self, envelope: Any, *, lang: str | None = None):
        h = {"Accept-Language": lang} if lang else {}
        return self.client.post("/api/v1/commands", json=envelope, headers=h)

    def send(self, key: Key, type_: str, **fields: Any):
        return self.post(key.sign(command(key, type_, **fields)))


def assert_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM, resp.headers
    body = resp.get_json(force=True)
    assert body["code"] == code, body
    assert body["type"] == f"https://parindex.vn/problems/{code}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


# -- the command line ---------------------------------------------------------------
def cli_parser(build=None):
    """`parindex`'s parser, with the client and serve commands even before main.py
    registers them itself."""
    from interfaces.cli import client_cmd, serve_cmd
    from interfaces.cli.main import build_parser

    parser = (build or build_parser)()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, module in (("serve", serve_cmd), ("why", client_cmd)):
        if name not in sub.choices:
            module.register(sub)
    return parser


def run_cli(argv: list[str]) -> int:
    """What `parindex ARGS` does (main.main with the parser above)."""
    from interfaces.cli import main as cli_main

    original = cli_main.build_parser
    cli_main.build_parser = lambda: cli_parser(original)
    try:
        return cli_main.main(argv)
    finally:
        cli_main.build_parser = original


@contextmanager
def cli_site(root: Path, people: Callable[[World], dict], workers: int = 2) -> Iterator[dict]:
    """A world served by `parindex serve`, with a key file per person:
    {"world", "url", "root", name: key file path} for `people(world)` = {name: Key}."""
    world = make_world(root)
    server = Served(world.env.data_dir, workers=workers)
    keys_dir = root / "keys"
    keys_dir.mkdir()
    try:
        site: dict = {"world": world, "url": server.url, "root": root}
        for name, key in people(world).items():
            site[name] = str(world.key_file(key, keys_dir / f"{name}.key"))
        yield site
    finally:
        server.stop()
        world.env.app.close()


def run_cli_as(capsys, site: dict, who: str, *args: str) -> tuple[int, str, str]:
    """`parindex ARGS --url site[url] --key site[who]`: (exit code, stdout, stderr)."""
    code = run_cli([*args, "--url", site["url"], "--key", site[who]])
    out = capsys.readouterr()
    return code, out.out, out.err


# -- a real server ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`parindex serve` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, data_dir: Path, workers: int = 2, extra: tuple[str, ...] = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The server's log goes to a file: a pipe nobody reads would fill up and
        # stall the server once enough refusals were logged.
        self.log_path = Path(data_dir).parent / f"serve-{self.port}.log"
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.e2e.http_support import run_cli; "
                "sys.exit(run_cli(sys.argv[1:]))",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            cwd=Path(__file__).resolve().parents[2],
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"parindex serve did not start: {self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, size: int = 3000) -> str:
        return self.log_path.read_bytes()[-size:].decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
