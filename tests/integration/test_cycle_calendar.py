"""The cycle's calendar and units while it runs (docs/SEASON.md, "The calendar"):
the admin extends a deadline for the cycle or one unit, adds units, merges
units into a new one; each is refused when it would move a deadline earlier,
come after the cycle's self-assessment deadline or the appraisal's close, and
verify re-derives every one of them and reports what an operator forges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.log_operator import Operator
from tests.support import Env, Written, command

C = "c"
FRAMEWORK = load_bundled("thai-nguyen-2021-commune")


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


DAY = timedelta(days=1)


def open_scheduled(env: Env, deadlines: dict | None = None, cycle: str = C, **extra) -> dict:
    if env.app.framework(str(FRAMEWORK.id)) is None:
        env.send(command(env.admin, "publish_framework", framework=to_dict(FRAMEWORK)))
    if deadlines is None:
        deadlines = {
            "self_assessment_due": at(10 * DAY),
            "explanation_due": at(20 * DAY),
            "appraisal_due": at(30 * DAY),
        }
    return env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=cycle,
            name="Kỳ 2025",
            framework=str(FRAMEWORK.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[
                {"code": "xa-a", "name": "Xã A", "type": "xa"},
                {"code": "xa-b", "name": "Xã B", "type": "xa"},
                {"code": "tt-c", "name": "Thị trấn C", "type": "thi_tran"},
            ],
            level="district",
            rounds=2,
            deadlines=deadlines,
            **extra,
        )
    )


def cycle_of(env: Env, cycle: str = C) -> Cycle:
    return env.app.get(Cycle.create_id(cycle), for_update=False)


def send(env: Env, type_: str, **fields) -> dict:
    return env.send(command(env.admin, type_, cycle=fields.pop("cycle", C), **fields))


def refused(env: Env, type_: str, **fields) -> DomainError:
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        send(env, type_, **fields)
    assert Written.read(env.app) == before
    return e.value


def codes(e: DomainError) -> set[str]:
    return {e.code, *(p.code for p in e.problems)}


def clean(env: Env) -> None:
    env.checkpoint()
    assert verify(StoreSource(env.app.tlog), workers=1).findings == []


def findings(env: Env) -> list[tuple[str, int | None]]:
    return sorted(
        (f.kind, f.position.get("leaf_index"))
        for f in verify(StoreSource(env.app.tlog), workers=1).findings
    )


# -- extend_deadline -------------------------------------------------------------------
def test_an_extension_moves_the_cycles_deadline_and_a_units_own_later(env: Env):
    open_scheduled(env)
    before = cycle_of(env).deadline("explanation_due")
    later = at(25 * DAY)
    send(env, "extend_deadline", deadline="explanation_due", until=later, reason="Lũ lụt")
    cycle = cycle_of(env)
    assert (
        cycle.deadlines["explanation_due"] == later and cycle.deadline("explanation_due") > before
    )

    own = at(12 * DAY)
    send(
        env,
        "extend_deadline",
        deadline="self_assessment_due",
        until=own,
        unit="xa-b",
        reason="Xã B mất điện",
    )
    cycle = cycle_of(env)
    assert cycle.unit_deadlines == {"xa-b": {"self_assessment_due": own}}
    assert cycle.deadline("self_assessment_due", "xa-b") > cycle.deadline("self_assessment_due")
    assert cycle.deadline("self_assessment_due", "xa-a") == cycle.deadline("self_assessment_due")
    clean(env)


def test_an_extension_must_be_later_than_the_deadline_it_extends(env: Env):
    open_scheduled(env)
    current = cycle_of(env).deadlines["self_assessment_due"]
    for until in (current, at(5 * DAY)):
        e = refused(
            env, "extend_deadline", deadline="self_assessment_due", until=until, reason="Sớm hơn"
        )
        assert (e.code, e.status, e.field) == ("not_an_extension", 409, "until")
        assert current in str(e)
    # A unit's extension must beat the unit's current deadline, its own included.
    send(
        env,
        "extend_deadline",
        deadline="self_assessment_due",
        until=at(12 * DAY),
        unit="xa-a",
        reason="Gia hạn",
    )
    e = refused(
        env,
        "extend_deadline",
        deadline="self_assessment_due",
        until=at(11 * DAY),
        unit="xa-a",
        reason="Gia hạn nữa",
    )
    assert e.code == "not_an_extension"
    clean(env)


def test_an_extension_past_the_next_deadline_is_refused_until_that_one_moves(env: Env):
    open_scheduled(env)
    e = refused(
        env, "extend_deadline", deadline="self_assessment_due", until=at(21 * DAY), reason="Lũ"
    )
    assert (e.code, e.status) == ("deadlines_out_of_order", 409)
    send(env, "extend_deadline", deadline="explanation_due", until=at(25 * DAY), reason="Lũ")
    send(env, "extend_deadline", deadline="self_assessment_due", until=at(21 * DAY), reason="Lũ")
    clean(env)


def test_a_deadline_the_cycle_does_not_have_or_a_unit_it_does_not_have_is_refused(env: Env):
    open_scheduled(env, {"self_assessment_due": at(DAY)})
    e = refused(env, "extend_deadline", deadline="appraisal_due", until=at(9 * DAY), reason="x")
    assert (e.code, e.status) == ("no_such_deadline", 422)
    e = refused(env, "extend_deadline", deadline="nop_muon", until=at(9 * DAY), reason="x")
    assert e.status == 422 and "unknown_deadline" in codes(e)
    e = refused(
        env,
        "extend_deadline",
        deadline="self_assessment_due",
        until=at(9 * DAY),
        unit="xa-zzz",
        reason="x",
    )
    assert (e.code, e.status) == ("unit_not_found", 404)
    e = refused(
        env,
        "extend_deadline",
        cycle="khong-co",
        deadline="appraisal_due",
        until=at(DAY),
        reason="x",
    )
    assert (e.code, e.status) == ("cycle_not_found", 404)
    clean(env)


def test_a_cycle_opened_without_deadlines_has_none_to_extend(env: Env):
    env.open_cycle()
    e = refused(
        env, "extend_deadline", deadline="self_assessment_due", until=at(DAY), reason="Gia hạn"
    )
    assert e.code == "no_such_deadline"


def test_no_extension_once_the_appraisal_is_closed(env: Env):
    """The council's close (close_appraisal without a unit) ends every extension
    and every change of the cycle's units; verify agrees."""
    open_scheduled(env)
    council, _ = env.register("council_chair", "authority:dong-hy")
    env.send(command(council, "close_appraisal", cycle=C), council)
    e = refused(env, "extend_deadline", deadline="appraisal_due", until=at(40 * DAY), reason="x")
    assert (e.code, e.status) == ("appraisal_closed", 409)
    e = refused(env, "add_units", units=[{"code": "xa-d", "name": "Xã D"}], reason="Thêm")
    assert e.code == "appraisal_closed"
    assert verify(StoreSource(env.app.tlog), log_key=env.log_key).findings == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"until": "2025-13-01T00:00:00Z"}, "invalid_time"),
        ({"until": "2025-12-01 17:00:00"}, "invalid_time"),
        ({"until": "2025-12-01T17:00:00+07:00"}, "invalid_time"),
        ({"until": 1764608400}, "invalid_time"),
        ({"reason": "Lũ\x00lụt"}, "control_character"),
        ({"reason": "Lũ \u202elụt"}, "control_character"),
        ({"reason": "x" * 5000}, "text_too_long"),
        ({"reason": "   "}, "reason_required"),
        ({"note": "thêm"}, "unknown_field"),
    ],
    ids=["month-13", "no-zone", "offset", "number", "nul", "bidi", "huge", "blank", "extra"],
)
def test_a_hostile_extension_is_a_clear_4xx_and_writes_nothing(env: Env, fields, code):
    open_scheduled(env)
    base = {"deadline": "appraisal_due", "until": at(40 * DAY), "reason": "Lũ lụt"}
    e = refused(env, "extend_deadline", **{**base, **fields})
    assert 400 <= e.status < 500
    assert code in codes(e)
    assert len(str(e)) < 1000


def test_out_of_order_or_bad_deadlines_at_open_are_refused_and_nothing_is_written(env: Env):
    env.send(command(env.admin, "publish_framework", framework=to_dict(FRAMEWORK)))
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        open_scheduled(env, {"self_assessment_due": at(10 * DAY), "explanation_due": at(5 * DAY)})
    assert e.value.status == 422 and "deadlines_out_of_order" in codes(e.value)
    with pytest.raises(DomainError) as e:
        open_scheduled(env, {"self_assessment_due": "ngày mai"})
    assert "invalid_time" in codes(e.value)
    assert Written.read(env.app) == before


# -- add_units -------------------------------------------------------------------------
def test_units_added_later_are_scored_and_verified_like_the_first(env: Env):
    open_scheduled(env)
    receipt = send(
        env,
        "add_units",
        units=[
            {"code": "dk-d", "name": "Đặc khu D", "type": "dac_khu"},
            {"code": "xa-e", "name": "Xã E"},
        ],
        reason="Bổ sung theo Nghị quyết 1234",
    )
    assert len(receipt["events"]) == 3
    cycle = cycle_of(env)
    assert {"dk-d", "xa-e"} <= cycle.unit_codes() and cycle.unit_type("dk-d") == "dac_khu"
    assert env.app.get(Assessment.create_id(C, "dk-d"), for_update=False).unit_name == "Đặc khu D"

    officer, _ = env.register("commune_officer", "commune:dk-d")
    env.send(
        command(officer, "record_self_score", cycle=C, unit="dk-d", leaf="1.1.1", points="0.5"),
        officer,
    )
    clean(env)
    # Verify's workers each open the added unit on the cycle at the score's position.
    assert verify(StoreSource(env.app.tlog), workers=2).findings == []


def test_added_units_are_checked_with_the_units_already_there(env: Env):
    open_scheduled(env)
    e = refused(env, "add_units", units=[{"code": "xa-a", "name": "Xã A mới"}], reason="Thêm")
    assert "duplicate_unit" in codes(e) and e.status == 422
    e = refused(
        env, "add_units", units=[{"code": "xa-d", "name": "Xã D", "type": "huyen"}], reason="x"
    )
    assert "invalid_unit_type" in codes(e)
    e = refused(env, "add_units", units=[], reason="x")
    assert "invalid_units" in codes(e)
    e = refused(env, "add_units", units=[{"code": "xa-d", "name": "Xã D"}], reason="\x1b[2J")
    assert "control_character" in codes(e)


def test_a_cycle_holds_at_most_ten_thousand_units(env: Env):
    open_scheduled(env)
    many = [{"code": f"x-{i}", "name": f"X {i}"} for i in range(9_998)]
    e = refused(env, "add_units", units=many, reason="Thêm")
    assert (e.code, e.status) == ("too_many_units", 409)


def test_no_units_are_added_or_merged_after_the_cycles_self_assessment_deadline(env: Env):
    open_scheduled(
        env,
        {"self_assessment_due": at(-timedelta(minutes=1)), "explanation_due": at(DAY)},
    )
    e = refused(env, "add_units", units=[{"code": "xa-d", "name": "Xã D"}], reason="Thêm")
    assert (e.code, e.status) == ("deadline_passed", 409)
    e = refused(
        env,
        "merge_units",
        units=["xa-a", "xa-b"],
        into={"code": "xa-ab", "name": "Xã AB"},
        reason="Sáp nhập",
    )
    assert e.code == "deadline_passed"
    # A unit's own extension is not the cycle's: still refused.
    send(
        env,
        "extend_deadline",
        deadline="self_assessment_due",
        until=at(timedelta(hours=1)),
        unit="xa-a",
        reason="Gia hạn",
    )
    assert refused(env, "add_units", units=[{"code": "xa-d", "name": "Xã D"}], reason="x").code == (
        "deadline_passed"
    )
    clean(env)


# -- merge_units -----------------------------------------------------------------------
def test_merged_units_become_one_new_unit_and_stop_taking_commands(env: Env):
    open_scheduled(env)
    officer_a, _ = env.register("commune_officer", "commune:xa-a")
    env.send(
        command(officer_a, "record_self_score", cycle=C, unit="xa-a", leaf="1.1.1", points="1"),
        officer_a,
    )
    receipt = send(
        env,
        "merge_units",
        units=["xa-a", "xa-b"],
        into={"code": "xa-ab", "name": "Xã An Bình", "type": "xa"},
        reason="Nghị quyết 1686/NQ-UBTVQH15",
    )
    assert len(receipt["events"]) == 2
    cycle = cycle_of(env)
    assert cycle.merged == {"xa-a": "xa-ab", "xa-b": "xa-ab"}
    assert "xa-ab" in cycle.unit_codes() and "xa-a" in cycle.unit_codes()  # history stays
    with pytest.raises(DomainError) as e:
        cycle.check_active("xa-a")
    assert (e.value.code, e.value.status) == ("unit_merged", 409)
    # The merged unit's scores stay readable.
    kept = env.app.get(Assessment.create_id(C, "xa-a"), for_update=False)
    assert "1.1.1" in kept.self_inputs

    officer, _ = env.register("commune_officer", "commune:xa-ab")
    env.send(
        command(officer, "record_self_score", cycle=C, unit="xa-ab", leaf="1.1.1", points="1"),
        officer,
    )
    e = refused(
        env,
        "extend_deadline",
        deadline="self_assessment_due",
        until=at(12 * DAY),
        unit="xa-a",
        reason="x",
    )
    assert e.code == "unit_merged"
    e = refused(
        env,
        "merge_units",
        units=["xa-a", "tt-c"],
        into={"code": "tt-ac", "name": "Thị trấn AC"},
        reason="x",
    )
    assert e.code == "unit_merged"
    clean(env)


@pytest.mark.parametrize(
    ("fields", "code", "status"),
    [
        ({"units": ["xa-a"]}, "invalid_units", 422),
        ({"units": ["xa-a", "xa-a"]}, "duplicate_unit", 422),
        ({"units": ["xa-a", "xa-zzz"]}, "unit_not_found", 404),
        ({"into": {"code": "xa-b", "name": "Xã B"}}, "duplicate_unit", 422),
        ({"into": {"code": "Xa AB", "name": "Xã AB"}}, "invalid_code", 422),
        ({"into": {"code": "xa-ab", "name": "Xã\x07AB"}}, "control_character", 422),
        ({"into": {"code": "xa-ab", "name": "Xã AB", "type": "tinh"}}, "invalid_unit_type", 422),
        ({"into": "xa-ab"}, "invalid_unit", 422),
        ({"reason": ""}, "reason_required", 422),
    ],
    ids=[
        "one-unit",
        "twice",
        "unknown",
        "into-taken",
        "into-bad-code",
        "into-control",
        "into-type",
        "into-text",
        "no-reason",
    ],
)
def test_a_bad_merge_is_a_clear_4xx_and_writes_nothing(env: Env, fields, code, status):
    open_scheduled(env)
    base = {"units": ["xa-a", "xa-b"], "into": {"code": "xa-ab", "name": "Xã AB"}, "reason": "x"}
    e = refused(env, "merge_units", **{**base, **fields})
    assert code in codes(e) and e.status == status, e


# -- verify: forgeries of the new commands ---------------------------------------------
def calendar_season(env: Env) -> dict[str, int]:
    open_scheduled(env)
    open_scheduled(env, cycle="other")
    leaves = {
        "extended": send(
            env, "extend_deadline", deadline="appraisal_due", until=at(40 * DAY), reason="Lũ lụt"
        )["log_index"],
        "added": send(env, "add_units", units=[{"code": "xa-d", "name": "Xã D"}], reason="Thêm")[
            "log_index"
        ],
        "merged": send(
            env,
            "merge_units",
            units=["xa-a", "xa-b"],
            into={"code": "xa-ab", "name": "Xã AB"},
            reason="Sáp nhập",
        )["log_index"],
    }
    env.register("observer", "*")  # so no forged copy extends the last run
    clean(env)
    return leaves


@pytest.mark.parametrize("which", ["extended", "added", "merged"])
def test_a_calendar_command_stored_again_is_command_replayed(env: Env, which):
    leaf = calendar_season(env)[which]
    op = Operator(env)
    forged = op.append_copy(leaf)
    op.reseal()
    assert ("command_replayed", forged) in findings(env)


@pytest.mark.parametrize("which", ["extended", "added", "merged"])
def test_a_calendar_command_copied_onto_another_cycle_is_reported(env: Env, which):
    leaf = calendar_season(env)[which]
    op = Operator(env)
    forged = op.append_copy(leaf, onto=Cycle.create_id("other"))
    op.reseal()
    found = findings(env)
    assert forged in {i for _k, i in found}
    assert {k for k, i in found if i == forged} & {"wrong_aggregate", "command_replayed"}


@pytest.mark.parametrize(
    ("which", "member", "value"),
    [
        ("extended", "until", "2099-01-01T00:00:00Z"),
        ("extended", "unit", "xa-a"),
        ("extended", "reason", "Theo chỉ đạo"),
        ("added", "units", [{"code": "xa-z", "name": "Xã Z"}]),
        ("merged", "into", {"code": "xa-zz", "name": "Xã ZZ"}),
        ("merged", "units", ["xa-a", "tt-c"]),
    ],
)
def test_a_calendar_value_no_one_signed_is_event_not_derived(env: Env, which, member, value):
    leaf = calendar_season(env)[which]
    op = Operator(env)
    op.rewrite(leaf, lambda state: state.update({member: value}))
    op.reseal()
    found = verify(StoreSource(env.app.tlog), workers=1).findings
    assert ("event_not_derived", leaf) in [(f.kind, f.position.get("leaf_index")) for f in found]
    assert any(member in f.detail for f in found if f.position.get("leaf_index") == leaf)


def test_a_unit_score_signed_for_a_unit_before_it_was_added_is_reported(env: Env):
    """A unit command is replayed on the cycle at its position: an operator who
    stores a score of a unit before the add_units that made it is caught."""
    open_scheduled(env)
    officer, _ = env.register("commune_officer", "commune:xa-d")
    score = officer.sign(
        command(officer, "record_self_score", cycle=C, unit="xa-d", leaf="1.1.1", points="1")
    )
    send(env, "add_units", units=[{"code": "xa-d", "name": "Xã D"}], reason="Thêm")
    good = env.app.handle(score)["log_index"]
    clean(env)
    # Stored again at a fresh id would be another command; instead move it:
    # the operator swaps the score's leaf with the add_units run's first leaf.
    from tests.support import swap_leaf_targets

    add_leaf = good - 2  # UnitsAdded, Assessment.Opened, then the score
    swap_leaf_targets(env.app, add_leaf, good)
    Operator(env).reseal()
    found = verify(StoreSource(env.app.tlog), workers=1).findings
    early = [f for f in found if f.position.get("leaf_index") == add_leaf]
    # The unit's first event is now its version 2 (event_missing, 8.2 step 4e), and
    # its command is refused on the log before the unit existed.
    kinds = {f.kind: f.detail for f in early}
    assert set(kinds) == {"event_missing", "event_not_derived"}
    assert "unit_not_found" in kinds["event_not_derived"]
