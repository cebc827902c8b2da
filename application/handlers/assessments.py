"""Self-scores, evidence and appraisal adjustments on one unit's assessment."""

from __future__ import annotations

from application.errors import NotFound
from application.evidence import sniff
from application.handlers.base import Context, check_fields, handler
from domain.actors import Target
from domain.assessment import INPUT_FIELDS, Assessment
from domain.cycle import Cycle
from domain.errors import DomainError, Problems

BASE = ("cycle", "unit")


def _cycle(ctx: Context) -> Cycle:
    if "cycle" not in ctx.cache:
        code = ctx.field("cycle")
        cycle = ctx.app.get(Cycle.create_id(code))
        if cycle is None:
            raise NotFound(f"kỳ đánh giá {code}", f"cycle {code}", code="cycle_not_found")
        ctx.cache["cycle"] = cycle
    return ctx.cache["cycle"]


def target(ctx: Context) -> Target:
    cycle = _cycle(ctx)
    unit = ctx.field("unit")
    if unit not in cycle.unit_codes():
        raise NotFound(f"đơn vị {unit} trong kỳ {cycle.cycle}", f"unit {unit} in {cycle.cycle}",
                       code="unit_not_found")
    return cycle.target(unit)


def _load(ctx: Context):
    cycle = _cycle(ctx)
    assessment = ctx.app.get(Assessment.create_id(cycle.cycle, ctx.command["unit"]))
    assert assessment is not None, "an assessment is opened with its cycle"
    return cycle, assessment, ctx.app.framework(cycle.framework)


def _given(ctx: Context) -> dict:
    return {k: ctx.command[k] for k in INPUT_FIELDS if k in ctx.command}


def _optional_text(ctx: Context, name: str) -> str | None:
    value = ctx.command.get(name)
    if value is not None and not isinstance(value, str):
        raise DomainError("invalid_field", f"'{name}' phải là chuỗi.", f"'{name}' must be text.",
                          field=name)
    return value


@handler("record_self_score", target=target)
def record_self_score(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "note", *INPUT_FIELDS))
    _cycle_, assessment, framework = _load(ctx)
    assessment.record_self_score(framework, ctx.command.get("leaf"), _given(ctx),
                                 _optional_text(ctx, "note"), ctx.signed.stored())
    return [assessment]


@handler("declare_not_applicable", target=target)
def declare_not_applicable(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "reason"))
    _c, assessment, framework = _load(ctx)
    assessment.declare_not_applicable(framework, ctx.command.get("leaf"),
                                      ctx.command.get("reason"), ctx.signed.stored())
    return [assessment]


def _file(ctx: Context, problems: Problems) -> dict | None:
    file = ctx.command.get("file")
    if file is None:
        return None
    if not isinstance(file, dict) or set(file) - {"sha256", "size", "media_type", "filename"}:
        problems.add("invalid_file", "'file' gồm sha256, size, media_type, filename.",
                     "'file' holds sha256, size, media_type, filename.", field="file")
        return None
    sha = file.get("sha256")
    store = ctx.app.evidence
    if store is None:  # verify's replay: blobs are not in the log (FORMATS.md 8.2)
        return file
    if not isinstance(sha, str) or not store.has(sha):
        problems.add("evidence_blob_missing",
                     "Chưa tải tệp lên (PUT /api/v1/evidence/blobs) hoặc sai sha256.",
                     "Upload the file first (PUT /api/v1/evidence/blobs) or fix sha256.",
                     field="file.sha256")
        return None
    actual = store.path(sha).stat().st_size
    if file.get("size") != actual:
        problems.add("evidence_size_mismatch", f"Kích thước khai báo khác tệp đã lưu ({actual}).",
                     f"Declared size differs from the stored file ({actual}).",
                     field="file.size")
    real = sniff(store.read(sha))
    if file.get("media_type") != real:
        problems.add("media_type_mismatch", f"Loại tệp khai báo khác nội dung ({real}).",
                     f"Declared media type differs from the content ({real}).",
                     field="file.media_type")
    return file


def _document(ctx: Context, problems: Problems) -> dict | None:
    doc = ctx.command.get("document")
    if doc is None:
        return None
    allowed = {"number", "date", "issuer", "section", "title"}
    if not isinstance(doc, dict) or set(doc) - allowed or not isinstance(doc.get("number"), str):
        problems.add("invalid_document",
                     "'document' gồm number (số, ký hiệu), date, issuer, section, title.",
                     "'document' holds number, date, issuer, section, title.", field="document")
        return None
    date = doc.get("date")
    if date is not None and (not isinstance(date, str) or len(date) != 10 or date[4] != "-"):
        problems.add("invalid_date", "Ngày văn bản dạng YYYY-MM-DD.", "Date must be YYYY-MM-DD.",
                     field="document.date")
    return doc


@handler("attach_evidence", target=target)
def attach_evidence(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "evidence_id", "leaves", "file", "document", "description"))
    _c, assessment, framework = _load(ctx)
    problems = Problems()
    file, document = _file(ctx, problems), _document(ctx, problems)
    problems.raise_if_any()
    evidence_id = ctx.field("evidence_id")
    assessment.attach_evidence(framework, evidence_id, ctx.command.get("leaves"), file,
                               document, _optional_text(ctx, "description"),
                               ctx.signed.stored())
    return [assessment]


@handler("withdraw_evidence", target=target)
def withdraw_evidence(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "evidence_id", "reason"))
    _c, assessment, _f = _load(ctx)
    assessment.withdraw_evidence(ctx.field("evidence_id"), ctx.command.get("reason"),
                                 ctx.signed.stored())
    return [assessment]


@handler("adjust_score", target=target)
def adjust_score(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "reason", "evidence_ids", *INPUT_FIELDS))
    _c, assessment, framework = _load(ctx)
    evidence_ids = ctx.command.get("evidence_ids")
    if evidence_ids is not None and not isinstance(evidence_ids, list):
        raise DomainError("invalid_field", "'evidence_ids' phải là danh sách.",
                          "'evidence_ids' must be a list.", field="evidence_ids")
    assessment.adjust_score(framework, ctx.command.get("leaf"), _given(ctx),
                            ctx.command.get("reason"), evidence_ids, ctx.signed.stored())
    return [assessment]
