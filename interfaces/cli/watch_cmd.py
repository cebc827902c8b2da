"""`parindex watch --cycle C --unit U`: a commune's own monitor (interfaces/monitor.py).

Prints each new change to the unit with who signed it, when and why, each
proven in a checkpoint consistent with every checkpoint seen before; keeps what
it verified in a state file; reports a rollback, a fork or a hidden event in
red letters and exits 3.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from domain.actors import ROLE_NAMES_VI, Role
from interfaces.cli.appraisal_cmd import checked
from interfaces.cli.client_cmd import _client, _command
from interfaces.cli.client_views import _value, local_time
from interfaces.monitor import Alert, Change, State, one_round
from interfaces.witness_quorum import Quorum

ALERT_EXIT = 3

KINDS = {
    "Opened": "mở kỳ đánh giá cho đơn vị",
    "SelfScoreRecorded": "tự chấm",
    "NotApplicableDeclared": "khai không phát sinh",
    "EvidenceAttached": "nộp minh chứng",
    "EvidenceWithdrawn": "rút minh chứng",
    "Submitted": "nộp hồ sơ tự đánh giá",
    "SubmissionWithdrawn": "rút hồ sơ",
    "ScoreAdjusted": "thẩm định điều chỉnh",
    "ScoreConfirmed": "thẩm định xác nhận điểm tự chấm",
    "ExplanationRequested": "yêu cầu giải trình",
    "ExplanationAnswered": "giải trình",
    "ExplanationsSubmitted": "nộp giải trình",
    "AppraisalClosed": "kết thúc thẩm định",
    "ScoreCorrected": "điều chỉnh sau công bố",
    "OversightNoted": "ghi chú giám sát",
    "OversightNoteAnswered": "Hội đồng trả lời ghi chú giám sát",
}
WHY = ("reason", "question", "answer", "note", "text")


def register(sub: argparse._SubParsersAction) -> None:
    p = _command(
        sub,
        "watch",
        "theo dõi mọi thay đổi của một đơn vị, tự kiểm chứng từng sự kiện trong nhật ký; "
        "báo nếu nhật ký bị quay lui, rẽ nhánh hay giấu sự kiện / follow a unit's changes, "
        "each proven in the log; report a rollback, fork or hidden event",
        cmd_watch,
    )
    p.add_argument("--cycle", required=True, help="mã kỳ đánh giá / cycle code")
    p.add_argument("--unit", required=True, help="mã đơn vị (xã) / unit code")
    p.add_argument(
        "--state",
        default=None,
        help="tệp lưu điểm kiểm tra đã xác minh (mặc định parindex-watch-<kỳ>-<đơn vị>.json) "
        "/ the state file",
    )
    p.add_argument("--once", action="store_true", help="một lượt rồi dừng / one round")
    p.add_argument("--interval", type=float, default=30.0, help="giây giữa hai lượt / seconds")
    p.add_argument(
        "--all",
        action="store_true",
        help="lần đầu: in mọi sự kiện đã có (mặc định chỉ tóm tắt) / first run: print every "
        "event so far",
    )


def cmd_watch(args: argparse.Namespace) -> int:
    checked(args)
    path = Path(args.state or f"parindex-watch-{args.cycle}-{args.unit}.json")
    try:
        state = State.load(path)
    except ValueError as e:
        print(f"Lỗi [watch_state_unreadable]: {e}", file=sys.stderr)
        return 1
    client = _client(args)
    first = state is None
    if state is None:
        log_key = args.log_key or client.log_key()
        state = State(args.cycle, args.unit, log_key)
        how = "đã cho" if args.log_key else "lấy từ máy chủ lần đầu (tin lần đầu)"
        print(f"Khóa nhật ký ({how}): {log_key}")
    elif args.log_key and args.log_key != state.log_key:
        print("Lỗi [log_key_changed]: khóa nhật ký khác khóa đã ghi nhớ", file=sys.stderr)
        return 1
    client.pinned_log_key = state.log_key
    if client.quorum.witnesses:  # given now: kept from here on
        state.witnesses, state.min_witnesses = client.quorum.vkeys, client.quorum.minimum
    elif state.witnesses:  # given on an earlier run: never forgotten by omitting the flag
        client.quorum = Quorum.of(state.witnesses, state.min_witnesses)
    quiet = first and not args.all
    while True:
        try:
            count = one_round(client, state, _silent if quiet else _printed)
        except Alert as a:
            print(f"CẢNH BÁO [{a.code}]: {a.vi}", file=sys.stderr)
            print(f"ALERT [{a.code}]: {a.en}", file=sys.stderr)
            return ALERT_EXIT
        state.save(path)
        if quiet and count:
            print(f"Đã xác minh {count} sự kiện có sẵn của {args.unit}.")
        print(
            f"Điểm kiểm tra {state.size} sự kiện đã xác minh, nối tiếp mọi điểm kiểm tra trước "
            f"(lưu ở {path})."
        )
        quiet = False
        if args.once:
            return 0
        sys.stdout.flush()
        time.sleep(max(args.interval, 1.0))


def _silent(_change: Change) -> None:
    return None


def _printed(change: Change) -> None:
    print(change_text(change))


def _shown(inputs: dict | None) -> str:
    return "—" if not inputs else _value(inputs)


def change_text(c: Change) -> str:
    who = c.signer.get("name") or c.signer.get("key_id") or "?"
    role = c.signer.get("role")
    role_vi = ROLE_NAMES_VI.get(Role(role), role) if role in set(Role) else role
    at = local_time(c.command.get("issued_at"))
    text = f"[vị trí nhật ký {c.leaf_index}] {at} {KINDS.get(c.kind, c.kind)}"
    if c.leaf:
        text += f" {c.leaf}"
    if c.after is not None or c.before is not None:
        text += f": {_shown(c.before)} → {_shown(c.after)}"
    if c.signer:
        text += f" — {who} ({role_vi})"
    reasons = [f"{c.command[k]}" for k in WHY if isinstance(c.command.get(k), str)]
    if reasons:
        text += f"; {'; '.join(reasons)}"
    return text + " — đã xác minh chữ ký và bằng chứng"
