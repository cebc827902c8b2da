"""Is the read model ahead of its log? (the event store restored from an older copy)

A read model is derived from the log and nothing else, so it can never hold
more than the log does. When it does, the log lost events the read model saw:
someone restored the event store (or deleted its tail) and kept the read model.
Serving then would show scores the log no longer proves, and new writes would
reuse positions the read model already holds. Two checks:

- `read_model_ahead`: the read model's tracking position is beyond the store's
  newest notification id, or its anchored log size beyond the log's size;
- `read_model_diverged`: the log's root over the anchored size differs from the
  root the read model recorded (a restore of the same length, other content).

The anchor (position, size, root) is written by the follower with each batch,
in the batch's transaction (projections.store.ReadModel.record_anchor).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from projections.store import ReadModel


@dataclass(frozen=True)
class Rollback:
    code: str  # "read_model_ahead" | "read_model_diverged"
    position: int  # the read model's tracking position
    log_position: int  # the store's newest notification id
    size: int | None  # the log size the read model was built from
    log_size: int  # the log's size now

    def message(self, lang: str = "vi") -> str:
        if self.code == "read_model_diverged":
            if lang == "en":
                return (
                    f"The event log differs from the one the read model was built from "
                    f"(its first {self.size} leaves have another root): the event store was "
                    "replaced. Nothing is served until the operator rebuilds the read model "
                    "(`parindex rebuild-read-model`) and checks the log (`parindex verify`)."
                )
            return (
                f"Nhật ký sự kiện khác với nhật ký đã dựng dữ liệu đọc ({self.size} lá đầu "
                "có gốc Merkle khác): kho sự kiện đã bị thay thế. Máy chủ không phục vụ cho "
                "tới khi người vận hành dựng lại dữ liệu đọc (`parindex rebuild-read-model`) "
                "và kiểm tra nhật ký (`parindex verify`)."
            )
        if lang == "en":
            return (
                f"The read model is ahead of the event log (read model at position "
                f"{self.position}, log at {self.log_position}; log size {self.log_size}"
                f"{f', read model built from {self.size}' if self.size else ''}): the event "
                "store was restored from an older copy or lost its tail. Nothing is served "
                "until the operator rebuilds the read model (`parindex rebuild-read-model`) "
                "and checks the log (`parindex verify`)."
            )
        return (
            f"Dữ liệu đọc đi trước nhật ký sự kiện (dữ liệu đọc ở vị trí {self.position}, "
            f"nhật ký ở {self.log_position}; nhật ký có {self.log_size} lá"
            f"{f', dữ liệu đọc dựng từ {self.size} lá' if self.size else ''}): kho sự kiện "
            "đã bị khôi phục từ bản cũ hoặc mất phần đuôi. Máy chủ không phục vụ cho tới khi "
            "người vận hành dựng lại dữ liệu đọc (`parindex rebuild-read-model`) và kiểm tra "
            "nhật ký (`parindex verify`)."
        )

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "position": self.position,
            "log_position": self.log_position,
            "size": self.size,
            "log_size": self.log_size,
        }


def check(app: Any, read_model: ReadModel) -> Rollback | None:
    """None when the read model is at or behind the log it was built from."""
    position, size, root = read_model.anchor()
    log_position = app.recorder.max_notification_id() or 0
    log_size = app.tlog.size()
    if position > log_position or (size is not None and size > log_size):
        return Rollback("read_model_ahead", position, log_position, size, log_size)
    if size is not None and root is not None:
        try:
            actual = app.tlog.root(size)
        except LookupError:
            actual = None  # nodes missing: the log cannot show it is the same one
        if actual != root:
            return Rollback("read_model_diverged", position, log_position, size, log_size)
    return None


def check_file(app: Any, path: Any) -> Rollback | None:
    """`check` on the read model file at `path` (opened and closed here)."""
    model = ReadModel(str(path))
    try:
        return None if model.outdated else check(app, model)
    finally:
        model.close()


class Guard:
    """`check` at most once per `interval` seconds (a read asks on every request)."""

    def __init__(self, app: Any, read_model: ReadModel, interval: float = 1.0):
        self.app = app
        self.read_model = read_model
        self.interval = interval
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._last: Rollback | None = None

    def status(self) -> Rollback | None:
        now = time.monotonic()
        if now - self._at < self.interval:
            return self._last
        with self._lock:
            if time.monotonic() - self._at >= self.interval:
                self._last = check(self.app, self.read_model)
                self._at = time.monotonic()
            return self._last
