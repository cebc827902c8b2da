"""The witness's HTTP face (c2sp.org/tlog-witness): add-checkpoint and the monitor read.

Thin: bytes in, ``Witness.add_checkpoint``, status and text out. Errors are
short ``text/plain`` (code, English, Vietnamese): witness clients are programs
that read the status; the 409 body is exactly the stored size, as the
specification requires.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from application.transparency.witness import MAX_REQUEST_BYTES, Refused, Witness
from application.transparency.witness_state import StateError

SIZE_TYPE = "text/x.tlog.size"
TEXT = "text/plain; charset=utf-8"


def create_witness_app(witness: Witness) -> Flask:
    app = Flask("parindex-witness")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @app.post("/add-checkpoint")
    def add_checkpoint() -> Response:
        try:
            body = request.get_data(cache=False)
            return Response(witness.add_checkpoint(body), 200, content_type=TEXT)
        except RequestEntityTooLarge:
            return _text(413, "request_too_large", "request body is too large", "Yêu cầu quá lớn")
        except Refused as refused:
            if refused.status == 409:
                return Response(f"{refused.size}\n", 409, content_type=SIZE_TYPE)
            return _text(refused.status, refused.code, refused.en, refused.vi)
        except StateError:
            return _unavailable()

    @app.get("/<origin_hash>/checkpoint")
    def checkpoint(origin_hash: str) -> Response:
        try:
            for origin in witness.logs:
                if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash:
                    note = witness.checkpoint_of(origin)
                    if note is not None:
                        return Response(note, 200, content_type=TEXT)
        except StateError:
            return _unavailable()
        return _text(404, "not_found", "no checkpoint cosigned for this log", "Chưa ký đồng")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return _text(exc.code or 500, code, exc.description or "", exc.name or "")

    return app


def _text(status: int, code: str, en: str, vi: str) -> Response:
    return Response(f"{code}: {en}\n{vi}\n", status, content_type=TEXT)


def _unavailable() -> Response:
    # Never cosign, never start empty: the operator must look at the state file.
    return _text(503, "witness_state", "witness state unreadable", "Trạng thái nhân chứng hỏng")
