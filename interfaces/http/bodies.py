"""Request bodies: each is read whole only within its bound (docs/API.md, "Limits").

A body declared larger than its bound (Content-Length) is refused before a
byte of it is read; a chunked body is read until it passes the bound, then
refused: nothing beyond bound + one chunk is ever held in memory. The body
that passes is handed to the app as a plain stream of known length.
"""

from __future__ import annotations

import io
import time

from flask import request
from gunicorn.http.errors import ParseException

from interfaces.http.problems import HttpProblem
from interfaces.http.services import services

CHUNK = 64 * 1024
# A whole body must arrive within this many seconds (each read also waits at most
# interfaces/http/worker.IO_TIMEOUT): 20 MiB at 175 KB/s, a slow rural link.
BODY_TIMEOUT = 120.0
UPLOAD_ENDPOINT = "evidence.put_blob"


def bound() -> tuple[int, str]:
    """This request's largest body and the code that refuses a larger one."""
    settings = services().app.settings
    if request.endpoint == UPLOAD_ENDPOINT:
        return settings.max_evidence_bytes, "evidence_too_large"
    return settings.max_request_bytes, "payload_too_large"


def too_large(limit: int, code: str) -> HttpProblem:
    return HttpProblem(
        code,
        f"tối đa {limit} byte",
        f"at most {limit} bytes",
        field="file" if code == "evidence_too_large" else None,
    )


def read_bounded_body() -> None:
    """Flask `before_request`: the whole body, within its bound, or a 408/413 problem."""
    environ = request.environ
    limit, code = bound()
    length = request.content_length
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if length is not None and length > limit:
        raise too_large(limit, code)
    if not length and not chunked:
        return
    stream = environ["wsgi.input"]
    data = bytearray()
    deadline = time.monotonic() + BODY_TIMEOUT
    try:
        while chunk := stream.read(CHUNK):
            data += chunk
            if len(data) > limit:
                raise too_large(limit, code)
            if time.monotonic() > deadline:
                raise HttpProblem("request_timeout")
    except OSError:  # a read waited IO_TIMEOUT for nothing, or the client left
        raise HttpProblem("request_timeout") from None
    except (ParseException, ValueError):  # a malformed chunk
        raise HttpProblem("malformed_request") from None
    environ["wsgi.input"] = io.BytesIO(bytes(data))
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
