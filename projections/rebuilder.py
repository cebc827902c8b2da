"""Rebuilding a read model from position 0, its digest, and comparing one.

`rebuild` builds a new generation file from position 0 and swaps it in;
`compare` rebuilds in a temporary file up to the same position as an existing
model and reports each table that differs (what `parindex verify` reports as
"read_model_differs").
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from typing import Any

from projections.apply import Projector
from projections.follower import Follower, ProjectionError
from projections.store import PrivateModel, ReadModel, combine


def digest(read_model: ReadModel) -> str:
    """sha256 over every derived table's rows (tracking excluded): "sha256:<hex>"."""
    return read_model.digest()


def _build(
    app: Any, path: str, stop: int | None = None, batch_size: int = 1000
) -> tuple[ReadModel, int]:
    model = PrivateModel(path)
    try:
        follower = Follower(
            app,
            model,
            batch_size=batch_size,
            max_batch_size=batch_size,
            projector=Projector(keep_units=True, defer_scores=True),
        )
        events = follower.catch_up(stop=stop)
        with model.write() as cur:
            follower.projector.finish(cur)
    except BaseException:
        model.close()
        _remove(path, f"{path}-journal", f"{path}-wal", f"{path}-shm")
        raise
    return model, events


def rebuild(app: Any, path: str | os.PathLike, *, batch_size: int = 1000) -> dict:
    """A new read model from position 0, swapped in atomically.

    The new file is a generation beside `path` ("<name>.<hex>.gen"), and `path`
    becomes a symbolic link to it (os.replace of the link): the old
    generation's open connections keep their own files until they reopen.
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    generation = f"{name}.{time.time_ns():x}{uuid.uuid4().hex[:6]}.gen"
    started, cpu = time.perf_counter(), time.process_time()
    model, events = _build(app, os.path.join(directory, generation), batch_size=batch_size)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    try:
        position, tables = model.digests_at()
        total = combine(tables)
    finally:
        model.close()
    old = os.path.realpath(path) if os.path.lexists(path) else None
    link = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.link")
    os.symlink(generation, link)
    os.replace(link, path)
    _remove_old(path, old)
    return {
        "path": path,
        "generation": generation,
        "position": position,
        "events": events,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "events_per_second": round(events / seconds) if seconds else None,
        "digest": total,
        "tables": tables,
    }


def _remove_old(path: str, old: str | None) -> None:
    """Removes the previous generation (only a file this module made) and the
    WAL files of a plain file that `path` was before it became a link."""
    stale = [f"{path}-wal", f"{path}-shm"]
    directory, name = os.path.split(path)
    if (
        old is not None
        and old != os.path.realpath(path)
        and os.path.dirname(old) == os.path.realpath(directory)
        and os.path.basename(old).startswith(f"{name}.")
        and old.endswith(".gen")
    ):
        stale += [old, f"{old}-wal", f"{old}-shm"]
    _remove(*stale)


def _remove(*names: str) -> None:
    for name in names:
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


def open_current(app: Any, path: str | os.PathLike, *, rebuild_behind: int = 20_000) -> ReadModel:
    """The read model at `path`, rebuilt first if it is missing, of another
    schema version, or more than `rebuild_behind` notifications behind the
    log (a private rebuild is faster than catching up). Call it once before
    serving (e.g. before gunicorn forks its workers), then follow."""
    head = app.recorder.max_notification_id() or 0
    if os.path.exists(path):
        model = ReadModel(path)
        if not model.outdated and head - model.position() <= rebuild_behind:
            return model
        model.close()
    rebuild(app, path)
    return ReadModel(path)


def compare(app: Any, path: str | os.PathLike) -> list[dict]:
    """Differences between the read model at `path` and one rebuilt from the log
    up to the same position: [] when every table is identical."""
    path = os.fspath(path)
    if not os.path.exists(path):
        return [{"kind": "read_model_missing", "table": None, "position": None}]
    existing = ReadModel(path)
    try:
        position, actual = existing.digests_at()
    finally:
        existing.close()
    with tempfile.TemporaryDirectory(prefix="parindex-compare-") as tmp:
        try:
            fresh, _ = _build(app, os.path.join(tmp, "fresh.sqlite"), stop=position)
        except ProjectionError as exc:
            return [
                {
                    "kind": "read_model_rebuild_failed",
                    "table": None,
                    "position": position,
                    "notification_id": exc.notification_id,
                    "detail": str(exc),
                }
            ]
        try:
            rebuilt_at, expected = fresh.digests_at()
        finally:
            fresh.close()
    out = []
    if rebuilt_at != position:
        out.append(
            {
                "kind": "read_model_position",
                "table": "tracking",
                "position": position,
                "log_position": rebuilt_at,
            }
        )
    for table in sorted(expected):
        if expected[table] != actual.get(table):
            out.append(
                {
                    "kind": "read_model_differs",
                    "table": table,
                    "position": position,
                    "expected": expected[table],
                    "actual": actual.get(table),
                }
            )
    return out
