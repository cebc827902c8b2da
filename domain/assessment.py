"""One unit's assessment in one cycle: self-scores, evidence, appraisal adjustments.

Every method checks the rule first, then records a past-tense event. Inputs
are kept as the strings that were signed ("2.935"), never floats; points are
computed from them with the framework's rule whenever they are read.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import submission
from domain.actors import Role
from domain.errors import DomainError, Problems
from domain.framework import Framework, LeafInput, parse_decimal, score
from domain.ids import EVIDENCE_ID, check_id
from domain.inputs import (
    check_score_input,
    description_problems,
    document_problems,
    id_list_problems,
)
from domain.text import NOTE, check_text

ASSESSMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/assessments")
INPUT_FIELDS = ("points", "done", "numerator", "denominator", "not_applicable")
COMMUNE_ROLES = frozenset({Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIR})


@lru_cache(maxsize=65536)  # asked on every command, and by verify on every event
def assessment_aggregate_id(cycle: str, unit: str) -> UUID:
    return uuid5(ASSESSMENT_NAMESPACE, f"{cycle}/{unit}")


def leaf_input(given: dict) -> LeafInput:
    """The domain input from signed strings; DomainError on a malformed number."""

    def dec(name: str) -> Decimal | None:
        value = given.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise DomainError(
                "invalid_field",
                f"'{name}' phải là chuỗi số thập phân, ví dụ \"2.5\".",
                f"'{name}' must be a decimal string such as \"2.5\".",
                field=name,
            )
        return parse_decimal(value)

    done = given.get("done")
    if done is not None and not isinstance(done, bool):
        raise DomainError(
            "invalid_field",
            "'done' phải là true/false.",
            "'done' must be true or false.",
            field="done",
        )
    return LeafInput(
        points=dec("points"),
        done=done,
        numerator=dec("numerator"),
        denominator=dec("denominator"),
        not_applicable=bool(given.get("not_applicable")),
    )


def check_leaf(framework: Framework, leaf: object, given: dict) -> Decimal:
    """Validates one leaf's input against its rule; returns its points before gates."""
    check_score_input(leaf, given)
    if not isinstance(leaf, str) or not framework.has(leaf) or not framework.is_leaf(leaf):
        raise DomainError(
            "unknown_leaf",
            f"'{leaf}' không phải tiêu chí thành phần (lá) của bộ tiêu chí.",
            f"'{leaf}' is not a leaf of the framework.",
            field="leaf",
        )
    node = framework.node(leaf)
    assert node.rule is not None
    return score(node.rule, node.max_points, leaf_input(given), leaf).points


@lru_cache(maxsize=1024)  # asked when a command is decided and when its event applies
def _signer_and_time(command_text: str) -> tuple[str, datetime]:
    command = json.loads(command_text)
    return command["actor"], datetime.fromisoformat(command["issued_at"])


class Assessment(Aggregate):
    @staticmethod
    def create_id(cycle: str, unit: str) -> UUID:
        return assessment_aggregate_id(cycle, unit)

    @event("Opened")
    def __init__(self, cycle: str, unit: str, unit_name: str, command: dict):
        # `command` ({"id", "digest"}) names the signed open_cycle command, kept
        # once in the Cycle.Opened event just before: a unit list in every
        # assessment cost O(units^2) bytes per cycle.
        self.cycle = cycle
        self.unit = unit
        self.unit_name = unit_name
        self.self_inputs: dict[str, dict] = {}
        self.appraised_inputs: dict[str, dict] = {}
        self.evidence: dict[str, dict] = {}
        self.signed_last: dict[str, datetime] = {}  # "key leaf": latest issued_at
        self.submitted = False
        self.appraised_since_submission = False

    # -- one signer's scores of a leaf keep the order they were signed in ------
    def _in_signed_order(self, leaf: str, signed: dict) -> None:
        """A score of a leaf signed before one the same key already gave for it
        is refused: a stale edit must not overwrite a newer one, and nobody who
        stores the events can swap two of them to undo a correction."""
        key, at = _signer_and_time(signed["command"])
        latest = self.signed_last.get(f"{key} {leaf}")
        if latest is not None and at < latest:
            raise DomainError(
                "signed_out_of_order",
                f"Khóa này đã ký một lệnh mới hơn cho tiêu chí {leaf} "
                f"(lúc {latest.isoformat()}); lệnh ký trước đó không được áp dụng sau nó.",
                f"This key already signed a newer command for leaf {leaf} "
                f"(at {latest.isoformat()}); an older one cannot be applied after it.",
                field="issued_at",
                status=409,
            )

    def _signed_at(self, leaf: str, signed: dict) -> None:
        key, at = _signer_and_time(signed["command"])
        self.signed_last[f"{key} {leaf}"] = at

    # -- self-assessment (tự đánh giá) -------------------------------------
    def record_self_score(
        self, framework: Framework, leaf: str, given: dict, note: str | None, signed: dict
    ) -> None:
        self._open_to_commune()
        check_leaf(framework, leaf, given)
        check_text(note, "note", NOTE, required=False)
        self._in_signed_order(leaf, signed)
        self._self_scored(
            leaf=leaf, note=note, signed=signed, **{k: given.get(k) for k in INPUT_FIELDS}
        )

    @event("SelfScoreRecorded")
    def _self_scored(
        self,
        leaf: str,
        points: str | None,
        done: bool | None,
        numerator: str | None,
        denominator: str | None,
        not_applicable: bool | None,
        note: str | None,
        signed: dict,
    ) -> None:
        self.self_inputs[leaf] = _given(points, done, numerator, denominator, not_applicable)
        self._signed_at(leaf, signed)

    def declare_not_applicable(
        self, framework: Framework, leaf: str, reason: str, signed: dict
    ) -> None:
        self._open_to_commune()
        check_leaf(framework, leaf, {"not_applicable": True})
        _require_text(reason, "reason")
        self._in_signed_order(leaf, signed)
        self._not_applicable(leaf=leaf, reason=reason, signed=signed)

    @event("NotApplicableDeclared")
    def _not_applicable(self, leaf: str, reason: str, signed: dict) -> None:
        self.self_inputs[leaf] = {"not_applicable": True}
        self._signed_at(leaf, signed)

    # -- evidence (tài liệu kiểm chứng) --------------------------------------
    def attach_evidence(
        self,
        framework: Framework,
        evidence_id: str,
        leaves: list,
        file: dict | None,
        document: dict | None,
        description: str | None,
        signed: dict,
        *,
        role: str,
    ) -> None:
        if role in COMMUNE_ROLES:
            self._open_to_commune()
        check_id(evidence_id, "evidence_id", EVIDENCE_ID)
        problems = Problems()
        if evidence_id in self.evidence:
            raise DomainError(
                "evidence_exists",
                f"Minh chứng '{evidence_id}' đã có.",
                f"Evidence '{evidence_id}' already exists.",
                field="evidence_id",
                status=409,
            )
        id_list_problems(leaves, "leaves", problems)
        if not problems.items:
            for i, code in enumerate(leaves):
                if (
                    not isinstance(code, str)
                    or not framework.has(code)
                    or not framework.is_leaf(code)
                ):
                    problems.add(
                        "unknown_leaf",
                        f"'{code}' không phải tiêu chí thành phần.",
                        f"'{code}' is not a leaf.",
                        field=f"leaves[{i}]",
                    )
        if file is None and document is None:
            problems.add(
                "evidence_empty",
                "Cần tệp đính kèm hoặc thông tin văn bản.",
                "A file or a document reference is required.",
                field="file",
            )
        if document is not None:
            document_problems(document, problems)
        description_problems(description, problems)
        problems.raise_if_any()
        self._evidence_attached(
            evidence_id=evidence_id,
            leaves=leaves,
            file=file,
            document=document,
            description=description,
            signed=signed,
        )

    @event("EvidenceAttached")
    def _evidence_attached(
        self,
        evidence_id: str,
        leaves: list,
        file: dict | None,
        document: dict | None,
        description: str | None,
        signed: dict,
    ) -> None:
        self.evidence[evidence_id] = {"leaves": list(leaves), "withdrawn": False}

    def withdraw_evidence(self, evidence_id: str, reason: str, signed: dict, *, role: str) -> None:
        if role in COMMUNE_ROLES:
            self._open_to_commune()
        found = self.evidence.get(check_id(evidence_id, "evidence_id", EVIDENCE_ID))
        if found is None:
            raise DomainError(
                "evidence_not_found",
                f"Không có minh chứng '{evidence_id}'.",
                f"No evidence '{evidence_id}'.",
                field="evidence_id",
                status=404,
            )
        if found["withdrawn"]:
            raise DomainError(
                "evidence_withdrawn",
                "Minh chứng này đã được rút.",
                "This evidence is already withdrawn.",
                field="evidence_id",
                status=409,
            )
        _require_text(reason, "reason")
        self._evidence_withdrawn(evidence_id=evidence_id, reason=reason, signed=signed)

    @event("EvidenceWithdrawn")
    def _evidence_withdrawn(self, evidence_id: str, reason: str, signed: dict) -> None:
        self.evidence[evidence_id]["withdrawn"] = True

    # -- appraisal (thẩm định) -----------------------------------------------
    def adjust_score(
        self,
        framework: Framework,
        leaf: str,
        given: dict,
        reason: str,
        evidence_ids: list | None,
        signed: dict,
    ) -> None:
        check_leaf(framework, leaf, given)
        _require_text(reason, "reason")
        if evidence_ids is not None:
            problems = Problems()
            id_list_problems(evidence_ids, "evidence_ids", problems, evidence=True)
            problems.raise_if_any()
        for i, ev in enumerate(evidence_ids or []):
            if ev not in self.evidence:
                raise DomainError(
                    "evidence_not_found",
                    f"Không có minh chứng '{ev}'.",
                    f"No evidence '{ev}'.",
                    field=f"evidence_ids[{i}]",
                    status=422,
                )
        self._in_signed_order(leaf, signed)
        self._adjusted(
            leaf=leaf,
            reason=reason,
            evidence_ids=evidence_ids,
            signed=signed,
            **{k: given.get(k) for k in INPUT_FIELDS},
        )

    @event("ScoreAdjusted")
    def _adjusted(
        self,
        leaf: str,
        points: str | None,
        done: bool | None,
        numerator: str | None,
        denominator: str | None,
        not_applicable: bool | None,
        reason: str,
        evidence_ids: list | None,
        signed: dict,
    ) -> None:
        self.appraised_inputs[leaf] = _given(points, done, numerator, denominator, not_applicable)
        self._signed_at(leaf, signed)
        if self.submitted:
            self.appraised_since_submission = True

    # -- submission (nộp kết quả tự đánh giá) ----------------------------------
    def _open_to_commune(self) -> None:
        if self.submitted:
            raise submission.locked(self.unit)

    def submission(self, framework: Framework) -> dict:
        """What the chair signs (domain.submission); refused while a leaf has no
        self input."""
        inputs = {leaf: leaf_input(given) for leaf, given in self.self_inputs.items()}
        total = submission.self_total(framework, inputs)
        return submission.content(self.cycle, self.unit, self.self_inputs, self.evidence, total)

    def submit(
        self, framework: Framework, digest: object, self_total: object, signed: dict
    ) -> None:
        self._open_to_commune()
        submission.check_signed(self.submission(framework), digest, self_total)
        self._submitted(digest=digest, self_total=self_total, signed=signed)

    @event("Submitted")
    def _submitted(self, digest: str, self_total: str, signed: dict) -> None:
        self.submitted = True
        self.appraised_since_submission = False

    def withdraw_submission(self, reason: str, signed: dict) -> None:
        if not self.submitted:
            raise DomainError(
                "not_submitted",
                f"Hồ sơ của {self.unit} chưa nộp.",
                f"{self.unit}'s self-assessment is not submitted.",
                status=409,
            )
        if self.appraised_since_submission:
            raise DomainError(
                "appraisal_started",
                "Đã bắt đầu thẩm định hồ sơ này: không thể rút.",
                "Appraisal of this submission has started: it cannot be withdrawn.",
                status=409,
            )
        _require_text(reason, "reason")
        self._submission_withdrawn(reason=reason, signed=signed)

    @event("SubmissionWithdrawn")
    def _submission_withdrawn(self, reason: str, signed: dict) -> None:
        self.submitted = False


def _given(points, done, numerator, denominator, not_applicable) -> dict:
    values = {
        "points": points,
        "done": done,
        "numerator": numerator,
        "denominator": denominator,
        "not_applicable": not_applicable,
    }
    # "done": false is an answer ("not done"); only a false not_applicable is noise.
    return {
        k: v
        for k, v in values.items()
        if v is not None and not (k == "not_applicable" and v is False)
    }


def _require_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(
            "reason_required",
            f"Cần ghi rõ lý do ('{name}').",
            f"A reason is required ('{name}').",
            field=name,
        )
    check_text(value, name, NOTE)
