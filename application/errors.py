"""Why a command was refused: stable codes, Vietnamese first, HTTP status hints."""

from __future__ import annotations

from domain.errors import DomainError

# code: (status, Vietnamese, English)
REJECTIONS: dict[str, tuple[int, str, str]] = {
    "malformed_command": (400, "Lệnh không đúng định dạng", "Malformed command"),
    "bad_signature": (401, "Chữ ký không hợp lệ", "Signature does not verify"),
    "unknown_key": (401, "Khóa chưa được đăng ký", "Key is not registered"),
    "key_revoked": (403, "Khóa đã bị thu hồi hoặc thay thế", "Key was revoked or rotated"),
    "not_permitted": (
        403,
        "Vai trò hoặc phạm vi của khóa không cho phép lệnh này",
        "The key's role or scope does not permit this command",
    ),
    "timestamp_out_of_window": (
        400,
        "Thời điểm ký lệnh lệch quá xa so với đồng hồ máy chủ",
        "issued_at is outside the allowed clock skew",
    ),
    "version_conflict": (
        409,
        "Dữ liệu đã thay đổi trong lúc xử lý; hãy tải lại và gửi lại lệnh mới",
        "The record changed meanwhile; reload and send a new command",
    ),
    "idempotency_conflict": (
        409,
        "Mã lệnh này đã được dùng cho một lệnh có nội dung khác",
        "This command id was already used for a command with other content",
    ),
    "unknown_command": (400, "Loại lệnh không được hỗ trợ", "Unsupported command type"),
    "json_too_deep": (400, "JSON lồng nhau quá sâu", "JSON is nested too deeply"),
    "command_too_large": (413, "Lệnh quá lớn", "The command is too large"),
    "store_busy": (
        503,
        "Kho dữ liệu đang bận ghi lệnh khác quá lâu; lệnh chưa được ghi, hãy gửi lại sau",
        "The store stayed locked by another write too long; nothing was written, retry later",
    ),
    "store_timeout": (
        503,
        "Ghi vào kho dữ liệu quá thời gian cho phép; lệnh chưa được ghi, hãy gửi lại sau",
        "Writing to the store took too long; nothing was written, retry later",
    ),
}


class CommandRejected(DomainError):
    """A command refused before anything was written."""

    def __init__(
        self, code: str, detail_vi: str = "", detail_en: str = "", field: str | None = None
    ):
        status, vi, en = REJECTIONS[code]
        super().__init__(
            code,
            f"{vi}: {detail_vi}" if detail_vi else vi,
            f"{en}: {detail_en}" if detail_en else en,
            status=status,
            field=field,
        )


class StoreUnavailable(DomainError):
    """A write that waited or ran past its bound; its transaction was rolled back."""

    def __init__(self, code: str, seconds: float):
        status, vi, en = REJECTIONS[code]
        super().__init__(
            code, f"{vi} (giới hạn {seconds:g} giây)", f"{en} (limit {seconds:g} s)", status=status
        )
        self.headers = {"Retry-After": "1"}


class NotFound(DomainError):
    status = 404

    def __init__(self, what_vi: str, what_en: str, code: str = "not_found"):
        super().__init__(code, f"Không tìm thấy {what_vi}", f"Not found: {what_en}", status=404)
