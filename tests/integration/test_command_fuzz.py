"""Any JSON in any field of any command is either accepted or refused with a 4xx
domain error: never another exception (which the API would answer with a 500)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from tests.integration.test_command_input_rules import CYCLE, UNIT, Season, season  # noqa: F401

FIELDS = {
    "register_key": ("key_id", "public_key", "role", "scope", "display_name"),
    "revoke_key": ("key_id", "reason"),
    "rotate_key": ("old_key_id", "key_id", "public_key", "display_name"),
    "publish_framework": ("framework",),
    "open_cycle": ("cycle", "name", "framework", "year", "authority", "province", "units"),
    "record_self_score": (
        "cycle",
        "unit",
        "leaf",
        "note",
        "points",
        "done",
        "numerator",
        "denominator",
        "not_applicable",
    ),
    "declare_not_applicable": ("cycle", "unit", "leaf", "reason"),
    "attach_evidence": (
        "cycle",
        "unit",
        "evidence_id",
        "leaves",
        "file",
        "document",
        "description",
    ),
    "withdraw_evidence": ("cycle", "unit", "evidence_id", "reason"),
    "adjust_score": (
        "cycle",
        "unit",
        "leaf",
        "reason",
        "evidence_ids",
        "points",
        "done",
        "numerator",
        "denominator",
        "not_applicable",
    ),
}
SIGNER = {
    "register_key": "admin",
    "revoke_key": "admin",
    "rotate_key": "admin",
    "publish_framework": "admin",
    "open_cycle": "admin",
    "adjust_score": "appraiser",
}
# Plausible values beside hostile ones, so the fuzz also gets past the first checks.
PLAUSIBLE = st.sampled_from(
    [
        CYCLE,
        UNIT,
        "1.1.1",
        "1",
        "0.5",
        "ev-1",
        "Lý do",
        True,
        False,
        ["1.1.1"],
        {"number": "1"},
        2025,
        "*",
        "observer",
    ]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(max_size=20)
    | PLAUSIBLE,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("type_", sorted(FIELDS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_json_in_any_field_is_accepted_or_refused_with_a_4xx(season, type_, data):  # noqa: F811
    names = FIELDS[type_]
    fields = data.draw(st.dictionaries(st.sampled_from(names), JSON, max_size=len(names)))
    who = SIGNER.get(type_, "officer")
    key = {"admin": season.env.admin, "officer": season.officer, "appraiser": season.appraiser}[who]
    try:
        season.send(key, type_, **fields)
    except DomainError as e:
        assert 400 <= e.status < 500, e
