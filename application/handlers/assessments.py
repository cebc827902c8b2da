"""One unit's commands: self-scores, evidence, submission, the appraisal rounds,
explanations, the unit's close and corrections (docs/SEASON.md)."""

from __future__ import annotations

from application.errors import NotFound
from application.evidence import is_sha256
from application.file_names import filename_problem
from application.handlers.base import Context, check_fields, handler
from application.handlers.lookup import cycle_of
from domain.actors import Target
from domain.assessment import INPUT_FIELDS, Assessment, When
from domain.errors import DomainError, Problems
from domain.ids import CODE, check_id
from domain.ranking import Ranking

BASE = ("cycle", "unit")


def _ranking(ctx: Context) -> Ranking | None:
    """The cycle's ranking as it stands (None until the council closes the cycle)."""
    if "ranking" not in ctx.cache:
        ctx.cache["ranking"] = ctx.app.get(Ranking.create_id(cycle_of(ctx).cycle))
    return ctx.cache["ranking"]


def _when(ctx: Context) -> When:
    ranking = _ranking(ctx)
    return When(
        cycle=cycle_of(ctx),
        at=ctx.signed.issued_at,
        cycle_closed=ranking is not None and ranking.closed,
        published=ranking is not None and ranking.has_published(),
    )


def target(ctx: Context) -> Target:
    cycle = cycle_of(ctx)
    unit = check_id(ctx.command.get("unit"), "unit", CODE)
    if unit not in cycle.unit_codes():
        raise NotFound(
            f"đơn vị {unit} trong kỳ {cycle.cycle}",
            f"unit {unit} in {cycle.cycle}",
            code="unit_not_found",
        )
    cycle.check_active(unit)
    return cycle.target(unit)


def _load(ctx: Context):
    """(when, assessment, framework) of the command's unit."""
    cycle = cycle_of(ctx)
    assessment = ctx.app.get(Assessment.create_id(cycle.cycle, ctx.command["unit"]))
    assert assessment is not None, "an assessment is opened with its cycle"
    framework = cycle.framework_for(ctx.app.framework(cycle.framework), ctx.command["unit"])
    return _when(ctx), assessment, framework


def _given(ctx: Context) -> dict:
    return {k: ctx.command[k] for k in INPUT_FIELDS if k in ctx.command}


def _optional_text(ctx: Context, name: str) -> str | None:
    value = ctx.command.get(name)
    if value is not None and not isinstance(value, str):
        raise DomainError(
            "invalid_field", f"'{name}' phải là chuỗi.", f"'{name}' must be text.", field=name
        )
    return value


@handler("record_self_score", target=target)
def record_self_score(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "note", *INPUT_FIELDS))
    when, assessment, framework = _load(ctx)
    assessment.record_self_score(
        framework,
        when,
        ctx.command.get("leaf"),
        _given(ctx),
        _optional_text(ctx, "note"),
        ctx.signed.stored(),
    )
    return [assessment]


@handler("declare_not_applicable", target=target)
def declare_not_applicable(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "reason"))
    when, assessment, framework = _load(ctx)
    assessment.declare_not_applicable(
        framework, when, ctx.command.get("leaf"), ctx.command.get("reason"), ctx.signed.stored()
    )
    return [assessment]


def _file(ctx: Context, problems: Problems) -> dict | None:
    """The `file` member, if it names a blob uploaded through the API. A refusal
    states a size or type only for such a blob: nothing about any other file."""
    file = ctx.command.get("file")
    if file is None:
        return None
    if not isinstance(file, dict) or set(file) - {"sha256", "size", "media_type", "filename"}:
        problems.add(
            "invalid_file",
            "'file' gồm sha256, size, media_type, filename.",
            "'file' holds sha256, size, media_type, filename.",
            field="file",
        )
        return None
    if file.get("filename") is not None:
        why = filename_problem(file["filename"])
        if why is not None:
            problems.add("invalid_filename", *why, field="file.filename")
    sha = file.get("sha256")
    if not is_sha256(sha):
        problems.add(
            "invalid_sha256",
            "sha256 gồm đúng 64 ký tự thập lục phân viết thường (0-9, a-f).",
            "sha256 is exactly 64 lowercase hex characters (0-9, a-f).",
            field="file.sha256",
        )
        return None
    store = ctx.app.evidence
    if store is None:  # verify's replay: blobs are not in the log (docs/FORMATS.md 8.2)
        return file
    blob = store.describe(sha)
    if blob is None:
        problems.add(
            "evidence_blob_missing",
            "Chưa tải tệp lên (PUT /api/v1/evidence/blobs) hoặc sai sha256.",
            "Upload the file first (PUT /api/v1/evidence/blobs) or fix sha256.",
            field="file.sha256",
        )
        return None
    size, real = blob["size"], blob["media_type"]
    if type(file.get("size")) is not int or file["size"] != size:
        problems.add(
            "evidence_size_mismatch",
            f"Kích thước khai báo khác tệp đã lưu ({size}).",
            f"Declared size differs from the stored file ({size}).",
            field="file.size",
        )
    if file.get("media_type") != real:
        problems.add(
            "media_type_mismatch",
            f"Loại tệp khai báo khác nội dung ({real}).",
            f"Declared media type differs from the content ({real}).",
            field="file.media_type",
        )
    return file


def _document(ctx: Context, problems: Problems) -> dict | None:
    return ctx.command.get("document")  # checked by the domain (domain/inputs.py)


@handler("attach_evidence", target=target)
def attach_evidence(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "evidence_id", "leaves", "file", "document", "description"))
    when, assessment, framework = _load(ctx)
    problems = Problems()
    file, document = _file(ctx, problems), _document(ctx, problems)
    problems.raise_if_any()
    evidence_id = ctx.command.get("evidence_id")
    assessment.attach_evidence(
        framework,
        when,
        evidence_id,
        ctx.command.get("leaves"),
        file,
        document,
        _optional_text(ctx, "description"),
        ctx.signed.stored(),
        role=ctx.key.role,
    )
    return [assessment]


@handler("withdraw_evidence", target=target)
def withdraw_evidence(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "evidence_id", "reason"))
    when, assessment, _f = _load(ctx)
    assessment.withdraw_evidence(
        when,
        ctx.command.get("evidence_id"),
        ctx.command.get("reason"),
        ctx.signed.stored(),
        role=ctx.key.role,
    )
    return [assessment]


@handler("adjust_score", target=target)
def adjust_score(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "reason", "evidence_ids", *INPUT_FIELDS))
    when, assessment, framework = _load(ctx)
    assessment.adjust_score(
        framework,
        when,
        ctx.command.get("leaf"),
        _given(ctx),
        ctx.command.get("reason"),
        _evidence_ids(ctx),
        ctx.signed.stored(),
    )
    return [assessment]


def _evidence_ids(ctx: Context) -> list | None:
    evidence_ids = ctx.command.get("evidence_ids")
    if evidence_ids is not None and not isinstance(evidence_ids, list):
        raise DomainError(
            "invalid_field",
            "'evidence_ids' phải là danh sách.",
            "'evidence_ids' must be a list.",
            field="evidence_ids",
        )
    return evidence_ids


@handler("confirm_score", target=target)
def confirm_score(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "note"))
    when, assessment, framework = _load(ctx)
    assessment.confirm_score(
        framework,
        when,
        ctx.command.get("leaf"),
        _optional_text(ctx, "note"),
        ctx.signed.stored(),
    )
    return [assessment]


# -- explanation (giải trình) -------------------------------------------------------
@handler("request_explanation", target=target)
def request_explanation(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "question"))
    when, assessment, framework = _load(ctx)
    assessment.request_explanation(
        framework, when, ctx.command.get("leaf"), ctx.command.get("question"), ctx.signed.stored()
    )
    return [assessment]


@handler("answer_explanation", target=target)
def answer_explanation(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "answer", "evidence_ids", *INPUT_FIELDS))
    when, assessment, framework = _load(ctx)
    assessment.answer_explanation(
        framework,
        when,
        ctx.command.get("leaf"),
        ctx.command.get("answer"),
        _evidence_ids(ctx),
        _given(ctx),
        ctx.signed.stored(),
    )
    return [assessment]


@handler("submit_explanations", target=target)
def submit_explanations(ctx: Context) -> list:
    check_fields(ctx, BASE)
    when, assessment, _f = _load(ctx)
    assessment.submit_explanations(when, ctx.signed.stored())
    return [assessment]


# -- the unit's close and corrections ----------------------------------------------
def close_unit(ctx: Context) -> list:
    """`close_appraisal` naming a unit: the council closes that unit's appraisal,
    confirming the leaves it lists (docs/SEASON.md, "Closed")."""
    check_fields(ctx, (*BASE, "confirm"))
    when, assessment, framework = _load(ctx)
    assessment.close(framework, when, ctx.command.get("confirm"), ctx.signed.stored())
    return [assessment]


@handler("correct_score", target=target)
def correct_score(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "leaf", "reason", "evidence_ids", *INPUT_FIELDS))
    when, assessment, framework = _load(ctx)
    assessment.correct_score(
        framework,
        when,
        ctx.command.get("leaf"),
        _given(ctx),
        ctx.command.get("reason"),
        _evidence_ids(ctx),
        ctx.signed.stored(),
    )
    return [assessment]


# -- submission ---------------------------------------------------------------------
@handler("submit_assessment", target=target)
def submit_assessment(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "digest", "self_total"))
    when, assessment, framework = _load(ctx)
    assessment.submit(
        framework,
        when,
        ctx.command.get("digest"),
        ctx.command.get("self_total"),
        ctx.signed.stored(),
    )
    return [assessment]


@handler("withdraw_submission", target=target)
def withdraw_submission(ctx: Context) -> list:
    check_fields(ctx, (*BASE, "reason"))
    when, assessment, _f = _load(ctx)
    assessment.withdraw_submission(when, ctx.command.get("reason"), ctx.signed.stored())
    return [assessment]


@handler("record_survey_result", target=target)
def record_survey_result(ctx: Context) -> list:
    """A survey's points for the unit's survey leaves (docs/FRAMEWORKS.md, "Survey")."""
    check_fields(ctx, (*BASE, "scores", "source", "reason"))
    when, assessment, framework = _load(ctx)
    c = ctx.command
    assessment.record_survey(
        framework, when, c.get("scores"), c.get("source"), c.get("reason"), ctx.signed.stored()
    )
    return [assessment]
