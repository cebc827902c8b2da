"""Vietnamese text of the ranking reads (interfaces/cli/season_cmd.py)."""

from __future__ import annotations

from decimal import Decimal

from domain.framework import display
from interfaces.cli.client_views import local_time

STATES = {
    "proposed": "đã đề xuất",
    "approved": "đã phê duyệt",
    "published": "đã công bố",
    "superseded": "đã được thay thế",
}
STATUS = {"not_submitted": "không nộp hồ sơ", "merged": "đã sáp nhập"}


def _d(value: object) -> str:
    return "-" if value is None else display(Decimal(str(value)))


def _band_names(doc: dict) -> dict[str, str]:
    """Band code -> its Vietnamese name, from the framework's bands the read carries."""
    return {b["code"]: b.get("name_vi") or b["code"] for b in doc.get("bands") or []}


def _lines(ranked: list, unranked: list, names: dict[str, str]) -> list[str]:
    out = [
        f"{'Hạng':>4}  {'Mã':<14} {'Tự chấm':>8} {'Thẩm định':>10} {'Chỉ số':>7}  "
        f"{'Xếp loại':<12} Tên"
    ]
    for r in ranked:
        out.append(
            f"{r['rank']:>4}  {r['unit']:<14} {_d(r.get('self_total')):>8} "
            f"{_d(r.get('appraised_total')):>10} {_d(r.get('index')):>7}  "
            f"{names.get(r.get('band'), r.get('band')) or '-':<12} {r.get('name') or ''}"
        )
    if unranked:
        out.append(f"Không xếp hạng ({len(unranked)}):")
        for r in unranked:
            why = STATUS.get(r.get("status"), r.get("status"))
            into = f" vào {r['into']}" if r.get("into") else ""
            out.append(f"      {r['unit']:<14} {why}{into} — {r.get('name') or ''}")
    return out


def manifest_text(content: dict, digest: str, bands: list | None = None) -> str:
    head = [
        f"Bảng xếp hạng kỳ {content['cycle']}, phiên bản {content['version']} "
        f"({len(content['ranked'])} xếp hạng, {len(content['unranked'])} không xếp hạng)",
        f"Digest: {digest}",
    ]
    names = _band_names({"bands": bands})
    return "\n".join(head + _lines(content["ranked"], content["unranked"], names))


def versions_text(doc: dict) -> str:
    closed = doc.get("closed")
    out = [
        f"Xếp hạng kỳ {doc['cycle']}: "
        + (
            f"kết thúc thẩm định {local_time(closed['at'])}"
            if closed
            else "chưa kết thúc thẩm định"
        )
    ]
    for v in doc.get("versions") or []:
        decision = v.get("decision")
        text = f"  Phiên bản {v['version']}: {STATES.get(v['state'], v['state'])}"
        text += f", đề xuất {local_time((v.get('proposed') or {}).get('at'))}"
        text += f" (vị trí nhật ký {v.get('position')})"
        if decision:
            text += f", Quyết định {decision['number']} ngày {decision['date']}"
        if v.get("published"):
            text += f", công bố {local_time(v['published']['at'])}"
        out.append(text)
    if not doc.get("versions"):
        out.append("  Chưa có phiên bản nào.")
    return "\n".join(out)


def version_text(doc: dict) -> str:
    decision = doc.get("decision")
    state = STATES.get(doc["state"], doc["state"])
    head = [
        f"Xếp hạng kỳ {doc['cycle']}, phiên bản {doc['version']} ({state}), "
        f"chốt tại vị trí nhật ký {doc.get('position')}",
        f"Digest: {doc['digest']} (đã kiểm tra với các dòng dưới đây)",
    ]
    if decision:
        head.append(f"Quyết định phê duyệt: {decision['number']} ngày {decision['date']}")
    ranked, unranked = doc.get("ranked") or [], doc.get("unranked") or []
    return "\n".join(head + _lines(ranked, unranked, _band_names(doc)))


def sheet_text(doc: dict) -> str:
    line = doc.get("line") or {}
    out = [
        f"Phiếu chấm điểm đã công bố: {line.get('name')} ({line.get('unit')}), kỳ {doc['cycle']}, "
        f"phiên bản {doc['version']}",
    ]
    if line.get("status") == "submitted":
        out.append(
            f"Tự chấm {_d(line.get('self_total'))}, thẩm định {_d(line.get('appraised_total'))}, "
            f"chỉ số {_d(line.get('index'))}, hạng {line.get('rank')}, "
            f"xếp loại {_band_names(doc).get(line.get('band'), line.get('band'))}"
        )
    out.append(f"{'Mã':<10} {'Tối đa':>7} {'Tự chấm':>8} {'Thẩm định':>10}  Lý do")
    for n in doc.get("nodes") or []:
        indent = "  " * (n.get("depth") or 0)
        out.append(
            f"{indent + n['code']:<10} {_d(n.get('max_points')):>7} {_d(n.get('self_score')):>8} "
            f"{_d(n.get('appraised_score')):>10}  {n.get('reason') or ''}"
        )
    return "\n".join(out)
