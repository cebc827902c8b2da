"""Appendix I: one unit's scoring sheet, from the unit's events in the log.

Every row of the framework, in its order: maximum, self-score, the appraised
score of each round (when the unit went through an explanation round), the
appraised score that counts, % achieved, points lost, the evidence (document
number and symbol, date, issuer, title; file names), what the appraisers did
and why, and the explanation asked and given. Parents and the total are
computed from the leaves (domain.framework.compute), never typed.

Walks the assessment's events once, watching the aggregate after each one
(fold.fold), to keep what the aggregate itself forgets: each round's value,
every reason, the evidence's references.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from application.documents.model import Cell, Column, Document, cell_text, key_of, shown
from application.documents.previous import Previous
from domain.assessment import leaf_input
from domain.errors import DomainError
from domain.framework import Framework, compute, score
from domain.framework.decimals import round_half_up

NOT_APPLICABLE = "Không áp dụng"

COLUMNS = {
    "stt": Column("stt", "STT"),
    "title": Column("title", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần"),
    "max": Column("max", "Điểm tối đa", number=True),
    "previous": Column("previous", "Điểm thẩm định năm trước", number=True),
    "self": Column("self", "Điểm tự đánh giá", number=True),
    "round1": Column("round1", "Điểm thẩm định vòng 1", number=True),
    "round2": Column("round2", "Điểm thẩm định vòng 2", number=True),
    "appraised": Column("appraised", "Điểm thẩm định", number=True),
    "percent": Column("percent", "Kết quả đạt được (%)", number=True, places=2),
    "lost": Column("lost", "Điểm bị mất", number=True),
    "evidence": Column("evidence", "Tài liệu kiểm chứng"),
    "review": Column("review", "Thẩm định và lý do"),
    "explanation": Column("explanation", "Giải trình"),
}


@dataclass
class Trace:
    """What the assessment's events said, beyond the aggregate's state."""

    evidence: dict[str, dict] = field(default_factory=dict)  # id -> attached fields
    order: list[str] = field(default_factory=list)  # evidence ids, as attached
    rounds: dict[str, dict[int, dict]] = field(default_factory=dict)  # leaf -> round -> input
    review: dict[str, list[str]] = field(default_factory=dict)  # leaf -> lines

    def watch(self, event: Any, aggregate: Any, index: int) -> None:
        name = type(event).__name__
        if name == "EvidenceAttached":
            self.evidence[event.evidence_id] = {
                "leaves": list(event.leaves or []),
                "file": event.file,
                "document": event.document,
                "description": event.description,
            }
            self.order.append(event.evidence_id)
        elif name in ("ScoreAdjusted", "ScoreConfirmed"):
            leaf, round_ = event.leaf, event.round
            self.rounds.setdefault(leaf, {})[round_] = dict(aggregate.appraised_inputs[leaf])
            if name == "ScoreAdjusted":
                line = f"Vòng {round_}: điều chỉnh; lý do: {event.reason}"
            else:
                line = f"Vòng {round_}: giữ nguyên điểm tự đánh giá" + (
                    f"; ghi chú: {event.note}" if event.note else ""
                )
            self.review.setdefault(leaf, []).append(line)
        elif name == "AppraisalClosed":
            for leaf in event.confirmed or []:
                round_ = aggregate.reviewed[leaf]["round"]
                self.rounds.setdefault(leaf, {})[round_] = dict(aggregate.appraised_inputs[leaf])
                self.review.setdefault(leaf, []).append(
                    f"Vòng {round_}: giữ nguyên điểm tự đánh giá khi kết thúc thẩm định"
                )
        elif name == "ScoreCorrected":
            self.review.setdefault(event.leaf, []).append(f"Đính chính; lý do: {event.reason}")
        elif name == "SurveyRecorded":
            source = event.source
            line = f"Kết quả khảo sát: tệp {source['file_name']} (SHA-256 {source['sha256']})"
            if event.reason:
                line += f"; lý do ghi lại: {event.reason}"
            for leaf in event.scores:
                self.review.setdefault(leaf, []).append(line)


def _date(text: str | None) -> str | None:
    """YYYY-MM-DD as Vietnamese readers write it: DD/MM/YYYY."""
    if not text or len(text) != 10:
        return text
    return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"


def evidence_line(item: dict) -> str:
    """'Số 15/KH-UBND, ngày 10/01/2025, UBND xã A: Kế hoạch CCHC; tệp ke-hoach.pdf'."""
    doc = item.get("document") or {}
    parts = []
    if doc.get("number"):
        parts.append(f"Số {doc['number']}")
    if doc.get("date"):
        parts.append(f"ngày {_date(doc['date'])}")
    if doc.get("issuer"):
        parts.append(str(doc["issuer"]))
    line = ", ".join(parts)
    if doc.get("title"):
        line = f"{line}: {doc['title']}" if line else str(doc["title"])
    file = item.get("file") or {}
    if file.get("filename"):
        line = f"{line}; tệp {file['filename']}" if line else f"Tệp {file['filename']}"
    if not line and item.get("description"):
        line = str(item["description"])
    return line


def _points(framework: Framework, leaf: str, given: dict | None) -> Cell:
    if given is None:
        return None
    node = framework.node(leaf)
    try:
        result = score(node.rule, node.max_points, leaf_input(given), leaf)
    except (DomainError, ValueError):
        return None
    return NOT_APPLICABLE if result.excluded else result.points


def _component_note(node: Any) -> str:
    """What a bonus or penalty area adds or takes off, said on its row."""
    if node.component is None:
        return ""
    if node.component == "survey":
        return " (kết quả khảo sát, do đơn vị khảo sát nhập)"
    cap = shown(node.cap if node.cap is not None else node.max_points)
    if node.component == "bonus":
        return f" (điểm thưởng: cộng tối đa {cap} điểm)"
    return f" (điểm trừ: trừ tối đa {cap} điểm)"


def previous_line(found: Previous, unit: str) -> str:
    """Which cycle the previous column is from, and for an imported one, the files."""
    other = found.unit(unit)
    line = found.described()
    if other is None:
        return f"{line}; đơn vị không có kết quả năm trước"
    if other != unit:
        line = f"{line}; đơn vị năm trước: {other}"
    if found.imported and found.sources.get(other):
        line = f"{line}; SHA-256 của tệp: {', '.join(found.sources[other])}"
    return line


def stage_text(assessment: Any, merged_into: str | None = None) -> str:
    if merged_into is not None:
        return f"Đã sáp nhập vào đơn vị {merged_into}; không xếp hạng riêng"
    if assessment is None or not assessment.submitted:
        return "Chưa nộp bản tự đánh giá"
    if assessment.closed:
        return "Đã nộp; đã kết thúc thẩm định"
    return "Đã nộp; đang thẩm định"


def build(
    cycle: Any,
    framework: Framework,
    unit: str,
    assessment: Any,
    trace: Trace,
    previous: tuple[Previous, dict[str, Decimal]] | None = None,
) -> Document:
    """The sheet of `unit` as its folded `assessment` (None: never opened) and the
    trace of its events stand; `previous`: the previous cycle (documents/previous.py)
    and the unit's counterpart's appraised score by previous code."""
    names = {u["code"]: u["name"] for u in cycle.units}
    if unit not in names:
        raise DomainError(
            "unit_not_found",
            f"Kỳ {cycle.cycle} không có đơn vị '{unit[:64]}'.",
            f"Cycle {cycle.cycle} has no unit '{unit[:64]}'.",
            field="unit",
            status=404,
        )
    self_inputs = dict(getattr(assessment, "self_inputs", {}) or {})
    submitted = bool(assessment is not None and assessment.submitted)
    two_rounds = bool(assessment is not None and assessment.flags)
    own = compute(framework, {k: leaf_input(v) for k, v in self_inputs.items()}, allow_missing=True)
    theirs = (
        compute(
            framework,
            {k: leaf_input(v) for k, v in assessment.appraised_view().items()},
            allow_missing=True,
        )
        if submitted
        else None
    )
    ids = ["stt", "title", "max", *(["previous"] if previous else []), "self"]
    ids += ["round1", "round2"] if two_rounds else []
    ids += ["appraised", "percent", "lost", "evidence", "review", "explanation"]
    columns = [COLUMNS[i] for i in ids]

    rows: list[tuple[str, dict[str, Cell]]] = []
    levels: dict[str, int] = {}
    flags = getattr(assessment, "flags", {}) or {}
    reviewed = getattr(assessment, "reviewed", {}) or {}
    for node in framework.nodes:
        code = node.code
        leaf = framework.is_leaf(code)
        mine, appraised = own.node(code), theirs.node(code) if theirs else None
        cells: dict[str, Cell] = {
            "stt": node.label or code,
            "title": cell_text(node.title + _component_note(node)),
            "max": node.max_points,
        }
        if previous:
            other = previous[0].code(code)
            cells["previous"] = None if other is None else previous[1].get(other)
        if not self_inputs or (leaf and code not in self_inputs):
            cells["self"] = None  # nothing self-scored: no sum of nothing shown as 0
        else:
            cells["self"] = NOT_APPLICABLE if mine.excluded else mine.score
        if two_rounds and leaf:
            by_round = trace.rounds.get(code, {})
            cells["round1"] = _points(framework, code, by_round.get(1))
            cells["round2"] = _points(framework, code, by_round.get(2))
        if appraised is not None:
            excluded = appraised.excluded
            cells["appraised"] = NOT_APPLICABLE if excluded else appraised.score
            cells["percent"] = (
                None
                if excluded or appraised.percentage is None
                else round_half_up(appraised.percentage, 2)
            )
            cells["lost"] = None if excluded else appraised.points_lost
        if leaf:
            cells["evidence"] = cell_text(
                "\n".join(
                    evidence_line(trace.evidence[i])
                    for i in trace.order
                    if code in trace.evidence[i]["leaves"]
                    and not assessment.evidence.get(i, {}).get("withdrawn")
                )
            )
            lines = list(trace.review.get(code, []))
            if code in framework.survey_leaves and code not in reviewed:
                lines.append("Chưa có kết quả khảo sát (tính 0 điểm)")
            elif submitted and code not in reviewed:
                lines.append("Chưa thẩm định (tính theo điểm tự đánh giá)")
            cells["review"] = cell_text("\n".join(lines))
            flag = flags.get(code)
            if flag:
                answer = flag.get("answer")
                cells["explanation"] = cell_text(
                    f"Yêu cầu: {flag.get('question')}\n"
                    + (f"Giải trình: {answer}" if answer else "Chưa giải trình")
                )
        rows.append((key_of("scoring_sheet", cells), cells))
        levels[rows[-1][0]] = len(framework.ancestors(code))

    total: dict[str, Cell] = {
        "title": "TỔNG ĐIỂM",
        "max": framework.max_total,
        "self": own.total if self_inputs else None,
    }
    if previous:
        total["previous"] = previous[0].total(unit)[0]
    if theirs is not None:
        total["appraised"] = theirs.total
        total["percent"] = None if theirs.index is None else round_half_up(theirs.index, 2)
        total["lost"] = theirs.points_lost
    rows.append(("TỔNG ĐIỂM", total))
    levels["TỔNG ĐIỂM"] = -1
    if theirs is not None and theirs.band is not None:
        rows.append(("XẾP LOẠI", {"title": "XẾP LOẠI", "appraised": theirs.band.name_vi}))
        levels["XẾP LOẠI"] = -1

    unit_name = names[unit]
    title = [
        "PHỤ LỤC I",
        "KẾT QUẢ CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CỦA UBND CẤP XÃ",
        cell_text(f"Đơn vị: {unit_name} (mã {unit})"),
        cell_text(f"Kỳ đánh giá: {cycle.name} (mã {cycle.cycle}), năm {cycle.year}"),
        cell_text(f"Bộ tiêu chí: {framework.meta.name} ({framework.id})"),
        cell_text(f"Tình trạng: {stage_text(assessment, cycle.merged.get(unit))}"),
    ]
    if previous:
        title.append(cell_text(previous_line(previous[0], unit)))
    return Document("scoring_sheet", title, columns, rows, levels=levels)
