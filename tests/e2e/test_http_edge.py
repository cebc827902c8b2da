"""The HTTP edge of a real `parindex serve`, spoken to over raw sockets as a hostile
or broken client would: oversized and endless bodies, requests gunicorn itself
refuses, clients that open connections and stall."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from interfaces.client import Client
from interfaces.http.signing import authorization
from interfaces.http.worker import HEAD_TIMEOUT, IO_TIMEOUT
from tests.e2e.http_support import CYCLE, PROBLEM, UNITS, Served, World, make_world

MiB = 1 << 20


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[World, Served]]:
    world = make_world(tmp_path_factory.mktemp("edge"))
    server = Served(world.env.data_dir, workers=2)
    try:
        yield world, server
    finally:
        server.stop()
        world.env.app.close()


@pytest.fixture(scope="module")
def officer(served, tmp_path_factory) -> Client:
    world, server = served
    path = world.key_file(world.officer, tmp_path_factory.mktemp("k") / "officer.key")
    return Client(server.url, path, log_key=world.env.log_key, timeout=10)


def connect(server: Served, timeout: float = 30) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return s


def read_answer(s: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of the one answer on `s`."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = s.recv(65536)
        if not data:
            break
        raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    while len(body) < int(headers.get("content-length", 0)):
        data = s.recv(65536)
        if not data:
            break
        body += data
    return int(lines[0].split()[1]), headers, body


def exchange(server: Served, data: bytes) -> tuple[int, dict[str, str], dict]:
    with connect(server) as s:
        s.sendall(data)
        status, headers, body = read_answer(s)
    return status, headers, json.loads(body) if body else {}


def assert_problem(answer, status: int, code: str) -> dict:
    got_status, headers, body = answer
    assert (got_status, body.get("code")) == (status, code), answer
    assert headers["content-type"] == PROBLEM
    assert body["type"].endswith("/" + code) and body["status"] == status and body["title"]
    return body


# -- bodies are bounded before they are read whole --------------------------------------
def test_an_endless_chunked_body_is_refused_413_without_the_server_reading_it(served):
    _, server = served
    chunk = b"%x\r\n" % MiB + b"[" * MiB + b"\r\n"
    sent = 0
    with connect(server) as s:
        s.sendall(
            b"POST /api/v1/commands HTTP/1.1\r\nHost: t\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        started = time.monotonic()
        try:
            while sent < 100 * MiB and not select.select([s], [], [], 0)[0]:
                s.sendall(chunk)
                sent += MiB
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading and closed: the answer is already here
        answer = read_answer(s)
        elapsed = time.monotonic() - started
    status, headers, body = answer
    assert_problem((status, headers, json.loads(body)), 413, "payload_too_large")
    assert elapsed < 5
    # 4 MiB is the bound; what the client got into the sockets' buffers before the
    # answer came back is all it could send: nowhere near 100 MiB.
    assert sent < 40 * MiB


def test_a_declared_length_over_the_bound_is_refused_before_any_byte_is_sent(served):
    _, server = served
    answer = exchange(
        server,
        b"POST /api/v1/commands HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 104857600\r\n\r\n",
    )
    body = assert_problem(answer, 413, "payload_too_large")
    assert "4194304" in body["detail"]


def test_an_upload_over_the_evidence_bound_is_refused_before_it_is_read(served):
    world, server = served
    size = 21 * MiB  # the default evidence bound is 20 MiB
    sig = authorization(
        world.officer.key_id, world.officer.private, "PUT", "/api/v1/evidence/blobs", b"x"
    )  # what it signs does not matter
    answer = exchange(
        server,
        f"PUT /api/v1/evidence/blobs HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: {sig}\r\nAccept-Language: en\r\n"
        f"Content-Type: application/pdf\r\n"
        f"Content-Length: {size}\r\n\r\n".encode(),
    )
    body = assert_problem(answer, 413, "evidence_too_large")
    assert body["detail"].startswith("The evidence file is larger than allowed")


def test_a_malformed_chunk_is_a_400_problem(served):
    _, server = served
    answer = exchange(
        server,
        b"POST /api/v1/commands HTTP/1.1\r\nHost: t\r\n"
        b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    )
    assert_problem(answer, 400, "malformed_request")


# -- gunicorn's own refusals are problem+json --------------------------------------------
@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (b"GARBAGE\r\n\r\n", 400, "malformed_request"),
        (b"GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n", 400, "malformed_request"),
        (b"GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400, "malformed_request"),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: " + b"b" * 9000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"X-A: b\r\n" * 101 + b"\r\n",
            431,
            "headers_too_large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
            + b"X-A: "
            + b"b" * 8000
            + b"\r\n" * 1
            + b"X-B: "
            + b"b" * 8000
            + b"\r\n" * 1
            + b"X-C: b\r\n" * 7000
            + b"\r\n",
            431,
            "headers_too_large",
        ),
    ],
)
def test_requests_the_http_server_refuses_get_a_problem_not_html(
    served, request_bytes, status, code
):
    _, server = served
    body = assert_problem(exchange(server, request_bytes), status, code)
    assert body["detail"] and "<html" not in json.dumps(body)


def test_the_http_servers_refusals_speak_english_when_asked(served):
    _, server = served
    answer = exchange(
        server,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nAccept-Language: en\r\n"
        b"X-A: " + b"b" * 9000 + b"\r\n\r\n",
    )
    body = assert_problem(answer, 431, "headers_too_large")
    assert answer[1]["content-language"] == "en"
    assert body["title"] == "The request headers are too large"


# -- slow clients ---------------------------------------------------------------------------
def half_requests(server: Served, n: int) -> list[socket.socket]:
    """n connections that send half a request and stall: half of them in the head,
    half with the head complete and the body missing."""
    socks = []
    for i in range(n):
        s = connect(server)
        if i % 2:
            s.sendall(
                b"POST /api/v1/commands HTTP/1.1\r\nHost: t\r\n"
                b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"co'
            )
        else:
            s.sendall(b"GET /api/v1/cycles HTTP/1.1\r\nHost: t\r\nAccept-Lang")
        socks.append(s)
    return socks


def test_twenty_stalled_connections_do_not_delay_health_a_signed_read_or_a_write(served, officer):
    _, server = served
    socks = half_requests(server, 20)
    try:
        time.sleep(0.5)  # every stalled connection has reached a worker

        def timed(call):
            started = time.monotonic()
            call()
            return time.monotonic() - started

        health = Client(server.url, None, timeout=10)
        with ThreadPoolExecutor(3) as pool:
            seconds = list(
                pool.map(
                    timed,
                    [
                        lambda: health.request("GET", "/healthz"),
                        lambda: officer.scores(CYCLE, UNITS[0]),
                        lambda: officer.send(
                            {
                                "type": "record_self_score",
                                "cycle": CYCLE,
                                "unit": UNITS[0],
                                "leaf": "1.1.1",
                                "points": "1",
                            }
                        ),
                    ],
                )
            )
        assert max(seconds) < 3, seconds
    finally:
        for s in socks:
            s.close()


def test_forty_uploads_trickled_a_byte_at_a_time_do_not_delay_health_or_a_signed_read(
    served, officer
):
    # No key needed: a body is read before its request's signature is checked.
    # Each byte comes within IO_TIMEOUT, so no single read ever times out.
    _, server = served
    socks = []
    for _ in range(40):
        s = connect(server)
        s.sendall(
            b"PUT /api/v1/evidence/blobs HTTP/1.1\r\nHost: t\r\n"
            b"Content-Type: application/pdf\r\nContent-Length: 20000000\r\n\r\n%"
        )
        socks.append(s)
    health = Client(server.url, None, timeout=10)
    try:
        slowest = 0.0
        for _round in range(4):
            time.sleep(1)
            for s in socks:
                s.send(b"x")
            started = time.monotonic()
            health.request("GET", "/healthz")
            officer.scores(CYCLE, UNITS[0])
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 3, slowest
    finally:
        for s in socks:
            s.close()


def test_a_drip_fed_head_a_stalled_body_and_an_idle_connection_time_out_on_the_server(served):
    _, server = served
    idle = connect(server, timeout=HEAD_TIMEOUT + 5)  # sends nothing at all
    drip = connect(server)
    stalled = half_requests(server, 2)[1]  # a head, then 4 of 1000 body bytes
    started = time.monotonic()
    try:
        drip.sendall(b"GET /healthz HTTP/1.1\r\n")
        drip.setblocking(False)
        answered = False
        # One header byte a second: each read on its own is quick, the head never ends.
        while time.monotonic() - started < HEAD_TIMEOUT + 5:
            if select.select([drip], [], [], 1)[0]:
                answered = True
                break
            drip.send(b"X")
        assert answered, "the server still waits for a head after HEAD_TIMEOUT"
        drip.setblocking(True)
        status, headers, body = read_answer(drip)
        assert (status, json.loads(body)["code"]) == (408, "request_timeout")
        assert headers["content-type"] == PROBLEM
        assert HEAD_TIMEOUT - 1 <= time.monotonic() - started < HEAD_TIMEOUT + 3
        status, _headers, body = read_answer(idle)
        assert (status, json.loads(body)["code"]) == (408, "request_timeout")
        stalled.settimeout(IO_TIMEOUT + 10)
        status, _headers, body = read_answer(stalled)
        assert (status, json.loads(body)["code"]) == (408, "request_timeout")
        assert time.monotonic() - started < IO_TIMEOUT + 5
    finally:
        for s in (idle, drip, stalled):
            s.close()
