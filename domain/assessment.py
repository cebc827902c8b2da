"""One unit's assessment in one cycle: self-scores, evidence, submission, the
appraisal rounds with their explanations, the unit's close and corrections
(docs/SEASON.md, "One unit's states").

Every method checks the rule first, then records a past-tense event. Inputs
are kept as the strings that were signed ("2.935"), never floats; points are
computed from them with the framework's rule whenever they are read. What a
command is judged on besides the unit (its cycle's deadlines and rounds, the
signed time, whether the cycle's appraisal is closed or a ranking published)
comes in a `When`, so every rule is re-derived the same way by verify.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import improvement_plan, oversight_note, submission
from domain.actors import Role
from domain.cycle import Cycle
from domain.errors import DomainError, Problem, Problems
from domain.framework import Framework, LeafInput, parse_decimal, score
from domain.ids import EVIDENCE_ID, check_id
from domain.inputs import (
    check_score_input,
    description_problems,
    document_problems,
    id_list_problems,
)
from domain.past_results import check_source
from domain.text import NOTE, check_text
from domain.totals import SURVEY_NOT_YET, unit_totals

ASSESSMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://parindex/assessments")
INPUT_FIELDS = ("points", "done", "numerator", "denominator", "not_applicable")
COMMUNE_ROLES = frozenset({Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIR})
STAGES = ("not_submitted", "round_1", "explanation", "round_2", "closed")


@dataclass(frozen=True)
class When:
    """What a unit's command is judged on besides the unit itself: the cycle as it
    stands (deadlines, rounds), the command's signed `issued_at`, and the
    cycle-wide state (its appraisal closed by the council, a ranking published)."""

    cycle: Cycle
    at: datetime
    cycle_closed: bool = False
    published: bool = False

    def check_deadline(self, kind: str, unit: str) -> None:
        self.cycle.check_deadline(kind, unit, self.at)

    def past(self, kind: str, unit: str) -> bool:
        due = self.cycle.deadline(kind, unit)
        return due is not None and self.at > due


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


MAX_SURVEY_LEAVES = 200


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
        self.appraised_inputs: dict[str, dict] = {}  # the last review or correction
        self.evidence: dict[str, dict] = {}
        self.signed_last: dict[str, datetime] = {}  # "key leaf": latest issued_at
        self.submitted = False
        self.appraised_since_submission = False
        # leaf -> {"how": "adjusted"|"confirmed"|"corrected", "round": 1|2}
        self.reviewed: dict[str, dict] = {}
        # leaf -> {"question", "answer" (None until answered), "evidence_ids"}
        self.flags: dict[str, dict] = {}
        self.explanations_submitted = False
        self.closed = False
        self.totals: dict | None = None  # recorded by the close and each correction
        # note id -> {"leaf", "change", "answered"}: oversight notes (domain/oversight_note.py)
        self.notes: dict[str, dict] = {}

    # -- reads (the ranking and the read model use these) -------------------------
    def appraised_view(self) -> dict[str, dict]:
        """Every leaf's effective appraised input: its last adjustment,
        confirmation or correction, else its self input (never reviewed)."""
        view = {leaf: dict(given) for leaf, given in self.self_inputs.items()}
        view.update({leaf: dict(given) for leaf, given in self.appraised_inputs.items()})
        return view

    def round(self, when: When) -> int:
        """Round 2 begins when the explanations are submitted, or when the
        explanation deadline has passed with flagged leaves."""
        if self.flags and (self.explanations_submitted or when.past("explanation_due", self.unit)):
            return 2
        return 1

    def stage(self, cycle: Cycle, at: datetime) -> str:
        """One of STAGES, as it stands at `at`."""
        when = When(cycle, at)
        if not self.submitted:
            return "not_submitted"
        if self.closed:
            return "closed"
        if self.round(when) == 2:
            return "round_2"
        return "explanation" if self.flags else "round_1"

    def _explanation_window(self, when: When) -> bool:
        """Flags open, explanations not submitted, before explanation_due."""
        return (
            bool(self.flags)
            and self.submitted
            and not self.closed
            and not self.explanations_submitted
            and not when.cycle_closed
            and not when.past("explanation_due", self.unit)
        )

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
        self,
        framework: Framework,
        when: When,
        leaf: str,
        given: dict,
        note: str | None,
        signed: dict,
    ) -> None:
        self._open_to_commune(when)
        check_leaf(framework, leaf, given)
        _not_survey(framework, leaf)
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
        self, framework: Framework, when: When, leaf: str, reason: str, signed: dict
    ) -> None:
        self._open_to_commune(when)
        _not_survey(framework, leaf)
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
        when: When,
        evidence_id: str,
        leaves: list,
        file: dict | None,
        document: dict | None,
        description: str | None,
        signed: dict,
        *,
        role: str,
    ) -> None:
        if role in COMMUNE_ROLES and not self._explains_with(leaves, when):
            self._open_to_commune(when)
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

    def _explains_with(self, leaves: object, when: When) -> bool:
        """Evidence the commune attaches in its explanation window, on flagged
        leaves only: the one exception to the submission lock."""
        return (
            isinstance(leaves, list)
            and bool(leaves)
            and all(isinstance(leaf, str) and leaf in self.flags for leaf in leaves)
            and self._explanation_window(when)
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

    def withdraw_evidence(
        self, when: When, evidence_id: str, reason: str, signed: dict, *, role: str
    ) -> None:
        if role in COMMUNE_ROLES:
            self._open_to_commune(when)
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

    # -- appraisal (thẩm định): rounds 1 and 2 ---------------------------------
    def _open_to_appraisal(self, when: When) -> int:
        """The round an appraiser's review falls in; refused after the cycle's or
        the unit's close, after appraisal_due, and before submission."""
        if when.cycle_closed:
            raise _cycle_closed(when.cycle.cycle)
        when.check_deadline("appraisal_due", self.unit)
        self._require_submitted()
        if self.closed:
            raise _unit_closed(self.unit)
        return self.round(when)

    def _reviewable(self, framework: Framework, leaf: object, round_: int) -> str:
        _check_leaf_code(framework, leaf)
        assert isinstance(leaf, str)
        _not_survey(framework, leaf)
        if round_ == 2 and leaf not in self.flags:
            raise DomainError(
                "not_flagged",
                f"Vòng 2 chỉ thẩm định lại các tiêu chí đã yêu cầu giải trình; {leaf} không có.",
                f"Round 2 re-appraises flagged leaves only; {leaf} is not flagged.",
                field="leaf",
                status=409,
            )
        return leaf

    def adjust_score(
        self,
        framework: Framework,
        when: When,
        leaf: str,
        given: dict,
        reason: str,
        evidence_ids: list | None,
        signed: dict,
    ) -> None:
        # What was signed first (422), then the state it meets (409).
        check_leaf(framework, leaf, given)
        _require_text(reason, "reason")
        self._check_evidence_ids(evidence_ids, required=False)
        round_ = self._open_to_appraisal(when)
        self._reviewable(framework, leaf, round_)
        self._in_signed_order(leaf, signed)
        self._adjusted(
            leaf=leaf,
            reason=reason,
            evidence_ids=evidence_ids,
            round=round_,
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
        round: int,
        signed: dict,
    ) -> None:
        self.appraised_inputs[leaf] = _given(points, done, numerator, denominator, not_applicable)
        self.reviewed[leaf] = {"how": "adjusted", "round": round}
        self._signed_at(leaf, signed)
        self.appraised_since_submission = True

    def confirm_score(
        self, framework: Framework, when: When, leaf: str, note: str | None, signed: dict
    ) -> None:
        _check_leaf_code(framework, leaf)
        check_text(note, "note", NOTE, required=False)
        round_ = self._open_to_appraisal(when)
        self._reviewable(framework, leaf, round_)
        self._in_signed_order(leaf, signed)
        self._confirmed(leaf=leaf, round=round_, note=note, signed=signed)

    @event("ScoreConfirmed")
    def _confirmed(self, leaf: str, round: int, note: str | None, signed: dict) -> None:
        # "the self input as it stood when confirmed": a later revision of it
        # (an answer to a flag) does not move the confirmed value.
        self.appraised_inputs[leaf] = dict(self.self_inputs.get(leaf, {}))
        self.reviewed[leaf] = {"how": "confirmed", "round": round}
        self._signed_at(leaf, signed)
        self.appraised_since_submission = True

    # -- explanation (giải trình) between the rounds -----------------------------
    def request_explanation(
        self, framework: Framework, when: When, leaf: str, question: str, signed: dict
    ) -> None:
        if when.cycle.rounds != 2:
            raise DomainError(
                "single_round",
                "Kỳ này thẩm định một vòng: không có giải trình.",
                "This cycle has a single appraisal round: no explanations.",
                status=409,
            )
        when.check_deadline("explanation_due", self.unit)
        round_ = self._open_to_appraisal(when)
        if round_ != 1:
            raise DomainError(
                "round_2_started",
                f"{self.unit} đã sang vòng 2: không yêu cầu giải trình thêm.",
                f"{self.unit} is in round 2: no new explanation is requested.",
                status=409,
            )
        _check_leaf_code(framework, leaf)
        _not_survey(framework, leaf)
        if leaf in self.flags:
            raise DomainError(
                "already_flagged",
                f"Đã yêu cầu giải trình tiêu chí {leaf}.",
                f"An explanation of leaf {leaf} is already requested.",
                field="leaf",
                status=409,
            )
        _require_text(question, "question", code="question_required")
        self._explanation_requested(leaf=leaf, question=question, signed=signed)

    @event("ExplanationRequested")
    def _explanation_requested(self, leaf: str, question: str, signed: dict) -> None:
        self.flags[leaf] = {"question": question, "answer": None, "evidence_ids": []}
        self.appraised_since_submission = True

    def _open_to_explanation(self, when: When) -> None:
        if when.cycle_closed:
            raise _cycle_closed(when.cycle.cycle)
        when.check_deadline("explanation_due", self.unit)
        if self.closed:
            raise _unit_closed(self.unit)
        if self.explanations_submitted:
            raise DomainError(
                "explanations_submitted",
                f"Chủ tịch UBND {self.unit} đã nộp giải trình.",
                f"{self.unit}'s explanations are already submitted.",
                status=409,
            )

    def answer_explanation(
        self,
        framework: Framework,
        when: When,
        leaf: str,
        answer: str,
        evidence_ids: list | None,
        given: dict,
        signed: dict,
    ) -> None:
        self._open_to_explanation(when)
        if not isinstance(leaf, str) or leaf not in self.flags:
            raise DomainError(
                "not_flagged",
                f"Không có yêu cầu giải trình tiêu chí {str(leaf)[:40]}.",
                f"No explanation of leaf {str(leaf)[:40]} was requested.",
                field="leaf",
                status=409,
            )
        _require_text(answer, "answer", code="answer_required")
        self._check_evidence_ids(evidence_ids, required=False)
        if given:
            check_leaf(framework, leaf, given)
        self._explanation_answered(
            leaf=leaf,
            answer=answer,
            evidence_ids=evidence_ids,
            signed=signed,
            **{k: given.get(k) for k in INPUT_FIELDS},
        )

    @event("ExplanationAnswered")
    def _explanation_answered(
        self,
        leaf: str,
        answer: str,
        evidence_ids: list | None,
        points: str | None,
        done: bool | None,
        numerator: str | None,
        denominator: str | None,
        not_applicable: bool | None,
        signed: dict,
    ) -> None:
        revised = _given(points, done, numerator, denominator, not_applicable)
        if revised:
            self.self_inputs[leaf] = revised
        self.flags[leaf] = {
            **self.flags[leaf],
            "answer": answer,
            "evidence_ids": list(evidence_ids or []),
        }

    def submit_explanations(self, when: When, signed: dict) -> None:
        self._open_to_explanation(when)
        if not self.flags:
            raise DomainError(
                "no_explanation_requested",
                f"Không có yêu cầu giải trình nào với {self.unit}.",
                f"No explanation was requested of {self.unit}.",
                status=409,
            )
        missing = sorted(leaf for leaf, flag in self.flags.items() if flag["answer"] is None)
        if missing:
            shown = _listed(missing)
            raise DomainError(
                "explanation_missing",
                f"Còn {len(missing)} tiêu chí chưa giải trình: {shown}.",
                f"{len(missing)} flagged leaves are not answered: {shown}.",
                status=409,
            )
        self._explanations_submitted(answered=sorted(self.flags), signed=signed)

    @event("ExplanationsSubmitted")
    def _explanations_submitted(self, answered: list, signed: dict) -> None:
        self.explanations_submitted = True

    # -- a survey's results (khảo sát, SIPAS: docs/FRAMEWORKS.md "Variations") -------------
    def record_survey(
        self,
        framework: Framework,
        when: When,
        scores: object,
        source: object,
        reason: object,
        signed: dict,
    ) -> None:
        """The survey's points of this unit on the survey leaves, from its source
        file: each becomes the leaf's appraised value, reviewed "survey" (the self
        side counts it 0: the commune does not score it); until the unit's
        appraisal closes. Restating a leaf needs a reason."""
        if when.cycle_closed:
            raise _cycle_closed(when.cycle.cycle)
        if self.closed:
            raise _unit_closed(self.unit)
        problems = Problems()
        check_source(source, problems)
        if not isinstance(scores, dict) or not 1 <= len(scores) <= MAX_SURVEY_LEAVES:
            problems.add(
                "invalid_scores",
                f"scores là bảng mã tiêu chí khảo sát -> điểm (1 đến {MAX_SURVEY_LEAVES}).",
                f"scores maps survey leaves to points (1 to {MAX_SURVEY_LEAVES}).",
                field="scores",
            )
            scores = {}
        for leaf, points in scores.items():  # type: ignore[union-attr]
            at = f"scores.{str(leaf)[:40]}"
            if leaf not in framework.survey_leaves:
                problems.add(
                    "not_survey_leaf",
                    f"'{str(leaf)[:40]}' không phải tiêu chí khảo sát của bộ tiêu chí.",
                    f"'{str(leaf)[:40]}' is not a survey leaf of the framework.",
                    field=at,
                )
                continue
            try:
                check_leaf(framework, leaf, {"points": points})
            except DomainError as e:
                found = e.problems or [Problem(e.code, e.message_vi, e.message_en)]
                problems.items.extend(replace(p, field=at) for p in found)
        if reason is not None:
            check_text(reason, "reason", NOTE)
        problems.raise_if_any()
        again = sorted(
            leaf for leaf in scores if (self.reviewed.get(leaf) or {}).get("how") == "survey"
        )
        if again and reason is None:
            raise DomainError(
                "reason_required",
                f"Kết quả khảo sát của {_listed(again)} đã ghi: cần nêu lý do khi ghi lại.",
                f"The survey result of {_listed(again)} is recorded: say why it is restated.",
                field="reason",
                status=422,
            )
        for leaf in scores:
            self._in_signed_order(leaf, signed)
        self._survey_recorded(
            scores=dict(scores), source=dict(source), reason=reason, signed=signed
        )

    @event("SurveyRecorded")
    def _survey_recorded(
        self, scores: dict, source: dict, reason: str | None, signed: dict
    ) -> None:
        # The appraised side only: the commune never claimed these points, so
        # its self total (the one its chair signed) counts them 0.
        for leaf, points in scores.items():
            self.appraised_inputs[leaf] = {"points": points}
            self.reviewed[leaf] = {"how": "survey", "round": 1}
            self._signed_at(leaf, signed)

    # -- the unit's close (kết thúc thẩm định) ------------------------------------
    def needs_review(self, framework: Framework) -> list[str]:
        """Leaves a close must review or list: never reviewed, or flagged and not
        reviewed in round 2 (after the answer). Survey leaves are the survey's,
        never the council's (survey_pending holds the close until they are in)."""
        survey = framework.survey_leaves
        return [
            leaf.code
            for leaf in framework.leaves
            if leaf.code not in survey
            and (
                leaf.code not in self.reviewed
                or (leaf.code in self.flags and self.reviewed[leaf.code]["round"] != 2)
            )
        ]

    def survey_pending(self, framework: Framework) -> list[str]:
        """Survey leaves without a result yet."""
        return sorted(leaf for leaf in framework.survey_leaves if leaf not in self.appraised_inputs)

    def close(self, framework: Framework, when: When, confirm: object, signed: dict) -> None:
        if when.cycle_closed:
            raise _cycle_closed(when.cycle.cycle)
        self._require_submitted()
        if self.closed:
            raise _unit_closed(self.unit)
        if self._explanation_window(when):
            raise DomainError(
                "explanations_pending",
                f"{self.unit} còn trong thời hạn giải trình: chưa thể kết thúc thẩm định.",
                f"{self.unit}'s explanations are still pending: the appraisal cannot close.",
                status=409,
            )
        listed: list[str] = []
        if confirm is not None:
            problems = Problems()
            id_list_problems(confirm, "confirm", problems)
            problems.raise_if_any()
            listed = list(confirm)  # type: ignore[arg-type]
        open_leaves = self.needs_review(framework)
        pending = set(open_leaves)
        problems = Problems()
        for i, leaf in enumerate(listed):
            if leaf in framework.survey_leaves:
                problems.add(
                    "survey_leaf",
                    f"Tiêu chí {leaf} lấy điểm từ kết quả khảo sát: hội đồng không xác nhận.",
                    f"Leaf {leaf} takes its points from the survey: the council does not "
                    "confirm it.",
                    field=f"confirm[{i}]",
                )
            elif not framework.has(leaf) or not framework.is_leaf(leaf):
                problems.add(
                    "unknown_leaf",
                    f"'{leaf}' không phải tiêu chí thành phần.",
                    f"'{leaf}' is not a leaf.",
                    field=f"confirm[{i}]",
                )
            elif leaf not in pending:
                problems.add(
                    "leaf_reviewed",
                    f"Tiêu chí {leaf} đã được thẩm định: không xác nhận lại khi kết thúc.",
                    f"Leaf {leaf} is already reviewed: the close does not confirm it again.",
                    field=f"confirm[{i}]",
                )
        problems.raise_if_any()
        surveyed = self.survey_pending(framework)
        if surveyed:
            raise DomainError(
                "survey_pending",
                f"Chưa có kết quả khảo sát của {_listed(surveyed)}: chưa thể kết thúc thẩm định.",
                f"No survey result yet for {_listed(surveyed)}: the appraisal cannot close.",
                status=409,
            )
        missing = [leaf for leaf in open_leaves if leaf not in set(listed)]
        if missing:
            shown = _listed(missing)
            raise DomainError(
                "leaves_not_reviewed",
                f"Còn {len(missing)} tiêu chí chưa thẩm định và không có trong 'confirm': {shown}.",
                f"{len(missing)} leaves are not reviewed and not listed in 'confirm': {shown}.",
                field="confirm",
                status=409,
            )
        # A listed leaf is confirmed as self-scored: the view already counts it so.
        totals = unit_totals(framework, self.self_inputs, self.appraised_view())
        self._appraisal_closed(confirmed=sorted(listed), totals=totals, signed=signed)

    @event("AppraisalClosed")
    def _appraisal_closed(self, confirmed: list, totals: dict, signed: dict) -> None:
        # Closing needs no pending explanation: with flags, the unit is in round 2.
        round_ = 2 if self.flags else 1
        for leaf in confirmed:
            self.appraised_inputs[leaf] = dict(self.self_inputs.get(leaf, {}))
            self.reviewed[leaf] = {"how": "confirmed", "round": round_}
        self.closed = True
        self.totals = totals
        self.appraised_since_submission = True

    # -- correction after publication (điều chỉnh sau công bố) --------------------
    def correct_score(
        self,
        framework: Framework,
        when: When,
        leaf: str,
        given: dict,
        reason: str,
        evidence_ids: list | None,
        signed: dict,
    ) -> None:
        if not when.published:
            raise DomainError(
                "not_published",
                f"Kỳ {when.cycle.cycle} chưa công bố xếp hạng: chưa thể điều chỉnh điểm.",
                f"No ranking of {when.cycle.cycle} is published: no score is corrected yet.",
                status=409,
            )
        if not self.closed:
            raise DomainError(
                "not_closed",
                f"Thẩm định {self.unit} chưa kết thúc.",
                f"{self.unit}'s appraisal is not closed.",
                status=409,
            )
        check_leaf(framework, leaf, given)
        _not_survey(framework, leaf)
        _require_text(reason, "reason")
        self._check_evidence_ids(evidence_ids, required=True)
        self._in_signed_order(leaf, signed)
        inputs = {k: given.get(k) for k in INPUT_FIELDS}
        view = {**self.appraised_view(), leaf: _given(*inputs.values())}
        self._corrected(
            leaf=leaf,
            reason=reason,
            evidence_ids=evidence_ids,
            totals=unit_totals(framework, self.self_inputs, view),
            signed=signed,
            **inputs,
        )

    @event("ScoreCorrected")
    def _corrected(
        self,
        leaf: str,
        points: str | None,
        done: bool | None,
        numerator: str | None,
        denominator: str | None,
        not_applicable: bool | None,
        reason: str,
        evidence_ids: list,
        totals: dict,
        signed: dict,
    ) -> None:
        self.appraised_inputs[leaf] = _given(points, done, numerator, denominator, not_applicable)
        self.reviewed[leaf] = {"how": "corrected", "round": 2 if self.flags else 1}
        self.totals = totals
        self._signed_at(leaf, signed)

    # -- oversight notes (MTTQ) and the council's answers ------------------------------
    def record_oversight_note(
        self,
        framework: Framework,
        note_id: object,
        text: object,
        leaf: object,
        change: object,
        found: tuple | None,
        signed: dict,
    ) -> None:
        """An observer's note on this unit, one of its leaves, or one change (by log
        index; `found` is what the log holds there). Allowed at any stage, after
        publication too: oversight does not end with the season."""
        note_id = oversight_note.check_note_id(note_id)
        if note_id in self._notes():
            raise oversight_note.note_exists(note_id)
        oversight_note.check_subject(leaf, change)
        if leaf is not None:
            _check_leaf_code(framework, leaf)
        if change is not None:
            oversight_note.check_change(change, found, self.id)  # type: ignore[arg-type]
        _require_text(text, "text", code="note_required")
        self._oversight_noted(note_id=note_id, text=text, leaf=leaf, change=change, signed=signed)

    @event("OversightNoted")
    def _oversight_noted(
        self, note_id: str, text: str, leaf: str | None, change: int | None, signed: dict
    ) -> None:
        self._notes()[note_id] = {"leaf": leaf, "change": change, "answered": False}

    def answer_oversight_note(self, note_id: object, answer: object, signed: dict) -> None:
        """The council chair's answer to a note: one per note, kept beside it."""
        note_id = oversight_note.check_note_id(note_id)
        note = self._notes().get(note_id)
        if note is None:
            raise oversight_note.note_not_found(note_id)
        if note["answered"]:
            raise oversight_note.note_answered(note_id)
        _require_text(answer, "answer", code="answer_required")
        self._oversight_note_answered(note_id=note_id, answer=answer, signed=signed)

    @event("OversightNoteAnswered")
    def _oversight_note_answered(self, note_id: str, answer: str, signed: dict) -> None:
        note = self._notes().get(note_id)
        if note is not None:  # a stored answer to no note: verify reports it; loading goes on
            note["answered"] = True

    def _notes(self) -> dict[str, dict]:
        # An assessment restored from a snapshot taken before notes existed has none.
        return self.__dict__.setdefault("notes", {})

    # -- the improvement plan (kế hoạch khắc phục), once the cycle is published ------
    def record_improvement_plan(
        self, framework: Framework, when: When, plan_year: object, items: object, signed: dict
    ) -> None:
        """The commune chair's signed plan for next year, made from this cycle's
        published results: one row per criterion it plans for (domain/improvement_plan.py).
        Signing again records a new version; the earlier ones stay."""
        if not when.published:
            raise improvement_plan.plan_needs_publication(self.cycle)
        if not self.submitted:
            raise improvement_plan.plan_needs_submission(self.unit)
        year = improvement_plan.check_year(plan_year, when.cycle.year)
        checked = improvement_plan.check_items(framework, items)
        plans = self._plans()
        _key, at = _signer_and_time(signed["command"])
        if plans and at < datetime.fromisoformat(plans[-1]["at"].replace("Z", "+00:00")):
            # A plan signed before the latest one must not become the latest, and
            # nobody who stores the events can swap two versions unnoticed.
            raise DomainError(
                "signed_out_of_order",
                f"Kế hoạch phiên bản {len(plans)} đã được ký lúc {plans[-1]['at']}; một kế "
                "hoạch ký trước đó không được ghi sau nó.",
                f"Plan version {len(plans)} was signed at {plans[-1]['at']}; a plan signed "
                "before it cannot be recorded after it.",
                field="issued_at",
                status=409,
            )
        self._improvement_plan_recorded(plan_year=year, items=checked, signed=signed)

    @event("ImprovementPlanRecorded")
    def _improvement_plan_recorded(self, plan_year: int, items: list, signed: dict) -> None:
        actor, at = _signer_and_time(signed["command"])
        plans = self._plans()
        plans.append(
            {
                "version": len(plans) + 1,
                "plan_year": plan_year,
                "items": [dict(i) for i in items],
                "actor": actor,
                "at": at.isoformat().replace("+00:00", "Z"),
            }
        )

    def _plans(self) -> list[dict]:
        # An assessment restored from a snapshot taken before plans existed has none.
        return self.__dict__.setdefault("plans", [])

    def _check_evidence_ids(self, evidence_ids: object, *, required: bool) -> None:
        """Ids of evidence attached to this assessment (withdrawn or not)."""
        if evidence_ids is None and not required:
            return
        problems = Problems()
        id_list_problems(evidence_ids, "evidence_ids", problems, evidence=True)
        if required and not problems.items and not evidence_ids:
            problems.add(
                "evidence_required",
                "Cần ít nhất một minh chứng ('evidence_ids').",
                "At least one piece of evidence is required ('evidence_ids').",
                field="evidence_ids",
            )
        problems.raise_if_any()
        for i, ev in enumerate(evidence_ids):  # type: ignore[arg-type]
            if ev not in self.evidence:
                raise DomainError(
                    "evidence_not_found",
                    f"Không có minh chứng '{ev}'.",
                    f"No evidence '{ev}'.",
                    field=f"evidence_ids[{i}]",
                    status=422,
                )

    # -- submission (nộp kết quả tự đánh giá) ----------------------------------
    def _open_to_commune(self, when: When) -> None:
        when.check_deadline("self_assessment_due", self.unit)
        if self.submitted:
            raise submission.locked(self.unit)

    def _require_submitted(self) -> None:
        if not self.submitted:
            raise DomainError(
                "not_submitted",
                f"Hồ sơ của {self.unit} chưa nộp.",
                f"{self.unit}'s self-assessment is not submitted.",
                status=409,
            )

    def submission(self, framework: Framework) -> dict:
        """What the chair signs (domain.submission); refused while a leaf has no
        self input (a survey leaf not recorded yet counts 0: the commune does not
        score it)."""
        given = {leaf: SURVEY_NOT_YET for leaf in framework.survey_leaves}
        given.update(self.self_inputs)
        inputs = {leaf: leaf_input(value) for leaf, value in given.items()}
        total = submission.self_total(framework, inputs)
        return submission.content(self.cycle, self.unit, self.self_inputs, self.evidence, total)

    def submit(
        self,
        framework: Framework,
        when: When,
        digest: object,
        self_total: object,
        signed: dict,
    ) -> None:
        if when.cycle_closed:
            raise _cycle_closed(when.cycle.cycle)
        self._open_to_commune(when)
        submission.check_signed(self.submission(framework), digest, self_total)
        self._submitted(digest=digest, self_total=self_total, signed=signed)

    @event("Submitted")
    def _submitted(self, digest: str, self_total: str, signed: dict) -> None:
        self.submitted = True
        self.appraised_since_submission = False

    def withdraw_submission(self, when: When, reason: str, signed: dict) -> None:
        when.check_deadline("self_assessment_due", self.unit)
        self._require_submitted()
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


_WHAT_VI = {
    "reason_required": "lý do",
    "question_required": "nội dung yêu cầu giải trình",
    "answer_required": "nội dung giải trình",
    "note_required": "nội dung ghi chú giám sát",
}


def _require_text(value: object, name: str, code: str = "reason_required") -> None:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(
            code,
            f"Cần ghi rõ {_WHAT_VI.get(code, 'nội dung')} ('{name}').",
            f"A {code.removesuffix('_required')} is required ('{name}').",
            field=name,
        )
    check_text(value, name, NOTE)


def _not_survey(framework: Framework, leaf: object) -> None:
    """Refuses the commune's and the appraisers' commands on a survey leaf."""
    if isinstance(leaf, str) and leaf in framework.survey_leaves:
        raise DomainError(
            "survey_leaf",
            f"Tiêu chí {leaf} lấy điểm từ kết quả khảo sát: xã và người thẩm định không chấm.",
            f"Leaf {leaf} takes its points from the survey: neither the commune nor the "
            "appraisers score it.",
            field="leaf",
            status=409,
        )


def _check_leaf_code(framework: Framework, leaf: object) -> None:
    if not isinstance(leaf, str) or not framework.has(leaf) or not framework.is_leaf(leaf):
        raise DomainError(
            "unknown_leaf",
            f"'{str(leaf)[:40]}' không phải tiêu chí thành phần (lá) của bộ tiêu chí.",
            f"'{str(leaf)[:40]}' is not a leaf of the framework.",
            field="leaf",
        )


def _listed(leaves: list[str]) -> str:
    """Up to 10 leaves, then how many more."""
    more = f" (+{len(leaves) - 10})" if len(leaves) > 10 else ""
    return ", ".join(leaves[:10]) + more


def _cycle_closed(cycle: str) -> DomainError:
    return DomainError(
        "appraisal_closed",
        f"Hội đồng đã kết thúc thẩm định kỳ {cycle}.",
        f"The council has closed the appraisal of {cycle}.",
        status=409,
    )


def _unit_closed(unit: str) -> DomainError:
    return DomainError(
        "appraisal_closed",
        f"Đã kết thúc thẩm định {unit}.",
        f"The appraisal of {unit} is closed.",
        status=409,
    )
