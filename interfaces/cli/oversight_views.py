"""Vietnamese text and export rows of the oversight reads (interfaces/cli/oversight_cmd.py)."""

from __future__ import annotations

import json
from datetime import datetime

from interfaces.cli.client_views import VN, local_time

KIND_NAMES = {
    "adjustment": "thẩm định điều chỉnh",
    "confirmation": "thẩm định xác nhận",
    "explanation_request": "yêu cầu giải trình",
    "explanation_answer": "giải trình",
    "unit_closed": "kết thúc thẩm định",
    "correction": "điều chỉnh sau công bố",
    "submission_withdrawn": "rút hồ sơ đã nộp",
    "deadline_extended": "gia hạn",
}
DEADLINES = {
    "self_assessment_due": "hạn tự đánh giá",
    "explanation_due": "hạn giải trình",
    "appraisal_due": "hạn thẩm định",
}
FLAGS = {
    "after_deadline": "quá hạn",
    "after_approval": "sau phê duyệt",
    "after_publication": "sau công bố",
    "large_deduction": "trừ lớn",
}
BY = {"actor": "Người thực hiện", "unit": "Đơn vị", "leaf": "Tiêu chí", "area": "Lĩnh vực"}


def _one_line(text: object, width: int) -> str:
    """Text on one line (a reason may hold line breaks), cut to `width`."""
    flat = " / ".join(str(text or "").splitlines()) or "-"
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def value_text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        if value.get("not_applicable"):
            return "không phát sinh"
        if "points" in value:
            return str(value["points"])
        if "done" in value:
            return "đạt" if value["done"] else "không đạt"
        if "numerator" in value:
            return f"{value.get('numerator')}/{value.get('denominator')}"
    if isinstance(value, list):
        return f"{len(value)} tiêu chí"
    if isinstance(value, str):
        return _short_time(value)
    return json.dumps(value, ensure_ascii=False)


def _short_time(text: str) -> str:
    """A deadline in Vietnam's time, short (dd/mm HH:MM); other text as it is."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.astimezone(VN).strftime("%d/%m %H:%M") if moment.tzinfo else text


def flags_text(change: dict) -> str:
    flags = change.get("flags") or {}
    named = [text for name, text in FLAGS.items() if flags.get(name)]
    if not flags.get("after_submission", True):
        named.insert(0, "chưa nộp")
    notes = change.get("notes") or []
    if notes:
        waiting = sum(1 for n in notes if not n.get("answer"))
        named.append(f"{len(notes)} ghi chú" + (f" ({waiting} chờ trả lời)" if waiting else ""))
    return ", ".join(named)


def _who(actor: dict) -> str:
    return f"{actor.get('name') or actor.get('key_id')} ({actor.get('role') or '?'})"


def changes_text(doc: dict) -> str:
    rows = doc.get("changes") or []
    shown = doc.get("offset", 0)
    head = (
        f"Giám sát {'kỳ ' + doc['cycle'] if doc.get('cycle') else 'các kỳ trong phạm vi'}: "
        f"{doc['total']} thay đổi; hiển thị {shown + 1 if rows else 0}-{shown + len(rows)} "
        f"(ngưỡng trừ lớn: {doc.get('large_share')} điểm tối đa)"
    )
    lines = [
        head,
        "",
        f"{'Vị trí':>7}  {'Giờ VN (ký)':<16}  {'Đơn vị':<10} {'Tiêu chí':<8} {'Loại':<22} "
        f"{'Vòng':>4}  {'Trước':>11} {'Sau':>11} {'+/-':>7}  {'Người thực hiện':<34} "
        f"{'Cờ':<40} Lý do",
    ]
    for c in rows:
        delta = c.get("delta")
        lines.append(
            f"{_v(c.get('log_index')):>7}  {local_time(c.get('at')):<16}  "
            f"{_v(c.get('unit')):<10} {_v(c.get('leaf')):<8} "
            f"{_one_line(KIND_NAMES.get(c['kind'], c['kind']), 22):<22} "
            f"{_v(c.get('round')):>4}  {_points(c, 'old'):>11} {_points(c, 'new'):>11} "
            f"{_signed(delta):>7}  "
            f"{_one_line(_who(c.get('actor') or {}), 34):<34} "
            f"{_one_line(flags_text(c), 40) if flags_text(c) else '':<40} "
            f"{_one_line(c.get('reason'), 60)}"
        )
    lines.append(
        "(Giờ VN (ký): thời điểm người thực hiện ký lệnh; quá hạn: ký sau hạn áp dụng lúc đó; "
        "Vị trí: chỉ số lá trong nhật ký, dùng cho `parindex log prove --index`)"
    )
    return "\n".join(lines)


def _signed(delta: str | None) -> str:
    if delta is None:
        return "-"
    return delta if delta.startswith("-") or delta == "0" else "+" + delta


def _points(c: dict, side: str) -> str:
    points = c.get(f"{side}_points")
    if points is not None:
        return points
    return (
        _one_line(value_text(c.get(f"{side}_value")), 16)
        if c["kind"] == "deadline_extended"
        else "-"
    )


def _v(value: object) -> str:
    return "-" if value is None else str(value)


def summary_text(doc: dict) -> str:
    by = doc["by"]
    lines = [
        f"Tổng hợp giám sát theo {BY.get(by, by).lower()} "
        f"({'kỳ ' + doc['cycle'] if doc.get('cycle') else 'các kỳ trong phạm vi'}): "
        f"{doc['total']} dòng",
        "",
        f"{BY.get(by, by):<36} {'Thay đổi':>8} {'Đổi điểm':>8} {'Trừ':>9} {'Cộng':>9} "
        f"{'Trừ lớn':>7} {'Quá hạn':>7} {'Sau CB':>6}",
    ]
    for r in doc.get("rows") or []:
        label = r.get("name") or r.get("title") or ""
        who = f"{r['key']} {label}".strip() if by != "actor" else f"{label} ({r.get('role')})"
        flags = r.get("flags") or {}
        lines.append(
            f"{_one_line(who, 36):<36} {r['changes']:>8} {r['score_changes']:>8} "
            f"{r['points_deducted']:>9} {r['points_added']:>9} {r.get('large_deductions', 0):>7} "
            f"{flags.get('after_deadline', 0):>7} {flags.get('after_publication', 0):>6}"
        )
    lines.append(
        "(Trừ / Cộng: tổng điểm bị trừ / được cộng; Trừ lớn: số lần trừ từ một nửa điểm tối "
        "đa trở lên; Sau CB: sau khi công bố xếp hạng)"
    )
    return "\n".join(lines)
