"""Following the event store into a read model.

`Follower(app, read_model)` reads notifications after the tracked position in
batches, decodes them with the application's mapper, and applies each batch
in one write transaction together with its tracking row. Rebuilding and
comparing whole models: `projections.rebuilder` (also importable from here).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from projections.apply import HANDLERS, Meta, ProjectionError, Projector
from projections.rows import utc_text
from projections.store import ReadModel
from projections.wakeup import Wakeup

log = logging.getLogger(__name__)
BATCH_SIZE = 1000
MAX_BATCH_SIZE = 20_000


class Follower:
    def __init__(
        self,
        app: Any,
        read_model: ReadModel,
        *,
        batch_size: int = BATCH_SIZE,
        max_batch_size: int = MAX_BATCH_SIZE,
        projector: Projector | None = None,
        guard: Any = None,
    ):
        self.app = app
        self.guard = guard  # projections.rollback.Guard: never apply onto a rolled-back log
        self.read_model = read_model
        self.batch_size = batch_size
        self.max_batch_size = max(batch_size, max_batch_size)
        self.projector = projector or Projector()
        self.last_error: BaseException | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader_lock: str | None = None
        self._lock_fd: int | None = None
        self._wakeup: Wakeup | None = None

    def position(self) -> int:
        return self.read_model.position()

    # -- catching up -----------------------------------------------------------
    def catch_up(self, max_batches: int | None = None, *, stop: int | None = None) -> int:
        """Applies what the read model lacks (up to notification `stop` if given);
        returns how many notifications this call applied."""
        with self._lock:
            return self._catch_up(max_batches, stop)

    def _catch_up(
        self, max_batches: int | None, stop: int | None, timeout: float | None = None
    ) -> int:
        """Batch by batch; each full batch makes the next one larger (up to
        `max_batch_size`): far behind, fewer batches mean fewer score
        recomputations, since a unit is recomputed once per batch it changes in."""
        applied = batches = 0
        size = self.batch_size
        while max_batches is None or batches < max_batches:
            after = self.read_model.position()
            notifications = self.app.recorder.select_notifications(
                after, size, stop, inclusive_of_start=False
            )
            if not notifications:
                break
            leaves = self._leaf_indices(notifications)
            done = self._write(
                after,
                notifications,
                self._decode(notifications, leaves),
                timeout,
                self._anchor(notifications, leaves),
            )
            if done is None:
                continue  # the file was swapped for one further behind: read again
            applied += done
            batches += 1
            if len(notifications) < size:
                break
            size = min(size * 4, self.max_batch_size)
        return applied

    def _anchor(
        self, notifications: Sequence[Any], leaves: dict[int, int]
    ) -> tuple[int, bytes] | None:
        """(size, root) of the log up to the batch's last event: what the read model
        will have been built from (projections.rollback compares it later)."""
        index = leaves.get(notifications[-1].id)
        if index is None:
            return None
        try:
            return index + 1, self.app.tlog.root(index + 1)
        except LookupError:  # nodes missing: verify reports it; no anchor this batch
            return None

    def _write(
        self,
        after: int,
        notifications: Sequence[Any],
        items: list[tuple[Meta, Any]],
        timeout: float | None = None,
        anchor: tuple[int, bytes] | None = None,
    ) -> int | None:
        """Applies the notifications read after position `after` that the file
        still lacks; None if the file is now behind `after` (a rebuild swapped
        in a generation that is further behind), as applying would leave a gap."""
        last = notifications[-1].id
        with self.read_model.write(timeout) as cur:
            position = self.read_model.position_in(cur)
            if position < after:
                return None
            if last <= position:
                return 0  # another follower of this file got here first
            self.projector.apply(cur, [(m, e) for m, e in items if m.notification_id > position])
            self.read_model.record_position(cur, last)
            if anchor is not None:
                self.read_model.record_anchor(cur, last, *anchor)
        return sum(1 for n in notifications if n.id > position)

    def _decode(
        self, notifications: Sequence[Any], leaves: dict[int, int]
    ) -> list[tuple[Meta, Any]]:
        wanted = [n for n in notifications if n.topic in HANDLERS]
        decode = self.app.mapper.to_domain_event
        ids: dict[Any, str] = {}
        out = []
        for n in wanted:
            oid = ids.get(n.originator_id)
            if oid is None:
                oid = ids[n.originator_id] = str(n.originator_id)
            try:
                event = decode(n)
                at = utc_text(event.timestamp)
            except Exception as exc:
                raise ProjectionError(n.id, n.topic, exc) from exc
            signed = getattr(event, "signed", None)
            out.append(
                (
                    Meta(
                        n.id,
                        n.topic,
                        oid,
                        n.originator_version,
                        leaves.get(n.id),
                        at,
                        signed if isinstance(signed, dict) else None,
                    ),
                    event,
                )
            )
        return out

    def _leaf_indices(self, notifications: Sequence[Any]) -> dict[int, int]:
        """Notification id -> leaf index for a batch of consecutive notifications.

        Each event has one leaf and leaves are appended in notification order,
        so when the batch's first and last events sit `len - 1` leaves apart,
        the k-th notification is the k-th leaf (two look-ups per batch).
        Otherwise (a damaged store) every event is looked up by its own leaf.
        """
        if not notifications:
            return {}
        tlog = self.app.tlog
        head, tail = notifications[0], notifications[-1]
        first = tlog.leaf_of_event(head.originator_id, head.originator_version)
        last = tlog.leaf_of_event(tail.originator_id, tail.originator_version)
        if (
            first is not None
            and last is not None
            and last.leaf_index - first.leaf_index == len(notifications) - 1
            and first.notification_id in (None, head.id)
            and last.notification_id in (None, tail.id)
        ):
            return {n.id: first.leaf_index + k for k, n in enumerate(notifications)}
        found: dict[int, int] = {}
        for n in notifications:
            row = tlog.leaf_of_event(n.originator_id, n.originator_version)
            if row is not None:
                found[n.id] = row.leaf_index
        return found

    # -- read-your-writes --------------------------------------------------------
    def wait_for(self, position: int, timeout: float) -> bool:
        """True once the read model has applied notification `position`; catches up
        itself meanwhile, and gives up (False) after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if self.read_model.position() >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._lock.acquire(timeout=remaining):
                try:
                    # Bounded too: another writer of the file (a worker applying a
                    # large batch) must not hold this read past `timeout`.
                    self._catch_up(1, None, max(deadline - time.monotonic(), 0.001))
                finally:
                    self._lock.release()
            else:
                continue
            if self.read_model.position() < position:
                time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))

    # -- background polling ------------------------------------------------------
    def start(self, interval: float = 0.2, *, leader_lock: str | None = None) -> None:
        """Follows in a background thread. With `leader_lock` (a file path), only
        the process holding an exclusive lock on it follows; the others wait to
        take over, so the workers of one server don't all apply the same events
        (reads that pass a position still catch up for themselves)."""
        if self._thread is not None:
            return
        self._leader_lock = leader_lock
        self._stop.clear()
        self._wakeup = Wakeup(self.app.recorder, self._wake)
        self._wakeup.start()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), daemon=True, name="parindex-projection"
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._wakeup is not None:
            self._wakeup.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock: another worker takes over
            self._lock_fd = None

    def _lead(self) -> bool:
        if self._leader_lock is None:
            return True
        if self._lock_fd is None:
            import fcntl

            fd = os.open(self._leader_lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._lock_fd = fd  # held for the life of the process
        return True

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            if not self._lead():
                self._stop.wait(max(interval, 1.0))
                continue
            try:
                rollback = self.guard.status() if self.guard is not None else None
                if rollback is not None:
                    # New events on a rolled-back log reuse positions the read model
                    # already holds: applying them would mix two histories.
                    if self.last_error is None or str(self.last_error) != rollback.code:
                        log.error("%s", rollback.message("en"))
                    self.last_error = RuntimeError(rollback.code)
                else:
                    self.catch_up()
                    self.last_error = None
            except Exception as exc:  # keep following; the next poll retries
                self.last_error = exc
                log.exception("read model follower failed")
            self._wake.wait(interval)
            self._wake.clear()


def decode_stored(app: Any, aggregate_id: str, last_leaf: int) -> list[tuple[Meta, Any]]:
    """One aggregate's events up to leaf `last_leaf`, decoded as the follower decodes
    them (projections/as_of.py rebuilds a unit from these)."""
    from uuid import UUID

    aid = UUID(aggregate_id)
    leaves = {r.originator_version: r for r in app.tlog.aggregate_leaves(aid, last_leaf)}
    if not leaves:
        return []
    out = []
    for stored in app.recorder.select_events(aid, lte=max(leaves)):
        leaf = leaves.get(stored.originator_version)
        if leaf is None or stored.topic not in HANDLERS:
            continue
        event = app.mapper.to_domain_event(stored)
        signed = getattr(event, "signed", None)
        meta = Meta(
            leaf.notification_id or 0,
            stored.topic,
            str(aid),
            stored.originator_version,
            leaf.leaf_index,
            utc_text(event.timestamp),
            signed if isinstance(signed, dict) else None,
        )
        out.append((meta, event))
    return out


def __getattr__(name: str) -> Any:
    """`rebuild`, `compare` and `digest` live in projections.rebuilder; importable here too."""
    if name in ("rebuild", "compare", "digest", "open_current"):
        return getattr(importlib.import_module("projections.rebuilder"), name)
    raise AttributeError(name)
