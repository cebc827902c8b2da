"""The gunicorn worker of `parindex serve`: threads for the app, an event loop for slow clients.

gunicorn's `gthread` worker hands every accepted connection to a pool thread,
which then blocks reading the request head: a client that sends half a request
and stalls holds that thread, and a few such clients starve `/healthz` and every
signed read and write. This worker reads requests in the worker's event
loop instead, without blocking, and gives a connection to a thread only once
its head is complete, and its body too when the head declares a
Content-Length of at most MAX_BUFFERED_BODY (every command and upload of the
default bounds). A head that does not complete within HEAD_TIMEOUT seconds
(slowloris) is answered `408 request_timeout` and closed; one larger than
MAX_HEAD_BYTES is answered 414 or 431 without reading more. A body read here
must keep coming (a pause of IO_TIMEOUT seconds) and be whole within
BODY_TIMEOUT seconds, else 408: a body trickled a byte at a time holds no
thread, so forty of them do not stall `/healthz`.

In a thread (a chunked body, one declared larger than the buffered bound, the
answer), each read from and write to the socket waits at most IO_TIMEOUT
seconds (SO_RCVTIMEO, SO_SNDTIMEO): a client that stops sending its body or
stops reading its answer frees the thread. gunicorn's own refusals
(a malformed request line, a URI or headers too long) are problem+json like
every other error of the API.
"""

from __future__ import annotations

import errno
import re
import selectors
import socket
import struct
import threading
import time
from functools import partial

from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import TConn, ThreadWorker

from interfaces.http.problems import language_of, problem_response

HEAD_TIMEOUT = 10.0
IO_TIMEOUT = 10.0
BODY_TIMEOUT = 120.0  # a whole body: 20 MiB at 175 KB/s, a slow rural link
MAX_HEAD_BYTES = 64 * 1024
RECV_BYTES = 256 * 1024
MAX_BUFFERED_BODY = 32 * 1024 * 1024  # above the default upload bound (20 MiB)
_ACCEPT_LANGUAGE = re.compile(rb"\r?\nAccept-Language:[ \t]*([^\r\n]*)", re.IGNORECASE)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"\nContent-Length:[ \t]*([0-9]{1,12})[ \t]*\r?\n", re.IGNORECASE)
UPLOAD_LINE = b"PUT /api/v1/evidence/blobs "
_TRANSFER_ENCODING = re.compile(rb"\nTransfer-Encoding:", re.IGNORECASE)

# gunicorn's parse errors: (exception class, status, code), first match wins.
PARSE_ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (http_errors.InvalidResponseHeader, 500, "internal_error"),  # the app's fault
    (http_errors.InvalidResponseHeaderName, 500, "internal_error"),
    (http_errors.LimitRequestLine, 414, "uri_too_long"),
    (http_errors.LimitRequestHeaders, 431, "headers_too_large"),
    (http_errors.UnsupportedTransferCoding, 501, "not_implemented"),
    (http_errors.ExpectationFailed, 417, "expectation_failed"),
    (http_errors.ForbiddenProxyRequest, 403, "forbidden"),
    (http_errors.ConfigurationProblem, 500, "internal_error"),
    (http_errors.ParseException, 400, "malformed_request"),
    (Exception, 500, "internal_error"),
)


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1_000_000))


def set_io_timeouts(sock: socket.socket, seconds: float = IO_TIMEOUT) -> None:
    """Kernel-level timeouts: they survive gunicorn's setblocking() calls, which
    reset Python's own socket timeout."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(seconds))


def head_complete(buf: bytes) -> bool:
    """The request line and headers are all in (blank lines before a request are
    allowed by RFC 9112 and skipped)."""
    rest = buf.lstrip(b"\r\n")
    return b"\r\n\r\n" in rest or b"\n\n" in rest


def request_size(buf: bytes, bounds: tuple[int, int]) -> int | None:
    """Bytes of the whole first request when its body is read in the event loop:
    head plus a declared Content-Length within the request's bound (`bounds`:
    (evidence upload, any other body), each at most MAX_BUFFERED_BODY). None for
    no body, a chunked one, or one over its bound (the app refuses it unread)."""
    start = len(buf) - len(buf.lstrip(b"\r\n"))
    end = _HEAD_END.search(buf, start)
    if end is None:
        return None
    head = bytes(buf[start : end.end()])
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1 or _TRANSFER_ENCODING.search(head):
        return None  # gunicorn's parser decides (and refuses what is ambiguous)
    upload = head.startswith(UPLOAD_LINE)
    limit = min(bounds[0] if upload else bounds[1], MAX_BUFFERED_BODY)
    length = int(lengths[0])
    return end.end() + length if 0 < length <= limit else None


def head_refusal(buf: bytes) -> tuple[int, str] | None:
    """An over-long head: the request line alone (414) or the headers (431)."""
    if len(buf) <= MAX_HEAD_BYTES:
        return None
    if b"\n" not in buf.lstrip(b"\r\n")[:MAX_HEAD_BYTES]:
        return 414, "uri_too_long"
    return 431, "headers_too_large"


def head_language(buf: bytes) -> str:
    m = _ACCEPT_LANGUAGE.search(bytes(buf[:MAX_HEAD_BYTES]))
    return language_of(m.group(1).decode("latin-1") if m else None)


class EdgeWorker(ThreadWorker):
    """gthread, with request heads read by the event loop (see the module text)."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # The app's body bounds (docs/API.md "Limits"), for bodies read in the loop.
        services = getattr(self.wsgi, "extensions", {}).get("parindex")
        settings = getattr(getattr(services, "app", None), "settings", None)
        self.bounds = (
            (settings.max_evidence_bytes, settings.max_request_bytes)
            if settings is not None
            else (0, 0)  # unknown: every body is read by the app, in a thread
        )

    def init_process(self) -> None:
        self.heads: dict[TConn, float] = {}  # connections still sending a head: deadline
        self.current = threading.local()  # the head a pool thread is serving
        super().init_process()

    # -- heads, in the event loop ------------------------------------------------
    def accept(self, listener) -> None:
        try:
            sock, addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        set_io_timeouts(sock)
        conn = TConn(self.cfg, sock, addr, listener.getsockname())  # non-blocking
        conn.head = bytearray()
        self._await_head(conn)

    def on_client_socket_readable(self, conn, client) -> None:
        """A kept-alive connection starts its next request: its head too is read here."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.sock.setblocking(False)
        conn.head = bytearray()
        self._await_head(conn)
        self._read_head(conn, client)

    def enqueue_req(self, conn) -> None:
        head = getattr(conn, "head", None)
        if head is None and conn.parser is not None:
            # Bytes read ahead behind a kept-alive answer (a pipelined request):
            # finish its head here too, not in a thread.
            head = conn.head = bytearray(conn.parser.unreader.take_buffered())
            if not head_complete(head):
                conn.sock.setblocking(False)
                self._await_head(conn)
                return
        super().enqueue_req(conn)

    def _await_head(self, conn) -> None:
        conn.body_started = None
        self.heads[conn] = time.monotonic() + HEAD_TIMEOUT
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn, _sock) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._end_head(conn)
            self._close(conn)
            return
        conn.head += data
        if head_complete(conn.head):
            size = request_size(conn.head, self.bounds)
            if size is not None and len(conn.head) < size:
                # The body, read here too: it must keep coming and end in time.
                now = time.monotonic()
                started = conn.body_started = getattr(conn, "body_started", None) or now
                self.heads[conn] = min(started + BODY_TIMEOUT, now + IO_TIMEOUT)
                return
            self._end_head(conn)
            conn.data_ready = True  # gthread must not wait for data again
            super().enqueue_req(conn)
        elif (refusal := head_refusal(conn.head)) is not None:
            self._end_head(conn)
            self._refuse(conn, *refusal)

    def _end_head(self, conn) -> None:
        del self.heads[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _refuse(self, conn, status: int, code: str) -> None:
        try:
            conn.sock.send(problem_response(status, code, head_language(conn.head)))
        except OSError:
            pass
        self._close(conn)

    def _close(self, conn) -> None:
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Runs at least once a second: heads past their deadline are refused 408;
        a stopping worker closes every unfinished head at once."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.heads.items()):
            if not self.alive:
                self._end_head(conn)
                self._close(conn)
            elif deadline <= now:
                self._end_head(conn)
                self._refuse(conn, 408, "request_timeout")

    # -- requests, in pool threads -------------------------------------------------
    def handle(self, conn):
        head = getattr(conn, "head", None)
        self.current.head = bytes(head or b"")
        if head:
            conn.sock.setblocking(True)
            conn.init()  # the parser, if the connection is new
            conn.parser.unreader.unread(bytes(head))
        conn.head = None
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc) -> None:
        """gunicorn's refusals as problem+json (its own are text/html), in the language
        the raw head asks for even when it could not be parsed."""
        status, code = next((s, c) for cls, s, c in PARSE_ERRORS if isinstance(exc, cls))
        if status >= 500:
            self.log.exception("Error handling request")
        else:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        lang = head_language(getattr(self.current, "head", b""))
        try:
            client.sendall(problem_response(status, code, lang))
        except OSError:
            self.log.debug("Failed to send error message.")
