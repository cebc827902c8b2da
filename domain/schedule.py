"""A cycle's schedule: who appraises, how many rounds, and the deadlines.

Decision 4203 fixes the season by dates: communes self-assess and submit by one
date, answer the council's questions (giải trình) by another, and the council
appraises by a third. A deadline is judged on the command's signed `issued_at`
(which the server accepts only within its clock-skew window), never on the
server's clock, so anyone replaying the log judges it the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from domain.errors import DomainError, Problems

# kind -> (Vietnamese name, English name), in the order of the season
DEADLINES: dict[str, tuple[str, str]] = {
    "self_assessment_due": ("hạn nộp kết quả tự đánh giá", "self-assessment deadline"),
    "explanation_due": ("hạn giải trình", "explanation deadline"),
    "appraisal_due": ("hạn thẩm định", "appraisal deadline"),
}
LEVELS: dict[str, str] = {"district": "cấp huyện", "province": "cấp tỉnh"}
UNIT_TYPES: dict[str, str] = {
    "xa": "xã",
    "phuong": "phường",
    "thi_tran": "thị trấn",
    "dac_khu": "đặc khu",
}
DEFAULT_ROUNDS = 2
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


def parse_time(value: object, field: str) -> datetime:
    """An RFC 3339 UTC time ending in Z, as every time in a command is written."""
    if isinstance(value, str) and _TS.fullmatch(value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    raise DomainError(
        "invalid_time",
        f"'{field}' phải là thời điểm UTC dạng 2025-11-30T17:00:00Z.",
        f"'{field}' must be a UTC time such as 2025-11-30T17:00:00Z.",
        field=field,
    )


def check_deadlines(value: object, problems: Problems, field: str = "deadlines") -> dict:
    """{kind: time} for known kinds; each later than the one before it in the season."""
    if not isinstance(value, dict):
        problems.add(
            "invalid_deadlines",
            f"'{field}' gồm các hạn: {', '.join(DEADLINES)}.",
            f"'{field}' holds deadlines among: {', '.join(DEADLINES)}.",
            field=field,
        )
        return {}
    out: dict[str, str] = {}
    previous: tuple[str, datetime] | None = None
    for name in value:
        if name not in DEADLINES:
            problems.add(
                "unknown_deadline",
                f"Không có loại hạn '{str(name)[:40]}'; dùng: {', '.join(DEADLINES)}.",
                f"No deadline kind '{str(name)[:40]}'; use: {', '.join(DEADLINES)}.",
                field=f"{field}.{str(name)[:40]}",
            )
    for kind in DEADLINES:
        if kind not in value:
            continue
        try:
            at = parse_time(value[kind], f"{field}.{kind}")
        except DomainError as e:
            problems.add(e.code, e.message_vi, e.message_en, field=e.field)
            continue
        if previous is not None and at < previous[1]:
            problems.add(
                "deadlines_out_of_order",
                f"{DEADLINES[kind][0].capitalize()} phải sau {DEADLINES[previous[0]][0]}.",
                f"The {DEADLINES[kind][1]} must come after the {DEADLINES[previous[0]][1]}.",
                field=f"{field}.{kind}",
            )
        previous = (kind, at)
        out[kind] = value[kind]
    return out


def check_kind(kind: object, field: str = "deadline") -> str:
    if not isinstance(kind, str) or kind not in DEADLINES:
        raise DomainError(
            "unknown_deadline",
            f"Loại hạn phải là một trong: {', '.join(DEADLINES)}.",
            f"The deadline kind must be one of: {', '.join(DEADLINES)}.",
            field=field,
        )
    return kind


def deadline_passed(kind: str, due: datetime, issued_at: datetime, unit: str | None) -> DomainError:
    vi, en = DEADLINES[kind]
    due_text = due.isoformat().replace("+00:00", "Z")
    whose_vi = f" của {unit}" if unit else ""
    whose_en = f" for {unit}" if unit else ""
    return DomainError(
        "deadline_passed",
        f"Đã quá {vi}{whose_vi} ({due_text}); lệnh ký lúc "
        f"{issued_at.isoformat().replace('+00:00', 'Z')}.",
        f"The {en}{whose_en} ({due_text}) has passed; the command was signed at "
        f"{issued_at.isoformat().replace('+00:00', 'Z')}.",
        field=kind,
        status=409,
    )
