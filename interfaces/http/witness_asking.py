"""A running server asks its witnesses to cosign (docs/API.md, "Asking witnesses").

When: after each `propose_ranking`, `approve_ranking` and `publish_ranking`;
after the first command at or after any deadline of a cycle (a deadline this
process has not yet seen pass); and every `interval` seconds (0: never) by the
one worker that holds the leader lock, skipped when every witness already
cosigned the log's head. Never in the request: a command only wakes this
process's background thread, so a slow or dead witness never delays or fails a
command. Each ask is bounded (a short HTTP timeout per witness) and one at a
time: across the workers of a data directory by a file lock, across servers
sharing a PostgreSQL store by an advisory lock. The outcome of the last ask
(every answer, or the error) is written to `DIR/witnesses.status.json`, logged
when something failed, and shown by `/healthz` (`witnesses`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from application.transparency.cosignature_store import CosignatureStore
from application.transparency.witness_client import MAX_ANSWER_BYTES, ask_for_latest

log = logging.getLogger("parindex.witnesses")

RANKING_COMMANDS = frozenset({"propose_ranking", "approve_ranking", "publish_ranking"})
STATUS_FILE = "witnesses.status.json"
TIMEOUT_SECONDS = 5.0
LOCK_WAIT_SECONDS = 30.0
DEADLINES_TTL = 30.0
_PG_LOCK_KEY = 0x70617277  # "parw": one asker at a time per PostgreSQL database


def short_post(url: str, body: bytes) -> tuple[int, bytes]:
    """witness_client.http_post with a shorter bound: a witness may not hold a server."""
    req = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint", data=body, method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_ANSWER_BYTES)


def read_status(data_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(data_dir) / STATUS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None


class WitnessAsker:
    def __init__(
        self,
        app,
        data_dir: str | Path,
        deadlines: Callable[[], list[float]],
        interval: float,
        post: Callable[[str, bytes], tuple[int, bytes]] = short_post,
    ) -> None:
        self.app, self.data_dir, self.interval, self.post = app, Path(data_dir), interval, post
        self._deadlines_of = deadlines
        self._deadlines: tuple[float, list[float]] = (0.0, [])
        self._last_command = 0.0  # so the first command after a start sees passed deadlines
        self._requested = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader_fd: int | None = None

    # -- when --------------------------------------------------------------------------
    def after_command(self, command_type: str) -> None:
        """Called after a command was written; cheap, never raises, never blocks."""
        try:
            now = time.time()
            last, self._last_command = self._last_command, now
            if command_type in RANKING_COMMANDS or any(last < d <= now for d in self._due()):
                self.request()
        except Exception:  # noqa: BLE001 - a hint to ask must never fail a command
            log.exception("witness asking: could not decide whether to ask")

    def request(self) -> None:
        self._requested.set()
        self._wake.set()

    def _due(self) -> list[float]:
        at, found = self._deadlines
        if time.monotonic() - at > DEADLINES_TTL:
            try:
                found = self._deadlines_of()
            except Exception:  # noqa: BLE001 - the read model may be busy: next time
                found = self._deadlines[1]
            self._deadlines = (time.monotonic(), found)
        return found

    # -- the thread ----------------------------------------------------------------------
    def start(self, leader_lock: str | None = None) -> None:
        self._leader_lock = leader_lock
        self._thread = threading.Thread(target=self._run, daemon=True, name="parindex-witness")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * TIMEOUT_SECONDS * max(1, len(self._witnesses())))
        if self._leader_fd is not None:
            os.close(self._leader_fd)
            self._leader_fd = None

    def _run(self) -> None:
        next_at = time.monotonic() if self.interval > 0 else None
        while not self._stop.is_set():
            wait = None if next_at is None else max(0.0, next_at - time.monotonic())
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            due = next_at is not None and time.monotonic() >= next_at
            if self._requested.is_set():
                self._requested.clear()
                self.ask_now()
            elif due and self._lead():
                self.ask_now(skip_if_seen=True)
            if due:
                next_at = time.monotonic() + self.interval

    def _lead(self) -> bool:
        if self._leader_lock is None or self._leader_fd is not None:
            return True
        fd = os.open(self._leader_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._leader_fd = fd  # held for the life of the process
        return True

    def _witnesses(self) -> list[dict]:
        return list(self.app.settings.witnesses)

    # -- asking --------------------------------------------------------------------------
    def ask_now(self, *, skip_if_seen: bool = False) -> dict | None:
        """Asks every witness to cosign the head; returns the status written (None:
        skipped, every witness already cosigned the head). Never raises."""
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with self._one_at_a_time():
                if skip_if_seen and self._seen():
                    return None
                checkpoint, answers = ask_for_latest(self.app, self.post)
            status = {
                "at": started,
                "size": checkpoint.size,
                "answers": [a.as_dict() for a in answers],
                "error": None,
            }
            for a in answers:
                if a.status != "cosigned":
                    log.warning("witness %s (%s): %s %s", a.witness, a.url, a.status, a.detail)
        except Exception as exc:  # noqa: BLE001 - best effort: logged and shown, never raised
            log.warning("asking the witnesses failed: %s", exc)
            status = {"at": started, "size": None, "answers": [], "error": str(exc)[:500]}
        self._write(status)
        return status

    def _seen(self) -> bool:
        size = self.app.tlog.size()
        latest = self.app.tlog.latest_checkpoint()
        if latest is None or latest.size != size:
            return False
        store = CosignatureStore(self.app.tlog)
        return all(store.last_size(w["vkey"]) >= size for w in self._witnesses())

    @contextlib.contextmanager
    def _one_at_a_time(self) -> Iterator[None]:
        fd = os.open(self.data_dir / "witnesses.ask.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _wait_for(lambda: _try_flock(fd), self._stop)
            if self.app.settings.database_url:
                with self.app.tlog.datastore.transaction(commit=False) as cur:
                    take = "SELECT pg_try_advisory_xact_lock(%s) AS ok"
                    _wait_for(lambda: _try_pg(cur, take), self._stop)
                    yield
            else:
                yield
        finally:
            os.close(fd)  # releases the file lock

    def _write(self, status: dict) -> None:
        path = self.data_dir / STATUS_FILE
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=f".{STATUS_FILE}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(status, f, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            log.exception("could not write %s", path)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _try_pg(cur, statement: str) -> bool:
    cur.execute(statement, (_PG_LOCK_KEY,))
    return bool(cur.fetchone()["ok"])


def _wait_for(take: Callable[[], bool], stop: threading.Event) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not take():
        if stop.is_set() or time.monotonic() > deadline:
            raise TimeoutError("another server is asking the witnesses")
        time.sleep(0.1)


def deadlines_of(queries) -> list[float]:
    """Every deadline of every cycle (and each unit's own), as POSIX seconds."""
    out: list[float] = []
    for cycle in queries.cycles():
        texts = list((cycle.get("deadlines") or {}).values())
        for own in (cycle.get("unit_deadlines") or {}).values():
            texts += list(own.values())
        for text in texts:
            with contextlib.suppress(TypeError, ValueError):
                out.append(datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp())
    return sorted(out)
