"""The files a server must never serve, and a world whose paths to them are short.

The world lives in a short temporary folder so that an absolute path to its log key
fits in the 64 characters a hash has; the first admin key is also kept where
`parindex init` puts it by default (DIR/keys/admin.key)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.http_support import World, make_world


@contextmanager
def short_world(database_url: str | None) -> Iterator[World]:
    root = Path(tempfile.mkdtemp(prefix="pe-"))
    w = make_world(root, database_url)
    admin_key = w.env.data_dir / "keys" / "admin.key"
    shutil.copyfile(w.env.admin_key_file, admin_key)
    admin_key.chmod(0o600)
    try:
        yield w
    finally:
        w.env.app.close()
        shutil.rmtree(root, ignore_errors=True)


# -- what must never leave the server --------------------------------------------------
def secret_files(world: World) -> dict[str, Path]:
    data = world.env.data_dir
    files = {
        "log.key": data / "keys" / "log.key",
        "admin.key": data / "keys" / "admin.key",
        "parindex.json": data / "parindex.json",
    }
    for name in ("events.sqlite", "readmodel.sqlite"):
        if (data / name).exists():
            files[name] = data / name
    return files


def secret_needles(world: World) -> list[bytes]:
    """Byte strings any of which in a response means a key file leaked: each file
    whole, and each private key as text, raw bytes and hex."""
    files = secret_files(world)
    needles = [files["parindex.json"].read_bytes(), b"SQLite format 3\x00"]
    log_text = files["log.key"].read_text("ascii").strip()
    admin_private = json.loads(files["admin.key"].read_text("utf-8"))["private_key"]
    # PRIVATE+KEY+<origin>+<8 hex key hash>+<base64 key>, the base64 may hold '+'
    log_private = re.search(r"\+[0-9a-f]{8}\+(\S+)$", log_text).group(1)
    for b64 in (log_private, admin_private):
        raw = base64.b64decode(b64)
        seed = raw[-32:]
        needles += [
            b64.encode(),
            b64.rstrip("=").encode(),
            seed,
            seed.hex().encode(),
            base64.urlsafe_b64encode(seed).rstrip(b"="),
        ]
    needles.append(log_text.encode())
    return needles


def assert_nothing_secret(resp, needles: list[bytes], what: str) -> None:
    assert resp.status_code < 500, (what, resp.status_code, resp.get_data(as_text=True)[:500])
    seen = resp.get_data() + str(resp.headers).encode("utf-8", "replace")
    for needle in needles:
        assert needle not in seen, f"{what}: response carries secret bytes"


def fill_64(prefix: str, tail: str, step: str = "./") -> str:
    """prefix + padding + tail, exactly 64 characters."""
    room = 64 - len(prefix) - len(tail)
    assert room >= 0, (prefix, tail)
    return prefix + step * (room // len(step)) + "/" * (room % len(step)) + tail
