"""Human (Vietnamese) text for what the client commands read from the server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from application.file_names import display_filename

VN = timezone(timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving

KINDS = {
    "self_score": "tự chấm",
    "not_applicable": "không phát sinh",
    "adjustment": "thẩm định điều chỉnh",
    "confirmation": "thẩm định xác nhận điểm tự chấm",
    "explanation_request": "yêu cầu giải trình",
    "explanation_answer": "giải trình",
    "explanations_submitted": "nộp giải trình",
    "unit_closed": "kết thúc thẩm định, xác nhận điểm tự chấm",
    "correction": "điều chỉnh sau công bố",
    "survey": "kết quả khảo sát (SIPAS)",
    "evidence_attached": "nộp minh chứng",
    "evidence_withdrawn": "rút minh chứng",
}
REVIEWS = {
    "adjusted": "điều chỉnh",
    "confirmed": "xác nhận",
    "corrected": "đính chính",
    "survey": "khảo sát",
}
STAGES = {
    "not_submitted": "chưa nộp",
    "round_1": "đã nộp, thẩm định vòng 1",
    "explanation": "đang giải trình",
    "round_2": "thẩm định vòng 2",
    "closed": "đã kết thúc thẩm định",
    "merged": "đã sáp nhập",
}


def review_text(review: dict | None) -> str:
    """ "chưa thẩm định" (never reviewed) or how and in which round."""
    if not review:
        return "chưa thẩm định"
    return f"{REVIEWS.get(review.get('how') or '', review.get('how'))} v{_v(review.get('round'))}"


def local_time(text: str | None) -> str:
    """An RFC 3339 UTC time shown in Vietnam's time (dd/mm/yyyy HH:MM)."""
    if not text:
        return "-"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.astimezone(VN).strftime("%d/%m/%Y %H:%M")


def _v(value: object) -> str:
    return "-" if value is None else str(value)


def _band(band: dict | None) -> str:
    return band["vi"] if band else "-"


def _actor(actor: dict | None) -> str:
    if not actor:
        return "-"
    return f"{actor.get('name') or actor.get('key_id')} ({actor.get('role') or '?'})"


def _value(value: object) -> str:
    if not isinstance(value, dict):
        return _v(value)
    if value.get("not_applicable"):
        return "không phát sinh"
    if "points" in value:
        return f"{value['points']} điểm"
    if "done" in value:
        return "đạt" if value["done"] else "không đạt"
    if "numerator" in value:
        return f"{value.get('numerator')}/{value.get('denominator')}"
    return ", ".join(f"{k}={v}" for k, v in value.items())


def scores_text(doc: dict) -> str:
    d = doc.get("display") or {}
    lines = [
        f"Đơn vị: {doc.get('unit_name')} ({doc['unit']}) — kỳ {doc['cycle']}, "
        f"bộ tiêu chí {doc.get('framework')}",
        f"Tổng tự chấm: {_v(d.get('self_total'))} / {_v(d.get('applicable_max'))}; "
        f"sau thẩm định: {_v(d.get('appraised_total'))}; chỉ số: {_v(d.get('index'))} — "
        f"xếp loại: {_band(doc.get('band'))}",
        _submission_line(doc.get("submission")),
        _stage_line(doc),
        *_previous_lines(doc.get("previous")),
        "",
        f"{'Mã':<10} {'Tối đa':>7} {'Tự chấm':>8} {'Thẩm định':>10}  {'Đánh giá':<15} "
        + ("Năm trước  " if doc.get("previous") else "")
        + "Tiêu chí",
    ]
    last = bool(doc.get("previous"))
    for n in doc.get("nodes") or []:
        nd = n.get("display") or {}
        mark = " *" if n.get("adjusted") else ""
        title = (n.get("title") or "")[:60]
        indent = "  " * (n.get("depth") or 0)
        state = ""
        if n.get("is_leaf"):
            state = review_text(n.get("review"))
            flag = n.get("flag")
            if flag:
                state += "; GT" if flag.get("answered") else "; chờ GT"
        before = f"{_v(n.get('previous_appraised')):>9}  " if last else ""
        lines.append(
            f"{indent + n['code']:<10} {_v(nd.get('max_points')):>7} "
            f"{_v(nd.get('self_score')):>8} {_v(nd.get('appraised_score')):>10}"
            f"{mark:2} {state:<15} {before}{title}"
        )
    lines.append(
        "(* điều chỉnh khi thẩm định; v1/v2: vòng thẩm định; chưa thẩm định: tính theo "
        "điểm tự chấm; chờ GT / GT: đã yêu cầu giải trình, chưa / đã giải trình)"
    )
    return "\n".join(lines)


def _previous_lines(p: dict | None) -> list[str]:
    """Which cycle "Năm trước" is, and the unit's total and rank in it."""
    if not p:
        return []
    where = (
        "nhập từ bảng đã công bố"
        if p.get("imported")
        else f"phiên bản xếp hạng {p['version']} đã công bố"
        if p.get("version")
        else "chưa công bố xếp hạng"
    )
    figures = (
        f"tổng {_v(p.get('total'))}, hạng {_v(p.get('rank'))}"
        if p.get("total") is not None or p.get("rank") is not None
        else "không có số liệu"
    )
    return [
        f"Năm trước: kỳ {p['cycle']} (năm {p['year']}, {where}), {p.get('unit') or '-'}: {figures}"
    ]


def _stage_line(doc: dict) -> str:
    flags = doc.get("flags") or {}
    stage = STAGES.get(doc.get("stage") or "", _v(doc.get("stage")))
    return (
        f"Giai đoạn: {stage}; đã thẩm định {_v(doc.get('reviewed'))} tiêu chí; "
        f"giải trình: {flags.get('open', 0)} chờ, {flags.get('answered', 0)} đã trả lời"
    )


def _submission_line(sub: dict | None) -> str:
    if not sub:
        return "Hồ sơ tự đánh giá: chưa nộp"
    if sub.get("status") == "withdrawn":
        return (
            f"Hồ sơ tự đánh giá: đã rút lúc {local_time(sub.get('at'))} ({_v(sub.get('reason'))})"
        )
    return (
        f"Hồ sơ tự đánh giá: đã nộp lúc {local_time(sub.get('at'))}, tổng tự chấm "
        f"{_v(sub.get('self_total'))} (vị trí nhật ký {_v(sub.get('leaf_index'))})"
    )


def ranking_text(doc: dict) -> str:
    lines = [
        f"Xếp hạng kỳ {doc['cycle']} (tạm tính theo nhật ký hiện tại): "
        f"{doc.get('total', 0)} đơn vị đã nộp được xếp hạng",
        f"{'Hạng':>4}  {'Mã':<12} {'Tự chấm':>8} {'Thẩm định':>10} {'Chỉ số':>7}  "
        f"{'Xếp loại':<11} "
        + (f"{'Năm trước':>10} {'Hạng':>5}  " if doc.get("previous") else "")
        + "Tên",
    ]
    last = doc.get("previous")
    if last:
        lines.insert(1, f"Năm trước: kỳ {last['cycle']} (năm {last['year']})")
    for r in doc.get("rows") or []:
        d = r.get("display") or {}
        p = r.get("previous") or {}
        before = f"{_v(p.get('total')):>10} {_v(p.get('rank')):>5}  " if last else ""
        lines.append(
            f"{r['rank']:>4}  {r['unit']:<12} {_v(d.get('self_total')):>8} "
            f"{_v(d.get('appraised_total')):>10} {_v(d.get('index')):>7}  "
            f"{_band(r.get('band')):<11} {before}{_v(r.get('unit_name'))}"
        )
    others = doc.get("not_submitted") or []
    if others:
        lines.append(f"Không xếp hạng ({len(others)} đơn vị, không tính là 0 điểm):")
        for x in others:
            why = (
                f"đã sáp nhập vào {_v(x.get('into'))}"
                if x.get("status") == "merged"
                else "chưa nộp hồ sơ"
            )
            lines.append(f"      {x['unit']:<12} {why} — {_v(x.get('unit_name'))}")
    return "\n".join(lines)


def _step(e: dict) -> str:
    kind = KINDS.get(e.get("kind"), e.get("kind"))
    if e.get("round"):
        kind += f" (vòng {e['round']})"
    text = f"#{e.get('seq')} {local_time(e.get('at'))}  {kind}: "
    if e.get("new_points") is not None:
        # The change a council or MTTQ reads first: from what to what.
        old = e.get("old_points")
        text += f"{old if old is not None else '—'} → {e['new_points']} điểm"
        text += f" (nhập: {_value(e.get('new_value'))})"
    else:
        text += _value(e.get("new_value"))
    text += f" — {_actor(e.get('actor'))}"
    if e.get("reason"):
        text += f"; lý do: {e['reason']}"
    if e.get("evidence_ids"):
        text += f"; minh chứng: {', '.join(e['evidence_ids'])}"
    status = {
        "valid": "chữ ký hợp lệ",
        "invalid": "CHỮ KÝ KHÔNG HỢP LỆ",
        "unknown_key": "KHÓA KHÔNG RÕ",
    }.get(e.get("signature_status") or "", "")
    text += f" [vị trí nhật ký {_v(e.get('leaf_index'))}]"
    return text + (f" — {status}" if status else "")


def note_lines(notes: list | None, indent: str = "    ") -> list[str]:
    """An oversight note and the council's answer, as read (each names its log
    position, where `parindex log prove` can check it)."""
    out = []
    for n in notes or []:
        head = f"{indent}↳ Ghi chú giám sát {n.get('note_id')} — {_actor(n.get('by'))}, "
        where = f"[vị trí nhật ký {_v(n.get('leaf_index'))}]"
        out.append(f"{head}{local_time(n.get('at'))}: {n.get('text')} {where}")
        a = n.get("answer")
        if a:
            out.append(
                f"{indent}  Hội đồng trả lời — {_v((a.get('by') or {}).get('name'))}, "
                f"{local_time(a.get('at'))}: "
                f"{a.get('text')} [vị trí nhật ký {_v(a.get('leaf_index'))}]"
            )
        else:
            out.append(f"{indent}  (Hội đồng chưa trả lời)")
    return out


def history_text(doc: dict) -> str:
    lines = [
        f"Lịch sử tiêu chí {doc['leaf']} ({_v(doc.get('title'))}) — {doc['unit']}, "
        f"kỳ {doc['cycle']}, tối đa {_v(doc.get('max_points'))} điểm"
    ]
    entries = doc.get("entries") or []
    for e in entries:
        lines.append(_step(e))
        lines += note_lines(e.get("notes"))
    if not entries:
        lines.append("(chưa có sự kiện nào)")
    if doc.get("notes"):
        lines.append("Ghi chú giám sát về tiêu chí này:")
        lines += note_lines(doc["notes"])
    return "\n".join(lines)


def notes_text(doc: dict) -> str:
    notes = doc.get("notes") or []
    lines = [
        f"Ghi chú giám sát — {doc['unit']}, kỳ {doc['cycle']}: {len(notes)} ghi chú, "
        f"{_v(doc.get('open'))} chưa được trả lời"
    ]
    for n in notes:
        about = {
            "unit": "về đơn vị",
            "leaf": f"về tiêu chí {n.get('leaf')}",
            "change": f"về thay đổi ở vị trí nhật ký {n.get('change')}",
        }.get(n.get("about"), "")
        lines.append(f"  {n.get('note_id')} ({about})")
        lines += note_lines([n])
    return "\n".join(lines)


def mismatch_lines(doc: dict, lang: str = "vi") -> list[str]:
    """One plain line per value shown that the proven commands do not give."""
    names = {
        "self.points": ("Điểm tự chấm", "Self-score points"),
        "self.input": ("Giá trị tự chấm đã nhập", "Self-score input"),
        "appraised.points": ("Điểm sau thẩm định", "Appraised points"),
        "appraised.input": ("Giá trị thẩm định đã nhập", "Appraised input"),
    }
    lines = []
    for m in (doc.get("recomputed") or {}).get("mismatches") or []:
        vi, en = names.get(m["field"], (m["field"], m["field"]))
        shown, proven, at = _value(m.get("shown")), _value(m.get("recomputed")), m.get("leaf_index")
        if lang == "en":
            lines.append(
                f"MISMATCH: {en} shown by the server is {shown}, but the signed command "
                f"proven at log position {_v(at)} gives {proven}. The server's read model "
                "does not match its own log: trust the proven value and report it."
            )
        else:
            lines.append(
                f"KHÔNG KHỚP: {vi} máy chủ hiển thị là {shown}, nhưng lệnh đã ký được "
                f"chứng minh ở vị trí nhật ký {_v(at)} cho {proven}. Dữ liệu đọc của máy "
                "chủ không khớp với chính nhật ký của nó: hãy tin giá trị đã chứng minh "
                "và báo cáo việc này."
            )
    return lines


def why_text(doc: dict, lang: str = "vi") -> str:
    s, a = doc.get("self") or {}, doc.get("appraised") or {}
    cp = doc.get("checkpoint") or {}
    lines = [
        f"Tiêu chí {doc['leaf']} ({_v(doc.get('title'))}) — {doc['unit']}, kỳ {doc['cycle']}",
        f"Tự chấm: {_v(s.get('display'))} điểm; sau thẩm định: {_v(a.get('display'))} điểm"
        + (f" (điều chỉnh: {a['reason']})" if a.get("adjusted") and a.get("reason") else ""),
        f"Thẩm định: {review_text(a.get('review'))}",
    ]
    flag = doc.get("flag")
    if flag:
        lines.append(f"Yêu cầu giải trình: {_v(flag.get('question'))}")
        lines.append(
            f"Giải trình: {flag['answer']}" if flag.get("answered") else "Giải trình: chưa trả lời"
        )
    lines.append("")
    for e in doc.get("chain") or []:
        ok = "đã xác minh bằng chứng" if e.get("verified") else "CHƯA xác minh"
        produces = e.get("produces") or []
        tag = f" (tạo ra giá trị {'/'.join(produces)})" if produces else ""
        lines.append(f"{_step(e)}{tag} — {ok}")
        lines += note_lines(e.get("notes"))
    if not doc.get("chain"):
        lines.append("(chưa có sự kiện chấm điểm nào)")
    if doc.get("notes"):
        lines.append("Ghi chú giám sát về tiêu chí này:")
        lines += note_lines(doc["notes"])
    lines.append("")
    lines.append(
        f"Mọi bằng chứng dẫn tới điểm kiểm tra đã ký: kích thước {_v(cp.get('size'))}, "
        f"gốc {_v(cp.get('root'))}"
    )
    proven = doc.get("proven")
    if proven:
        fw = proven.get("framework") or {}
        lines.append(
            "Chữ ký của từng người thực hiện và khóa của họ đã xác minh, lần ngược tới "
            f"sự kiện khởi tạo; bộ tiêu chí {_v(fw.get('framework_id'))} đúng như quản trị "
            f"đã ký công bố (vị trí {_v(fw.get('leaf_index'))}, {_v(fw.get('digest'))})"
        )
    mismatches = mismatch_lines(doc, lang)
    if mismatches:
        lines += ["", *mismatches]
    elif doc.get("recomputed") is not None:
        lines.append(
            "Values shown match the proven commands."
            if lang == "en"
            else "Các giá trị hiển thị khớp với các lệnh đã chứng minh."
        )
    return "\n".join(lines)


def evidence_text(doc: dict) -> str:
    lines = [f"Minh chứng của {doc['unit']}, kỳ {doc['cycle']}"]
    for e in doc.get("items") or []:
        doc_ref = e.get("document") or {}
        ref = ", ".join(str(doc_ref[k]) for k in ("number", "date", "issuer") if doc_ref.get(k))
        file = e.get("file") or {}
        status = "đã rút" if e.get("status") == "withdrawn" else "hiệu lực"
        lines.append(
            f"- {e['evidence_id']} [{status}] tiêu chí {', '.join(e.get('leaves') or [])}"
            + (f"; văn bản {ref}" if ref else "")
            # a name stored before the file-name rules may hold
            # terminal escapes or line breaks
            + (
                f"; tệp {display_filename(file.get('filename'))} "
                f"({file.get('size')} byte, "
                f"sha256 {str(file.get('sha256'))[:12]}…)"
                if file
                else ""
            )
            + f" — {_actor(e.get('attached_by'))}, {local_time(e.get('attached_at'))}"
        )
    if len(lines) == 1:
        lines.append("(chưa có minh chứng)")
    return "\n".join(lines)


def cycles_text(cycles: list[dict]) -> str:
    if not cycles:
        return "Chưa có kỳ đánh giá nào trong phạm vi của khóa này."
    lines = [f"{'Mã kỳ':<24} {'Năm':>4}  {'Số xã':>6}  {'Thẩm định':<16} Tên"]
    for c in cycles:
        lines.append(
            f"{_v(c.get('cycle')):<24} {_v(c.get('year')):>4}  {_v(c.get('unit_count')):>6}  "
            f"{_v(c.get('authority')):<16} {_v(c.get('name'))}"
        )
    return "\n".join(lines)


_LEVELS = {"district": "cấp huyện", "province": "cấp tỉnh"}
_DEADLINES = {
    "self_assessment_due": "Hạn nộp tự đánh giá",
    "explanation_due": "Hạn giải trình",
    "appraisal_due": "Hạn thẩm định",
}
_UNIT_TYPES = {"xa": "xã", "phuong": "phường", "thi_tran": "thị trấn", "dac_khu": "đặc khu"}
_UNITS_LISTED = 200  # more than this: counts by type only (--json has every unit)


def _due(text: str | None) -> str:
    """A deadline in Vietnam's time and, exactly, as signed (UTC)."""
    return f"{local_time(text)} giờ VN ({text})" if text else "-"


def cycle_text(c: dict) -> str:
    lines = [
        f"Kỳ đánh giá {c.get('cycle')}: {_v(c.get('name'))}",
        f"  Năm: {_v(c.get('year'))}; bộ tiêu chí: {_v(c.get('framework'))}",
        f"  Cơ quan thẩm định: {_v(c.get('authority'))}"
        f" ({_LEVELS.get(c.get('level') or '', 'cấp chưa ghi')}); tỉnh: {_v(c.get('province'))}",
        f"  Số vòng thẩm định: {_v(c.get('rounds'))}",
        f"  Số đơn vị: {_v(c.get('unit_count'))}; mở lúc {local_time(c.get('opened_at'))}"
        f" (vị trí nhật ký {_v(c.get('leaf_index'))})",
    ]
    deadlines = c.get("deadlines") or {}
    if not deadlines:
        lines.append("  Chưa đặt hạn nào (không có gì bị quá hạn).")
    for kind, label in _DEADLINES.items():
        if kind in deadlines:
            lines.append(f"  {label}: {_due(deadlines[kind])}")
    for unit, own in sorted((c.get("unit_deadlines") or {}).items()):
        for kind, label in _DEADLINES.items():
            if kind in own:
                lines.append(f"    {unit}: {label.lower()} riêng {_due(own[kind])}")
    units = c.get("units") or []
    if units:
        counts: dict[str, int] = {}
        for u in units:
            if not u.get("merged_into"):
                name = _UNIT_TYPES.get(u.get("type") or "", "chưa ghi loại")
                counts[name] = counts.get(name, 0) + 1
        lines.append(
            "  Loại đơn vị: " + "; ".join(f"{name} {n}" for name, n in sorted(counts.items()))
        )
        if len(units) <= _UNITS_LISTED:
            lines.append("  Đơn vị:")
            for u in units:
                kind = _UNIT_TYPES.get(u.get("type") or "", "-")
                merged = f" — đã sáp nhập vào {u['merged_into']}" if u.get("merged_into") else ""
                lines.append(f"    {_v(u.get('unit')):<24} {kind:<9} {_v(u.get('name'))}{merged}")
    previous = c.get("previous")
    if previous:
        source = (
            "nhập từ bảng đã công bố"
            if previous["imported"]
            else f"phiên bản xếp hạng {previous['version']} đã công bố"
            if previous.get("version")
            else "chưa công bố xếp hạng"
        )
        lines.append(
            f"  So sánh với năm trước: kỳ {previous['cycle']} (năm {previous['year']}, {source}); "
            f"{previous['mapped_codes']} mã tiêu chí, {previous['mapped_units']} mã đơn vị ánh xạ"
        )
    merged = c.get("merged") or {}
    if merged:
        into: dict[str, list[str]] = {}
        for unit, target in merged.items():
            into.setdefault(target, []).append(unit)
        for target, old in sorted(into.items()):
            lines.append(f"  Sáp nhập: {', '.join(sorted(old))} -> {target}")
    changes = c.get("changes") or []
    if changes:
        lines.append("  Thay đổi trong kỳ:")
    for ch in changes:
        who = (ch.get("actor") or {}).get("name") or (ch.get("actor") or {}).get("key_id")
        when = f"{local_time(ch.get('at'))}, {_v(who)}, vị trí {_v(ch.get('leaf_index'))}"
        if ch.get("kind") == "deadline_extended":
            whose = f" của {ch['unit']}" if ch.get("unit") else ""
            what = (
                f"gia hạn {_DEADLINES.get(ch.get('deadline') or '', ch.get('deadline')).lower()}"
                f"{whose}: {local_time(ch.get('previous'))} -> {_due(ch.get('until'))}"
            )
        elif ch.get("kind") == "units_added":
            what = f"thêm {', '.join(ch.get('units') or [])}"
        else:
            what = f"sáp nhập {', '.join(ch.get('units') or [])} thành {_v(ch.get('into'))}"
        lines.append(f"    {what} — lý do: {_v(ch.get('reason'))} ({when})")
    return "\n".join(lines)


def submitted_text(content: dict, digest: str) -> str:
    return (
        f"Đã nộp hồ sơ tự đánh giá của {content['unit']} (kỳ {content['cycle']}): "
        f"{len(content['self'])} tiêu chí, {len(content['evidence'])} minh chứng, "
        f"tổng điểm tự chấm {content['self_total']}; chữ ký trên {digest}"
    )


# -- where the season stands (cycle status) -------------------------------------------
def _unit_status_lines(u: dict, indent: str = "") -> list[str]:
    flags = u.get("flags") or {}
    lines = [
        f"{indent}{u.get('unit')} — {_v(u.get('name'))}"
        f" ({_UNIT_TYPES.get(u.get('type') or '', 'chưa ghi loại')}): "
        f"{STAGES.get(u.get('stage') or '', _v(u.get('stage')))}"
        + (f" vào {u['merged_into']}" if u.get("merged_into") else ""),
        f"{indent}  Đã chấm {_v(u.get('scored'))}; minh chứng {_v(u.get('evidence_count'))}; "
        f"đã thẩm định {_v(u.get('reviewed'))} tiêu chí; giải trình: "
        f"{flags.get('open', 0)} chờ, {flags.get('answered', 0)} đã trả lời",
    ]
    if u.get("submitted_at"):
        lines.append(f"{indent}  Nộp hồ sơ lúc {local_time(u['submitted_at'])} giờ VN")
    if u.get("explanations_submitted_at"):
        lines.append(
            f"{indent}  Nộp giải trình lúc {local_time(u['explanations_submitted_at'])} giờ VN"
        )
    if u.get("closed_at"):
        lines.append(f"{indent}  Kết thúc thẩm định lúc {local_time(u['closed_at'])} giờ VN")
    own = u.get("own_deadlines") or {}
    for kind, label in _DEADLINES.items():
        due = (u.get("deadlines") or {}).get(kind)
        if due and kind in own:
            lines.append(f"{indent}  {label} (gia hạn riêng): {_due(due)}")
    return lines


def _season_lines(c: dict) -> list[str]:
    versions = c.get("rankings") or {}
    latest = versions.get("latest")
    states = {
        "proposed": "đã đề xuất",
        "approved": "đã phê duyệt",
        "published": "đã công bố",
        "superseded": "đã thay thế",
    }
    closed = c.get("closed")
    lines = [
        f"Kỳ {c.get('cycle')}: {_v(c.get('name'))} — thẩm định "
        f"{_LEVELS.get(c.get('level') or '', 'cấp chưa ghi')}, {_v(c.get('rounds'))} vòng",
        "  Thẩm định của kỳ: "
        + (f"đã kết thúc lúc {local_time(closed.get('at'))} giờ VN" if closed else "đang diễn ra"),
        f"  Xếp hạng: {versions.get('count', 0)} phiên bản"
        + (
            f", mới nhất v{latest['version']} {states.get(latest['state'], latest['state'])}"
            if latest
            else ""
        ),
    ]
    deadlines = c.get("deadlines") or {}
    for kind, label in _DEADLINES.items():
        if kind in deadlines:
            lines.append(f"  {label}: {_due(deadlines[kind])}")
    lines.append(
        f"  (Giai đoạn theo đồng hồ máy chủ lúc {local_time(c.get('as_of'))} giờ VN, "
        "chỉ để hiển thị; hạn của mỗi lệnh được xét theo thời điểm ký của lệnh.)"
    )
    return lines


def cycle_status_text(c: dict) -> str:
    lines = _season_lines(c)
    totals = c.get("totals") or {}
    lines.append(
        f"  Tổng {_v(c.get('unit_count'))} đơn vị: "
        + "; ".join(f"{STAGES[k]} {totals.get(k, 0)}" for k in STAGES)
    )
    units = c.get("units") or []
    if units:
        first = (c.get("offset") or 0) + 1
        lines.append(f"Đơn vị {first}–{first + len(units) - 1}:")
    for u in units:
        lines += _unit_status_lines(u, "  ")
    return "\n".join(lines)


def unit_status_text(u: dict) -> str:
    return "\n".join([*_season_lines(u.get("season") or {}), *_unit_status_lines(u)])
