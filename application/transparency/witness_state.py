"""What a witness remembers: the last checkpoint it cosigned for each log, on disk.

One JSON file (``state.json`` in the witness's directory)::

    {"format": "parindex-witness-state/v1",
     "witness": "<the witness's vkey>",
     "logs": {"<origin>": {"size": N, "root": "<base64>", "note": "<cosigned note>",
                           "updated_at": "2026-12-03T07:00:00Z"}}}

``note`` is the checkpoint with the log signatures the witness verified and
its own cosignature, nothing else the client sent (a line that merely *looks*
like the witness's would otherwise be stored and make the note unreadable).

Writes are atomic: a temporary file in the same directory is written,
fsynced, renamed over the old one, and the directory is fsynced; a crash
leaves the old state or the new one, never a mix. Every read re-validates the
whole file (format, this witness's key, each entry's note and cosignature);
anything that does not hold raises ``StateError`` rather than being read as
"no state", because a witness that forgets is a witness that can be rolled
back. ``transaction()`` holds a lock (threads and processes) across
read-check-write, so two requests cannot both pass the check of one size.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from application.signing.keys import b64, unb64
from application.transparency.cosignature import CosignatureVerifier
from application.transparency.note import (
    NoteError,
    UnverifiedNoteError,
    open_note,
    parse_checkpoint,
)

__all__ = ["STATE_FORMAT", "LogState", "StateError", "WitnessState", "open_cosigned_by_self"]

STATE_FORMAT = "parindex-witness-state/v1"
#: A state file larger than this is not one we wrote (thousands of logs fit).
MAX_STATE_BYTES = 64 * 1024 * 1024
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class StateError(RuntimeError):
    """The state file is missing, unreadable, or not what this witness wrote."""


@dataclass(frozen=True)
class LogState:
    """The last checkpoint cosigned for one log."""

    size: int
    root: bytes
    note: str
    updated_at: str


class WitnessState:
    """The state file of one witness, checked against the witness's own key."""

    def __init__(self, path: str | os.PathLike[str], witness: CosignatureVerifier) -> None:
        self.path = Path(path)
        self.witness = witness
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(str(self.path.resolve()), threading.Lock())

    def create(self) -> None:
        """Write an empty state; refuse if one exists (never reset a witness silently)."""
        if self.path.exists():
            raise StateError(f"state file {self.path} already exists")
        self._write({})

    def load(self) -> dict[str, LogState]:
        """Read and validate the whole state; raise ``StateError`` on any fault."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError as exc:
            raise StateError(f"state file {self.path} is missing") from exc
        except OSError as exc:
            raise StateError(f"state file {self.path} cannot be read: {exc.strerror}") from exc
        if len(raw) > MAX_STATE_BYTES:
            raise StateError("state file is too large")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise StateError("state file is not valid JSON (truncated or corrupted)") from exc
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise StateError(f"state file is not {STATE_FORMAT}")
        if doc.get("witness") != self.witness.vkey:
            raise StateError("state file belongs to another witness key")
        logs = doc.get("logs")
        if not isinstance(logs, dict):
            raise StateError("state file has no logs object")
        return {origin: self._entry(origin, value) for origin, value in logs.items()}

    @contextmanager
    def transaction(self) -> Iterator[dict[str, LogState]]:
        """Yield the validated state under an exclusive lock; on a clean exit, save it.

        The caller mutates the yielded dict; an exception inside the block
        leaves the file untouched.
        """
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                state = self.load()
                before = dict(state)
                yield state
                if state != before:
                    self._write(state)
            finally:
                os.close(fd)  # releases the flock

    def _entry(self, origin: str, value: object) -> LogState:
        if not isinstance(value, dict):
            raise StateError(f"state entry for {origin!r} is not an object")
        size, root64, note, when = (value.get(k) for k in ("size", "root", "note", "updated_at"))
        if type(size) is not int or not isinstance(root64, str) or not isinstance(note, str):
            raise StateError(f"state entry for {origin!r} is malformed")
        try:
            root = unb64(root64)
            opened = open_cosigned_by_self(note, self.witness)
            cp = parse_checkpoint(opened)
        except (ValueError, NoteError) as exc:
            raise StateError(f"state entry for {origin!r} does not check out: {exc}") from exc
        if (cp.origin, cp.size, cp.root) != (origin, size, root):
            raise StateError(f"state entry for {origin!r} differs from its cosigned note")
        return LogState(size=size, root=root, note=note, updated_at=str(when))

    def _write(self, logs: dict[str, LogState]) -> None:
        doc = {
            "format": STATE_FORMAT,
            "witness": self.witness.vkey,
            "logs": {
                origin: {
                    "size": s.size,
                    "root": b64(s.root),
                    "note": s.note,
                    "updated_at": s.updated_at,
                }
                for origin, s in sorted(logs.items())
            },
        }
        data = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself must survive a power cut
        finally:
            os.close(dir_fd)


def open_cosigned_by_self(note: str, witness: CosignatureVerifier) -> str:
    """The body of ``note`` if it carries this witness's valid cosignature.

    The log's key is not needed here: the witness checked it before cosigning,
    and its own cosignature is what vouches for the stored entry.
    """
    try:
        opened = open_note(note, [witness])
    except UnverifiedNoteError as exc:
        raise NoteError("the stored note has no cosignature by this witness") from exc
    return opened.text
