"""Every role x every command type x in scope / out of scope, through POST /api/v1/commands.

The policy is written out here from docs/DESIGN.md ("Actors, keys, roles"), not read
from the code: only these combinations may write; every other one gets a 403
problem+json and leaves the log exactly as it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from application.handlers import HANDLERS
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from interfaces.http.app import create_app, services_of
from tests.e2e.http_support import (
    AUTHORITY,
    CYCLE,
    PROVINCE,
    UNITS,
    Http,
    World,
    assert_problem,
    make_world,
)
from tests.support import Key, Written, command, new_key, register_fields

# role -> (a scope covering unit xa-01 of cycle tn-2025, a scope that does not)
SCOPES = {
    "admin": ("*", f"commune:{UNITS[1]}"),  # deployment-wide acts need "*"
    "commune_officer": (f"commune:{UNITS[0]}", f"commune:{UNITS[1]}"),
    "commune_chair": (f"commune:{UNITS[0]}", f"commune:{UNITS[1]}"),
    "appraiser": (f"authority:{AUTHORITY}", "authority:phu-binh"),
    "council_chair": (f"authority:{AUTHORITY}", "authority:phu-binh"),
    "approver": (f"province:{PROVINCE}", "province:bac-kan"),
    "observer": ("*", "province:bac-kan"),
    "auditor": ("*", "province:bac-kan"),
    "survey": (f"province:{PROVINCE}", "province:bac-kan"),
}

ALLOWED = {
    "register_key": {"admin"},
    "rotate_key": {"admin"},
    "revoke_key": {"admin"},
    "publish_framework": {"admin"},
    "open_cycle": {"admin"},
    "record_self_score": {"commune_officer"},
    "declare_not_applicable": {"commune_officer"},
    "attach_evidence": {"commune_officer", "appraiser"},
    "withdraw_evidence": {"commune_officer", "appraiser"},
    "adjust_score": {"appraiser"},
    "submit_assessment": {"commune_chair"},
    "withdraw_submission": {"commune_chair"},
    "close_appraisal": {"council_chair"},
    "propose_ranking": {"council_chair"},
    "approve_ranking": {"approver"},
    "publish_ranking": {"approver", "admin"},
    "extend_deadline": {"admin"},
    "add_units": {"admin"},
    "merge_units": {"admin"},
    "confirm_score": {"appraiser"},
    "request_explanation": {"appraiser"},
    "answer_explanation": {"commune_officer", "commune_chair"},
    "submit_explanations": {"commune_chair"},
    "correct_score": {"appraiser"},
    "record_oversight_note": {"observer"},
    "answer_oversight_note": {"council_chair"},
    "record_improvement_plan": {"commune_chair"},
    "import_past_results": {"admin"},
    "link_previous_cycle": {"admin"},
    "record_survey_result": {"survey", "admin"},
}

_counter = itertools.count(1)


def _unique() -> int:
    return next(_counter)


# -- one valid command per type; setup writes what it needs first ---------------------
def _register(world: World, actor: Key) -> dict:
    return register_fields(new_key(), "observer", "*")


def _revoke(world: World, actor: Key) -> dict:
    victim = world.key("observer", "*", name=f"victim-{_unique()}")
    return {"key_id": victim.key_id, "reason": "Chuyển công tác"}


def _rotate(world: World, actor: Key) -> dict:
    old = world.key("observer", "*", name=f"old-{_unique()}")
    new = new_key()
    return {"old_key_id": old.key_id, "key_id": new.key_id, "public_key": new.public_key}


def _publish(world: World, actor: Key) -> dict:
    framework = to_dict(load_bundled("thai-nguyen-2021-commune"))
    slug = f"matrix-{_unique()}"
    return {"framework": {**framework, "slug": slug, "id": f"{slug}@1"}}


def _open_cycle(world: World, actor: Key) -> dict:
    return {
        "cycle": f"matrix-{_unique()}",
        "name": "Kỳ thử",
        "framework": world.framework_id,
        "year": 2025,
        "authority": AUTHORITY,
        "province": PROVINCE,
        "units": [{"code": UNITS[0], "name": "Xã 01"}],
    }


UNIT = {"cycle": CYCLE, "unit": UNITS[0]}


def _self_score(world: World, actor: Key) -> dict:
    return {**UNIT, "leaf": "1.1.1", "points": "0.5"}


def _not_applicable(world: World, actor: Key) -> dict:
    return {**UNIT, "leaf": "1.8.1", "reason": "Không phát sinh trong năm"}


def _attach(world: World, actor: Key) -> dict:
    return {
        **UNIT,
        "evidence_id": f"ev-{_unique()}",
        "leaves": ["1.1.1"],
        "document": {"number": "15/KH-UBND", "date": "2025-01-10", "issuer": "UBND xã"},
    }


def _withdraw(world: World, actor: Key) -> dict:
    fields = _attach(world, actor)
    world.env.send(command(world.officer, "attach_evidence", **fields), world.officer)
    return {**UNIT, "evidence_id": fields["evidence_id"], "reason": "Nộp nhầm"}


# -- the season's unit commands: each on a cycle of its own, in the state it needs --------
_CYCLES: dict[tuple[int, str], str] = {}  # (world, purpose) -> the cycle now used for it


def _submitted_cycle(world: World) -> str:
    """A new cycle on the same authority and commune, xa-01 scored and submitted."""
    code = f"season-{_unique()}"
    world.env.send(
        command(world.env.admin, "open_cycle", **{**_open_cycle(world, None), "cycle": code})
    )
    chair = world.key("commune_chair", SCOPES["commune_chair"][0])
    world.env.submit_unit(UNITS[0], world.officer, chair, cycle=code)
    return code


def _assessment(world: World, cycle: str):
    from domain.assessment import Assessment

    return world.app.get(Assessment.create_id(cycle, UNITS[0]), for_update=False)


def _cycle_for(world: World, purpose: str, used_up=lambda a: False, prepare=None) -> str:
    """The cycle kept for `purpose`, or a new submitted one (prepared) once the
    command it serves has used the old one up."""
    key = (id(world), purpose)
    code = _CYCLES.get(key)
    if code is None or used_up(_assessment(world, code)):
        code = _CYCLES[key] = _submitted_cycle(world)
        if prepare is not None:
            prepare(code)
    return code


def _flagged(world: World):
    def prepare(code: str) -> None:
        where = {"cycle": code, "unit": UNITS[0], "leaf": "1.1.1"}
        world.env.send(
            command(world.appraiser, "request_explanation", **where, question="Vì sao?"),
            world.appraiser,
        )
        world.env.send(
            command(world.officer, "answer_explanation", **where, answer="Có văn bản"),
            world.officer,
        )

    return prepare


def _adjust(world: World, actor: Key) -> dict:
    cycle = _cycle_for(world, "appraise")
    return {"cycle": cycle, "unit": UNITS[0], "leaf": "1.1.1", "points": "0.25", "reason": "Muộn"}


def _confirm(world: World, actor: Key) -> dict:
    return {"cycle": _cycle_for(world, "appraise"), "unit": UNITS[0], "leaf": "1.1.2"}


def _request(world: World, actor: Key) -> dict:
    cycle = _cycle_for(world, "appraise")
    flags = _assessment(world, cycle).flags
    leaves = world.app.framework(world.framework_id).leaves
    leaf = next(lf.code for lf in leaves if lf.code not in flags)
    return {"cycle": cycle, "unit": UNITS[0], "leaf": leaf, "question": "Đề nghị giải trình"}


def _answer(world: World, actor: Key) -> dict:
    cycle = _cycle_for(world, "answer", prepare=_flagged(world))
    return {"cycle": cycle, "unit": UNITS[0], "leaf": "1.1.1", "answer": "Kế hoạch 15/KH"}


def _submit_explanations(world: World, actor: Key) -> dict:
    cycle = _cycle_for(
        world, "explained", lambda a: a.explanations_submitted, prepare=_flagged(world)
    )
    return {"cycle": cycle, "unit": UNITS[0]}


def _close(world: World, actor: Key) -> dict:
    cycle = _cycle_for(world, "close", lambda a: a.closed)
    return {"cycle": cycle, "unit": UNITS[0], **_close_fields(world, cycle)}


def _correct(world: World, actor: Key) -> dict:
    def prepare(code: str) -> None:
        where = {"cycle": code, "unit": UNITS[0]}
        council = world.key("council_chair", SCOPES["council_chair"][0])
        world.env.send(
            command(council, "close_appraisal", **{**where, **_close_fields(world, code)}), council
        )
        world.env.send(
            command(
                world.appraiser,
                "attach_evidence",
                **where,
                evidence_id="ev-tt-01",
                leaves=["1.1.1"],
                document={"number": "02/KL-TTr"},
            ),
            world.appraiser,
        )
        approver = world.key("approver", SCOPES["approver"][0])
        world.env.season_end(code, council, approver)

    cycle = _cycle_for(world, "correct", prepare=prepare)
    return {
        "cycle": cycle,
        "unit": UNITS[0],
        "leaf": "1.1.1",
        "points": "0.5",
        "reason": "Thanh tra phát hiện sai sót",
        "evidence_ids": ["ev-tt-01"],
    }


def _close_fields(world: World, cycle: str) -> dict:
    framework = world.app.framework(world.framework_id)
    return {"confirm": _assessment(world, cycle).needs_review(framework)}


def _submission(world: World) -> dict:
    """Every leaf of xa-01 self-scored; the digest and total the chair signs."""
    from domain.assessment import Assessment
    from domain.submission import digest

    framework = load_bundled("thai-nguyen-2021-commune")
    assessment = world.app.get(Assessment.create_id(CYCLE, UNITS[0]), for_update=False)
    if not assessment.submitted:
        for leaf in framework.leaves:
            if leaf.code not in assessment.self_inputs:
                world.env.send(
                    command(world.officer, "record_self_score", **UNIT, leaf=leaf.code, points="0"),
                    world.officer,
                )
    covered = world.app.get(Assessment.create_id(CYCLE, UNITS[0]), for_update=False).submission(
        framework
    )
    return {**UNIT, "digest": digest(covered), "self_total": covered["self_total"]}


def _submit(world: World, actor: Key) -> dict:
    return _submission(world)


def _withdraw_submission(world: World, actor: Key) -> dict:
    from domain.assessment import Assessment

    if not world.app.get(Assessment.create_id(CYCLE, UNITS[0]), for_update=False).submitted:
        chair = world.key("commune_chair", SCOPES["commune_chair"][0])
        world.env.send(command(chair, "submit_assessment", **_submission(world)), chair)
    return {**UNIT, "reason": "Sửa điểm tự chấm"}


# -- the whole cycle: each on a cycle of its own (closing the shared one would
# stop the unit commands above) --------------------------------------------------
def _fresh_cycle(world: World, *, upto: str = "open") -> tuple[str, dict | None]:
    """A new cycle of one unit nobody submitted, taken up to `upto` (open,
    closed, proposed, approved); its code and the proposal's manifest."""
    code = f"matrix-{_unique()}"
    return code, world.cycle_up_to(code, upto)


def _decision(content: dict) -> dict:
    from domain.ranking import digest

    return {
        "version": 1,
        "digest": digest(content),
        "decision_number": "1234/QĐ-UBND",
        "decision_date": "2025-12-20",
    }


def _close_cycle(world: World, actor: Key) -> dict:
    return {"cycle": _fresh_cycle(world)[0]}


def _propose(world: World, actor: Key) -> dict:
    from domain.cycle import Cycle
    from domain.ranking import manifest

    code, _ = _fresh_cycle(world, upto="closed")
    cycle = world.app.get(Cycle.create_id(code), for_update=False)
    content = manifest(cycle, 1, world.app.framework(cycle.framework), world.app.assessments(cycle))
    return {"cycle": code, "manifest": content}


def _approve(world: World, actor: Key) -> dict:
    code, content = _fresh_cycle(world, upto="proposed")
    assert content is not None
    return {"cycle": code, **_decision(content)}


def _publish_ranking(world: World, actor: Key) -> dict:
    return {"cycle": _fresh_cycle(world, upto="approved")[0], "version": 1}


def _scheduled_cycle(world: World) -> str:
    """A cycle with deadlines far ahead, opened once (tn-2025 has none)."""
    from domain.cycle import Cycle

    code = "matrix-calendar"
    if world.app.get(Cycle.create_id(code), for_update=False) is None:
        fields = _open_cycle(world, world.admin)
        fields.update(
            cycle=code,
            deadlines={
                "self_assessment_due": "2099-06-30T16:59:59Z",
                "explanation_due": "2099-07-31T16:59:59Z",
                "appraisal_due": "2099-08-31T16:59:59Z",
            },
        )
        world.env.send(command(world.admin, "open_cycle", **fields))
    return code


def _extend(world: World, actor: Key) -> dict:
    cycle = _scheduled_cycle(world)
    n = _unique()
    return {
        "cycle": cycle,
        "deadline": "appraisal_due",
        "until": f"2099-09-{n % 28 + 1:02d}T{n % 24:02d}:00:{n % 60:02d}Z",
        "reason": "Gia hạn theo đề nghị",
    }


def _add_units(world: World, actor: Key) -> dict:
    return {
        "cycle": _scheduled_cycle(world),
        "units": [{"code": f"xa-m{_unique()}", "name": "Xã mới", "type": "xa"}],
        "reason": "Bổ sung đơn vị",
    }


def _merge_units(world: World, actor: Key) -> dict:
    fields = _add_units(world, actor)
    fields["units"].append({"code": f"xa-m{_unique()}", "name": "Xã mới 2"})
    world.env.send(command(world.admin, "add_units", **fields))
    return {
        "cycle": fields["cycle"],
        "units": [u["code"] for u in fields["units"]],
        "into": {"code": f"xa-m{_unique()}", "name": "Xã sáp nhập"},
        "reason": "Sáp nhập đơn vị hành chính",
    }


def _note(world: World, actor: Key) -> dict:
    cycle = _cycle_for(world, "notes")
    return {"cycle": cycle, "unit": UNITS[0], "note_id": f"gs-{_unique()}", "text": "Làm rõ"}


def _answer_note(world: World, actor: Key) -> dict:
    """A note nobody has answered yet, written first by an observer."""
    fields = _note(world, actor)
    observer = world.key("observer", "*")
    world.env.send(command(observer, "record_oversight_note", **fields), observer)
    del fields["text"]
    return {**fields, "answer": "Hội đồng đã rà soát"}


def _plan(world: World, actor: Key) -> dict:
    """A cycle whose ranking is published with xa-01 in it: the plan for next year."""

    def prepare(code: str) -> None:
        where = {"cycle": code, "unit": UNITS[0]}
        council = world.key("council_chair", SCOPES["council_chair"][0])
        world.env.send(
            command(council, "close_appraisal", **{**where, **_close_fields(world, code)}), council
        )
        world.env.season_end(code, council, world.key("approver", SCOPES["approver"][0]))

    cycle = _cycle_for(world, "plan", prepare=prepare)
    item = {"leaf": "1.1.1", "target": "1", "tasks": "Ban hành kế hoạch", "lead": "Văn phòng"}
    return {
        "cycle": cycle,
        "unit": UNITS[0],
        "plan_year": 2026,
        "items": [item | {"deadline": "Quý I"}],
    }


def _past_fields(code: str) -> dict:
    return {
        "cycle": code,
        "name": "Kết quả năm 2024",
        "year": 2024,
        "source": {"file_name": "PL2-2024.xlsx", "sha256": "5e" * 32},
        "units": [{"unit": UNITS[0], "name": "Xã 01", "total": "80.5", "rank": 1}],
    }


def _import_past(world: World, actor: Key) -> dict:
    return _past_fields(f"k2024-{_unique()}")


def _link_previous(world: World, actor: Key) -> dict:
    if (id(world), "past") not in _CYCLES:  # once: the past cycle every link names
        world.env.send(command(world.admin, "import_past_results", **_past_fields("k2024")))
        _CYCLES[(id(world), "past")] = "k2024"
    return {"cycle": CYCLE, "previous": "k2024", "reason": "So sánh với năm 2024"}


def _survey_result(world: World, actor: Key) -> dict:
    """A cycle on a framework with a survey area, xa-01 in it: its survey leaf
    2.1 recorded again each time (so always with a reason)."""
    from tests.integration.test_survey import survey_framework

    if (id(world), "survey") not in _CYCLES:
        framework = survey_framework()
        world.env.send(command(world.admin, "publish_framework", framework=to_dict(framework)))
        fields = {**_open_cycle(world, None), "cycle": "survey-1", "framework": str(framework.id)}
        world.env.send(command(world.admin, "open_cycle", **fields))
        _CYCLES[(id(world), "survey")] = "survey-1"
    return {
        "cycle": "survey-1",
        "unit": UNITS[0],
        "scores": {"2.1": f"0.{_unique() % 9 + 1}"},
        "source": {"file_name": "SIPAS.xlsx", "sha256": "7c" * 32},
        "reason": "Kết quả khảo sát",
    }


BUILDERS: dict[str, Callable[[World, Key], dict]] = {
    "register_key": _register,
    "revoke_key": _revoke,
    "rotate_key": _rotate,
    "publish_framework": _publish,
    "open_cycle": _open_cycle,
    "record_self_score": _self_score,
    "declare_not_applicable": _not_applicable,
    "attach_evidence": _attach,
    "withdraw_evidence": _withdraw,
    "adjust_score": _adjust,
    "submit_assessment": _submit,
    "withdraw_submission": _withdraw_submission,
    "close_appraisal": _close,
    "propose_ranking": _propose,
    "approve_ranking": _approve,
    "publish_ranking": _publish_ranking,
    "extend_deadline": _extend,
    "add_units": _add_units,
    "merge_units": _merge_units,
    "confirm_score": _confirm,
    "request_explanation": _request,
    "answer_explanation": _answer,
    "submit_explanations": _submit_explanations,
    "correct_score": _correct,
    "record_oversight_note": _note,
    "answer_oversight_note": _answer_note,
    "record_improvement_plan": _plan,
    "import_past_results": _import_past,
    "link_previous_cycle": _link_previous,
    "record_survey_result": _survey_result,
}


def test_the_matrix_covers_every_role_and_every_command_type():
    from domain.actors import Role

    assert set(SCOPES) == {r.value for r in Role}
    assert set(ALLOWED) == set(BUILDERS) == set(HANDLERS)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Iterator[tuple[World, Http]]:
    world = make_world(tmp_path_factory.mktemp("matrix"))
    for role, scopes in SCOPES.items():
        for scope in scopes:
            world.key(role, scope)
    flask = create_app(world.env.data_dir, follow=False)
    try:
        yield world, Http(flask.test_client())
    finally:
        services_of(flask).close()
        world.env.app.close()


def _cases() -> Iterator:
    for type_, role, in_scope in itertools.product(ALLOWED, SCOPES, (True, False)):
        allowed = role in ALLOWED[type_] and in_scope
        yield pytest.param(
            type_, role, in_scope, allowed, id=f"{type_}-{role}-{'in' if in_scope else 'out'}"
        )


@pytest.mark.parametrize(("type_", "role", "in_scope", "allowed"), list(_cases()))
def test_only_permitted_role_and_scope_combinations_write(matrix, type_, role, in_scope, allowed):
    world, http = matrix
    actor = world.key(role, SCOPES[role][0 if in_scope else 1])
    fields = BUILDERS[type_](world, actor)
    before = Written.read(world.app)

    resp = http.send(actor, type_, **fields)

    if allowed:
        assert resp.status_code == 201, resp.get_json()
        receipt = resp.get_json()
        after = Written.read(world.app)
        assert after.size == before.size + len(receipt["events"])
        assert receipt["log_index"] == before.size
    else:
        body = assert_problem(resp, 403, "not_permitted")
        assert role in body["detail"]
        assert Written.read(world.app) == before
