"""Actors, roles and scopes (docs/DESIGN.md, "Actors, keys, roles").

A scope says over what a role acts: the whole deployment (`*`), a province
(`province:<code>`), an appraising authority (`authority:<code>`) or a commune
(`commune:<code>`). A command names its target (the commune, authority and
province it touches); a key may act when its scope covers that target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError


class Role(StrEnum):
    ADMIN = "admin"
    COMMUNE_OFFICER = "commune_officer"
    COMMUNE_CHAIR = "commune_chair"
    APPRAISER = "appraiser"
    COUNCIL_CHAIR = "council_chair"
    APPROVER = "approver"
    OBSERVER = "observer"
    AUDITOR = "auditor"
    SURVEY = "survey"


ROLE_NAMES_VI = {
    Role.ADMIN: "Quản trị (Sở/Phòng Nội vụ)",
    Role.COMMUNE_OFFICER: "Công chức cấp xã",
    Role.COMMUNE_CHAIR: "Chủ tịch UBND cấp xã",
    Role.APPRAISER: "Thành viên Tổ giúp việc thẩm định",
    Role.COUNCIL_CHAIR: "Chủ tịch Hội đồng thẩm định",
    Role.APPROVER: "Chủ tịch UBND phê duyệt xếp hạng",
    Role.OBSERVER: "Ủy ban MTTQ (giám sát)",
    Role.AUDITOR: "Kiểm toán, thanh tra",
    Role.SURVEY: "Đơn vị khảo sát sự hài lòng (SIPAS)",
}

SCOPE_KINDS = ("province", "authority", "commune")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Scope:
    kind: str  # "*", "province", "authority", "commune"
    code: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope:
        text = (text or "").strip()
        if text == "*":
            return cls("*")
        kind, _, code = text.partition(":")
        if kind not in SCOPE_KINDS or not _CODE.fullmatch(code):
            text = text if len(text) <= 80 else text[:80] + "…"  # bounds what is echoed
            raise DomainError(
                "invalid_scope",
                f"Phạm vi không hợp lệ: '{text}'. Dạng đúng: *, province:<mã>, "
                "authority:<mã> hoặc commune:<mã> (chữ thường, số, - _ .).",
                f"Invalid scope '{text}': use *, province:<code>, authority:<code> "
                "or commune:<code> (lowercase letters, digits, - _ .).",
                field="scope",
            )
        return cls(kind, code)

    def __str__(self) -> str:
        return "*" if self.kind == "*" else f"{self.kind}:{self.code}"

    def covers(self, target: Target) -> bool:
        if self.kind == "*":
            return True
        return getattr(target, self.kind, None) == self.code


@dataclass(frozen=True)
class Target:
    """What a command touches; None where it touches no such thing."""

    province: str | None = None
    authority: str | None = None
    commune: str | None = None


DEPLOYMENT = Target()

# Which role may issue which command. Scope is checked on top of this.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "register_key": frozenset({Role.ADMIN}),
    "rotate_key": frozenset({Role.ADMIN}),
    "revoke_key": frozenset({Role.ADMIN}),
    "publish_framework": frozenset({Role.ADMIN}),
    "open_cycle": frozenset({Role.ADMIN}),
    "record_self_score": frozenset({Role.COMMUNE_OFFICER}),
    "declare_not_applicable": frozenset({Role.COMMUNE_OFFICER}),
    "attach_evidence": frozenset({Role.COMMUNE_OFFICER, Role.APPRAISER}),
    "withdraw_evidence": frozenset({Role.COMMUNE_OFFICER, Role.APPRAISER}),
    "adjust_score": frozenset({Role.APPRAISER}),
    "submit_assessment": frozenset({Role.COMMUNE_CHAIR}),
    "withdraw_submission": frozenset({Role.COMMUNE_CHAIR}),
    # the season (docs/SEASON.md)
    "extend_deadline": frozenset({Role.ADMIN}),
    "add_units": frozenset({Role.ADMIN}),
    "merge_units": frozenset({Role.ADMIN}),
    "confirm_score": frozenset({Role.APPRAISER}),
    "request_explanation": frozenset({Role.APPRAISER}),
    "answer_explanation": frozenset({Role.COMMUNE_OFFICER, Role.COMMUNE_CHAIR}),
    "submit_explanations": frozenset({Role.COMMUNE_CHAIR}),
    "close_appraisal": frozenset({Role.COUNCIL_CHAIR}),
    "propose_ranking": frozenset({Role.COUNCIL_CHAIR}),
    "approve_ranking": frozenset({Role.APPROVER}),
    "publish_ranking": frozenset({Role.APPROVER, Role.ADMIN}),
    "correct_score": frozenset({Role.APPRAISER}),
    # oversight (Decision 4203, Article 11)
    "record_oversight_note": frozenset({Role.OBSERVER}),
    "answer_oversight_note": frozenset({Role.COUNCIL_CHAIR}),
    # after publication: the commune's plan for next year
    "record_improvement_plan": frozenset({Role.COMMUNE_CHAIR}),
    # year on year: a past cycle's published results, and the link to it
    "import_past_results": frozenset({Role.ADMIN}),
    "link_previous_cycle": frozenset({Role.ADMIN}),
    # a survey's results (SIPAS): by its own source, or by the admin from its file
    "record_survey_result": frozenset({Role.SURVEY, Role.ADMIN}),
}


def may(role: Role, scope: Scope, command_type: str, target: Target) -> bool:
    """True when a key of this role and scope may issue the command on target."""
    allowed = PERMISSIONS.get(command_type, frozenset())
    if role not in allowed:
        return False
    if target == DEPLOYMENT:
        # Deployment-wide acts (keys, frameworks, cycles) need a deployment-wide
        # scope: an admin scoped to one commune must not mint a `*` admin.
        return scope.kind == "*"
    return scope.covers(target)
