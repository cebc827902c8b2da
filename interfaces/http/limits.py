"""Bounds every JSON request body before anything parses it (docs/API.md "Limits").

Python's JSON parser recurses once per nested array or object, so a body nested a
thousand deep ends in a RecursionError. The body's nesting is measured here by a
flat scan first; the command endpoint also has its own, smaller size limit.
"""

from __future__ import annotations

from itertools import accumulate

from flask import Flask, request

from application.commands import LARGE_COMMAND_BYTES, MAX_DEPTH
from application.errors import CommandRejected

# The largest command (1 MiB canonical) may arrive pretty-printed or with \\u escapes.
MAX_COMMAND_BODY = 4 * max(LARGE_COMMAND_BYTES.values())
COMMANDS_ENDPOINT = "commands.post_command"


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256  # +1 opens a level, -1 closes one
for _open, _close in (b"[]", b"{}"):
    _STEP[_open], _STEP[_close] = 1, -1


def depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text nests more than `limit` arrays/objects.

    Brackets inside strings do not count. Malformed text is not judged here (the
    parser reports it). Every step runs in C (no Python loop over the bytes), so
    even a body of nothing but brackets is measured quickly.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    # Drop escaped backslashes, then escaped quotes (left to right, as JSON reads
    # them); what lies between the remaining quotes is string content.
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[0::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def _is_json() -> bool:
    mimetype = request.mimetype or ""
    return mimetype == "application/json" or mimetype.endswith("+json")


def _bound_body() -> None:
    if request.endpoint == COMMANDS_ENDPOINT:
        # Flask refuses a larger Content-Length, or a streamed body once it passes this.
        request.max_content_length = MAX_COMMAND_BODY
    if request.method in ("POST", "PUT", "PATCH") and (
        _is_json() or request.endpoint == COMMANDS_ENDPOINT
    ):
        if depth_exceeds(request.get_data(cache=True)):
            raise CommandRejected(
                "json_too_deep",
                f"tối đa {MAX_DEPTH} cấp mảng/đối tượng lồng nhau",
                f"at most {MAX_DEPTH} levels of nested arrays/objects",
                field="body",
            )


def install(app: Flask) -> None:
    app.before_request(_bound_body)
