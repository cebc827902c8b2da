"""A cross-process write lock on a file, waited for at most a bound.

`flock` has no timeout. A waiter that blocks in it wakes the moment the
holder releases, which is why the SQLite store queues its writers on one
(instead of SQLite's busy handler, which polls with growing sleeps). To bound
the wait, the blocking `flock` runs in a helper thread on its own open file
description while the caller waits on an event with a timeout; a helper that
gets the lock after its caller gave up releases it at once. Locks of
different open file descriptions exclude each other even within one process,
so an abandoned helper can never release a lock its process took since.

At most one abandoned helper per lock: while one is still blocked (the
holder has not let go), a later caller does not start another thread but
tries the lock without blocking every few milliseconds until its bound. So a
server stuck behind a hung writer refuses each command after its timeout
without piling up threads or open files.

Reentrant within one thread of one process (the store's writes nest: a
command holds it across decide + save, the recorder takes it again).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator

from application.errors import StoreUnavailable


class FileWriteLock:
    def __init__(self, path: str, timeout: float):
        self.path = path
        self.timeout = timeout
        self._guard = threading.RLock()  # one holder thread per process
        self._fd: int | None = None  # the description that holds the lock
        self._main: int | None = None  # kept open: the uncontended path opens nothing
        self._pid = os.getpid()
        self._depth = 0
        self._stranded = 0  # helpers still blocked after their caller gave up
        self._count = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if not self._guard.acquire(timeout=self.timeout):
            raise StoreUnavailable("store_busy", self.timeout)
        try:
            if self._depth == 0:
                self._fd = self._acquire()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    if self._fd != self._main:
                        os.close(self._fd)
                    self._fd = None
        finally:
            self._guard.release()

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def _acquire(self) -> int:
        if self._pid != os.getpid():
            # A forked child shares the parent's open file description, and
            # so its lock: it needs its own.
            self._main, self._pid, self._stranded = None, os.getpid(), 0
        if self._main is None:
            self._main = self._open()
        try:
            fcntl.flock(self._main, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self._main
        except BlockingIOError:
            pass
        with self._count:
            stranded = self._stranded
        if stranded:
            return self._poll()
        fd = self._open()
        got = threading.Event()
        state = {"abandoned": False}
        mutex = threading.Lock()

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with mutex:
                if not state["abandoned"]:
                    got.set()
                    return
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            with self._count:
                self._stranded -= 1

        threading.Thread(target=wait, name="parindex-write-lock", daemon=True).start()
        got.wait(self.timeout)
        with mutex:
            if got.is_set():
                return fd
            state["abandoned"] = True
            with self._count:
                self._stranded += 1
        raise StoreUnavailable("store_busy", self.timeout)

    def _poll(self) -> int:
        assert self._main is not None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self._main, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self._main
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable("store_busy", self.timeout) from None
                time.sleep(0.005)
