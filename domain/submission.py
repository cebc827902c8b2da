"""Submission (nộp kết quả tự đánh giá): what a commune chair signs to hand the
self-assessment to the appraisers (Decision 4203, Article 7).

The chair signs the digest of exactly what is submitted: every leaf's self
input, the evidence attached and not withdrawn, and the self total those inputs
score to by the framework's rules. The server recomputes the same content from
the assessment and refuses a digest or total that differs, so a submission can
never cover scores the chair did not see. From then on the commune's scores and
evidence are locked until the chair withdraws the submission.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import rfc8785

from domain.errors import DomainError, Problem, ValidationFailed
from domain.framework import Framework, LeafInput, canonical, compute


def self_total(framework: Framework, inputs: Mapping[str, LeafInput]) -> str:
    """The self total (canonical decimal text); every leaf must have an input."""
    try:
        return canonical(compute(framework, inputs).total)
    except ValidationFailed as e:
        missing = [p for p in e.problems if p.code == "missing_input"]
        if not missing:
            raise
        shown = ", ".join(str(p.field) for p in missing[:10])
        more = f" (+{len(missing) - 10})" if len(missing) > 10 else ""
        raise ValidationFailed(
            [
                Problem(
                    "leaf_not_scored",
                    f"Tiêu chí {p.field} chưa tự chấm hoặc khai báo không phát sinh.",
                    f"Leaf {p.field} has no self-score or not-applicable declaration.",
                    field=p.field,
                )
                for p in missing
            ],
            f"Chưa thể nộp: còn {len(missing)} tiêu chí chưa chấm: {shown}{more}.",
            f"Cannot submit yet: {len(missing)} leaves are not scored: {shown}{more}.",
            code="assessment_incomplete",
        ) from None


def content(
    cycle: str, unit: str, inputs: Mapping[str, dict], evidence: Mapping[str, dict], total: str
) -> dict:
    """What a submission covers (docs/FORMATS.md 3.6, "Submission")."""
    return {
        "cycle": cycle,
        "unit": unit,
        "self": {leaf: dict(inputs[leaf]) for leaf in sorted(inputs)},
        "evidence": sorted(i for i, item in evidence.items() if not item["withdrawn"]),
        "self_total": total,
    }


def digest(covered: dict) -> str:
    return "sha256:" + hashlib.sha256(rfc8785.dumps(covered)).hexdigest()


def check_signed(covered: dict, signed_digest: object, signed_total: object) -> None:
    """The signed total and digest must be those of `covered`, else 409."""
    expected = digest(covered)
    for name, given, wanted in (
        ("self_total", signed_total, covered["self_total"]),
        ("digest", signed_digest, expected),
    ):
        if given != wanted:
            given = _shown(given)
            raise DomainError(
                "submission_differs",
                f"'{name}' đã ký ({given}) khác với hồ sơ hiện tại ({wanted}): "
                "điểm hoặc minh chứng đã thay đổi; hãy xem lại và ký lại.",
                f"The signed '{name}' ({given}) differs from the assessment now "
                f"({wanted}): scores or evidence changed; review and sign again.",
                field=name,
                status=409,
            )


def _shown(value: object) -> str:
    """A signed value as an error may quote it: at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def locked(unit: str) -> DomainError:
    return DomainError(
        "assessment_submitted",
        f"Hồ sơ tự đánh giá của {unit} đã nộp: điểm tự chấm và minh chứng của xã bị khóa "
        "(chủ tịch UBND xã có thể rút hồ sơ để sửa).",
        f"{unit}'s self-assessment is submitted: the commune's scores and evidence are "
        "locked (the commune chair may withdraw the submission to change them).",
        status=409,
    )
