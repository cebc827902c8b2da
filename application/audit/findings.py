"""What verify can find: a stable kind, where, and a message in both languages."""

from __future__ import annotations

from dataclasses import dataclass, field

# kind: (Vietnamese, English)
KINDS: dict[str, tuple[str, str]] = {
    "event_altered": (
        "Nội dung sự kiện đã bị thay đổi (hash lá không khớp)",
        "Event bytes changed (leaf hash does not match)",
    ),
    "event_missing": ("Thiếu sự kiện trong nhật ký", "An event is missing from the log"),
    "event_inserted": (
        "Có sự kiện chen vào ngoài nhật ký",
        "An event was inserted outside the log",
    ),
    "event_reordered": ("Thứ tự sự kiện đã bị đảo", "Events were reordered"),
    "event_unreadable": ("Không đọc được nội dung sự kiện", "Event state cannot be parsed"),
    "unsigned_event": ("Sự kiện không có chữ ký người thực hiện", "Event carries no signature"),
    "bad_signature": ("Chữ ký của người thực hiện không hợp lệ", "Actor signature does not verify"),
    "command_mismatch": (
        "Sự kiện không khớp với lệnh đã ký",
        "Event differs from the signed command",
    ),
    "unknown_key": (
        "Khóa ký chưa được đăng ký tại thời điểm này",
        "Signing key was not registered at this point",
    ),
    "key_revoked": (
        "Khóa ký đã bị thu hồi/thay thế trước thời điểm này",
        "Signing key was revoked or rotated before this point",
    ),
    "not_permitted": (
        "Vai trò hoặc phạm vi của khóa không cho phép lệnh này tại vị trí này",
        "The key's role or scope did not permit this command at this point",
    ),
    "event_not_derived": (
        "Sự kiện không phải là kết quả của lệnh đã ký khi áp dụng lại",
        "The event is not what its signed command yields when replayed",
    ),
    "command_replayed": (
        "Lệnh đã ký xuất hiện lần thứ hai trong nhật ký",
        "A signed command appears a second time in the log",
    ),
    "wrong_aggregate": (
        "Sự kiện nằm trên đối tượng khác với đối tượng mà lệnh nhắm tới",
        "The event sits on another aggregate than its command targets",
    ),
    "timestamp_out_of_window": (
        "Thời điểm của sự kiện nằm ngoài khoảng cho phép",
        "The event's timestamp is outside its allowed window",
    ),
    "bad_genesis": ("Sự kiện khởi tạo không hợp lệ", "The genesis event is invalid"),
    "log_truncated": (
        "Nhật ký ngắn hơn một điểm kiểm tra đã ký (bị cắt đuôi)",
        "The log is shorter than a signed checkpoint (tail truncated)",
    ),
    "checkpoint_bad_signature": (
        "Chữ ký điểm kiểm tra không hợp lệ",
        "Checkpoint signature does not verify",
    ),
    "checkpoint_malformed": ("Điểm kiểm tra sai định dạng", "Checkpoint is malformed"),
    "checkpoint_root_mismatch": (
        "Gốc Merkle của điểm kiểm tra khác với nhật ký",
        "Checkpoint root differs from the log",
    ),
    "checkpoints_inconsistent": (
        "Hai điểm kiểm tra không nhất quán với nhau",
        "Two checkpoints are not consistent",
    ),
    "evidence_mismatch": (
        "Tệp minh chứng không còn khớp với hash đã ghi",
        "Evidence file no longer matches its hash",
    ),
    "evidence_missing": ("Thiếu tệp minh chứng", "Evidence file is missing"),
    "read_model_differs": (
        "Dữ liệu đọc khác với dữ liệu dựng lại từ nhật ký",
        "Read model differs from one rebuilt from the log",
    ),
    "bundle_malformed": ("Gói kiểm toán sai định dạng", "Audit bundle is malformed"),
    "read_model_ahead": (
        "Dữ liệu đọc đi trước nhật ký: kho sự kiện đã bị khôi phục từ bản cũ hoặc mất đuôi",
        "The read model is ahead of the log: the event store was restored or lost its tail",
    ),
    "read_model_diverged": (
        "Dữ liệu đọc được dựng từ một nhật ký khác: kho sự kiện đã bị thay thế",
        "The read model was built from another log: the event store was replaced",
    ),
    # verify --witness (witness_check.py)
    "witness_missing": (
        "Điểm kiểm tra mới nhất không có đủ chữ ký đồng xác nhận của nhân chứng",
        "The newest checkpoint lacks the required witness cosignatures",
    ),
    "witness_bad_signature": (
        "Chữ ký đồng xác nhận của nhân chứng không hợp lệ",
        "A witness cosignature does not verify",
    ),
    "witness_conflict": (
        "Nhân chứng đã xác nhận một điểm kiểm tra mà nhật ký không còn khớp: "
        "nhật ký đã bị lùi lại hoặc rẽ nhánh sau khi nhân chứng thấy nó",
        "A witness cosigned a checkpoint the log no longer matches: "
        "the log was rolled back or forked after the witness saw it",
    ),
    # A broken store (verify --data-dir): tables the server serves from.
    "log_table_missing": (
        "Một bảng của nhật ký bị mất hoặc không đọc được",
        "A log table is missing or cannot be read",
    ),
    "checkpoint_missing": (
        "Nhật ký có sự kiện nhưng không còn điểm kiểm tra đã ký nào",
        "The log has events but no signed checkpoint",
    ),
    "log_state_differs": (
        "Trạng thái cây Merkle đã lưu không khớp với các lá",
        "The stored tree state does not match the leaves",
    ),
    "log_node_missing": (
        "Thiếu nút của cây Merkle (bằng chứng không dựng được)",
        "A Merkle tree node is missing (proofs cannot be built)",
    ),
    "command_index_missing": (
        "Sự kiện không thuộc lệnh nào trong chỉ mục lệnh",
        "Events belong to no command in the command index",
    ),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    position: dict = field(default_factory=dict)
    detail: str = ""

    def as_dict(self, lang: str = "vi") -> dict:
        vi, en = KINDS[self.kind]
        return {
            "kind": self.kind,
            "position": self.position,
            "message": en if lang == "en" else vi,
            "detail": self.detail,
        }

    def text(self, lang: str = "vi") -> str:
        vi, en = KINDS[self.kind]
        where = ", ".join(f"{k}={v}" for k, v in self.position.items())
        msg = en if lang == "en" else vi
        return f"[{self.kind}] {where}: {msg}" + (f" ({self.detail})" if self.detail else "")
