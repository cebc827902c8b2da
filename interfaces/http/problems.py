"""Every error as RFC 9457 problem+json, Vietnamese unless `Accept-Language: en`.

    {"type": "https://parindex.vn/problems/<code>", "code", "title", "detail",
     "status", "errors": [{"code", "message", "field"|"row"|"column"}]}

`type` and `code` are stable; `title` names the kind, `detail` this case.
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, json, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from application.errors import REJECTIONS
from application.store.damage import STORE_ERRORS
from domain.errors import DomainError

PROBLEM_BASE = "https://parindex.vn/problems/"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("parindex.http")

# Errors raised by the HTTP layer itself: code -> (status, Vietnamese, English).
HTTP_PROBLEMS: dict[str, tuple[int, str, str]] = {
    "signature_required": (
        401,
        "Cần chữ ký yêu cầu (tiêu đề Authorization: Parindex-Sig)",
        "A signed request is required (Authorization: Parindex-Sig)",
    ),
    "malformed_signature_header": (
        401,
        "Tiêu đề chữ ký yêu cầu không đúng định dạng",
        "The request signature header is malformed",
    ),
    "bad_signature": (401, "Chữ ký yêu cầu không hợp lệ", "The request signature does not verify"),
    "unknown_key": (401, "Khóa chưa được đăng ký", "Key is not registered"),
    "key_revoked": (401, "Khóa đã bị thu hồi hoặc thay thế", "Key was revoked or rotated"),
    "timestamp_out_of_window": (
        401,
        "Thời điểm ký yêu cầu lệch quá xa đồng hồ máy chủ",
        "The request's created time is outside the allowed skew",
    ),
    "content_type_required": (
        415,
        "Cần khai báo Content-Type của tệp",
        "Declare the file's Content-Type",
    ),
    "not_permitted": (
        403,
        "Phạm vi của khóa không cho phép xem dữ liệu này",
        "The key's scope does not cover this data",
    ),
    "projection_lagging": (
        503,
        "Dữ liệu đọc chưa cập nhật tới vị trí yêu cầu; hãy thử lại",
        "The read model has not reached the requested position; retry",
    ),
    "payload_too_large": (
        413,
        "Nội dung gửi lên vượt quá giới hạn",
        "The request body is larger than allowed",
    ),
    "evidence_too_large": (
        413,
        "Tệp minh chứng vượt quá giới hạn",
        "The evidence file is larger than allowed",
    ),
    "request_timeout": (
        408,
        "Yêu cầu không được gửi hết trong thời gian cho phép",
        "The request did not arrive in time",
    ),
    "malformed_request": (
        400,
        "Yêu cầu HTTP sai cú pháp (dòng yêu cầu, tiêu đề hoặc khối dữ liệu)",
        "The HTTP request is malformed (request line, headers or chunks)",
    ),
    "uri_too_long": (414, "Dòng yêu cầu (đường dẫn) quá dài", "The request line is too long"),
    "headers_too_large": (
        431,
        "Phần tiêu đề của yêu cầu quá lớn",
        "The request headers are too large",
    ),
}

# Titles by HTTP status, for codes without their own.
STATUS_TITLES: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    401: ("Chưa xác thực", "Unauthenticated"),
    403: ("Không được phép", "Forbidden"),
    404: ("Không tìm thấy", "Not found"),
    405: ("Phương thức không được hỗ trợ", "Method not allowed"),
    406: ("Không có định dạng phù hợp", "Not acceptable"),
    408: ("Hết thời gian chờ yêu cầu", "Request timeout"),
    409: ("Xung đột dữ liệu", "Conflict"),
    412: ("Điều kiện không thỏa", "Precondition failed"),
    413: ("Dữ liệu gửi lên quá lớn", "Payload too large"),
    414: ("Đường dẫn quá dài", "URI too long"),
    415: ("Loại dữ liệu không được hỗ trợ", "Unsupported media type"),
    417: ("Không đáp ứng được Expect", "Expectation failed"),
    422: ("Dữ liệu không hợp lệ", "Invalid input"),
    431: ("Tiêu đề yêu cầu quá lớn", "Request header fields too large"),
    500: ("Lỗi máy chủ", "Internal server error"),
    501: ("Chưa hỗ trợ", "Not implemented"),
    503: ("Dịch vụ tạm thời chưa sẵn sàng", "Service unavailable"),
}

# Codes for plain HTTP errors (routing, body size, method).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
}


class HttpProblem(DomainError):
    """An error of the HTTP layer, from the catalogue above."""

    def __init__(
        self,
        code: str,
        detail_vi: str = "",
        detail_en: str = "",
        *,
        headers: dict | None = None,
        field: str | None = None,
    ):
        status, vi, en = HTTP_PROBLEMS[code]
        super().__init__(
            code,
            f"{vi}: {detail_vi}" if detail_vi else vi,
            f"{en}: {detail_en}" if detail_en else en,
            status=status,
            field=field,
        )
        self.title = (vi, en)
        self.headers = headers or {}


def language() -> str:
    return language_of(request.headers.get("Accept-Language"))


def language_of(accept_language: str | None) -> str:
    """ "en" when the Accept-Language value prefers English, else "vi"."""
    best = parse_accept_header(accept_language, LanguageAccept).best_match(
        ["vi", "en"], default="vi"
    )
    return "en" if best == "en" else "vi"


def title_for(e: DomainError | None, status: int, lang: str) -> str:
    """The kind of problem: the HTTP layer's or the write path's own title for the
    code, else a title for the status."""
    if isinstance(e, HttpProblem):
        pair = e.title
    elif e is not None and e.code in REJECTIONS:
        pair = REJECTIONS[e.code][1:]
    else:
        pair = STATUS_TITLES.get(status, STATUS_TITLES[400 if status < 500 else 500])
    return pair[1] if lang == "en" else pair[0]


def problem_body(
    code: str, status: int, detail: str, title: str, errors: list | None = None
) -> bytes:
    body: dict = {
        "type": PROBLEM_BASE + code,
        "code": code,
        "title": title,
        "detail": detail,
        "status": status,
    }
    if errors:
        body["errors"] = errors
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def problem_response(status: int, code: str, lang: str) -> bytes:
    """A whole HTTP/1.1 answer, for the server's refusals made before any request
    reaches the app (no Flask here): the title as detail, then the connection closes."""
    vi, en = (
        HTTP_PROBLEMS[code][1:]
        if code in HTTP_PROBLEMS
        else STATUS_TITLES.get(status, STATUS_TITLES[500])
    )
    text = en if lang == "en" else vi
    body = problem_body(code, status, text, text)
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: {MEDIA_TYPE}\r\nContent-Language: {lang}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def problem(
    code: str,
    status: int,
    detail: str,
    *,
    errors: list | None = None,
    headers: dict | None = None,
    lang: str | None = None,
    error: DomainError | None = None,
) -> Response:
    lang = lang or language()
    body = problem_body(code, status, detail, title_for(error, status, lang), errors)
    resp = Response(body, status=status, mimetype=MEDIA_TYPE)
    resp.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def from_domain_error(e: DomainError) -> Response:
    lang = language()
    errors = [p.as_dict(lang) for p in e.problems]
    if not errors and e.field:
        errors = [{"code": e.code, "message": e.message(lang), "field": e.field}]
    headers = dict(getattr(e, "headers", {}) or {})
    if e.status == 401:
        headers.setdefault("WWW-Authenticate", 'Parindex-Sig realm="parindex"')
    status = e.status if 400 <= e.status <= 599 else 500
    return problem(
        e.code, status, e.message(lang), errors=errors, headers=headers, lang=lang, error=e
    )


def from_http_exception(e: HTTPException) -> Response:
    from interfaces.http.validation import validation_errors

    lang = language()
    status = e.code or 500
    data = getattr(e, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    errors = validation_errors(messages, lang) if messages else []
    if status == 400 and any(x["code"] == "invalid_json" for x in errors):
        code = "invalid_json"
    else:
        code = STATUS_CODES.get(status, "http_error")
    detail = _http_detail(status, lang, len(errors))
    headers = {k: v for k, v in e.get_headers() if k.lower() in ("allow", "retry-after")}
    headers.update(data.get("headers") or {})
    return problem(code, status, detail, errors=errors, headers=headers, lang=lang)


def _http_detail(status: int, lang: str, n_errors: int) -> str:
    if status == 422 or n_errors:
        return (
            f"Invalid input: {n_errors} error(s)."
            if lang == "en"
            else f"Dữ liệu không hợp lệ: {n_errors} lỗi."
        )
    if status == 404:
        return (
            "No such resource; see /openapi.json."
            if lang == "en"
            else "Không có tài nguyên này; xem /openapi.json."
        )
    if status == 405:
        return (
            "This method is not allowed here."
            if lang == "en"
            else "Phương thức này không được dùng ở đây."
        )
    if status == 413:
        return (
            "The request body is too large."
            if lang == "en"
            else "Nội dung gửi lên vượt quá giới hạn."
        )
    return title_for(None, status, lang)


def from_store_error(e: Exception) -> Response:
    """A table of the store is gone or unreadable: the operator's problem, told as
    such (503), with the driver's message only in the server log."""
    incident = uuid.uuid4().hex[:12]
    log.error("store unreadable, incident %s: %s", incident, e)
    lang = language()
    detail = (
        f"The data store cannot be read (a table is missing or damaged); logged as "
        f"incident {incident}. The operator should run `parindex verify`."
        if lang == "en"
        else f"Không đọc được kho dữ liệu (một bảng bị mất hoặc hỏng); đã ghi nhận với "
        f"mã sự cố {incident}. Người vận hành cần chạy `parindex verify`."
    )
    return problem("store_unavailable", 503, detail, lang=lang)


def from_unexpected(e: Exception) -> Response:
    """A bug: logged in full on the server, an incident id (nothing else) to the client."""
    incident = uuid.uuid4().hex[:12]
    log.exception("unexpected error, incident %s", incident)
    lang = language()
    detail = (
        f"Unexpected server error; logged as incident {incident}."
        if lang == "en"
        else f"Lỗi không mong đợi ở máy chủ; đã ghi nhận với mã sự cố {incident}."
    )
    return problem("internal_error", 500, detail, lang=lang)


def install(app: Flask) -> None:
    app.register_error_handler(DomainError, from_domain_error)
    app.register_error_handler(HTTPException, from_http_exception)
    for error in STORE_ERRORS:
        app.register_error_handler(error, from_store_error)
    app.register_error_handler(Exception, from_unexpected)
