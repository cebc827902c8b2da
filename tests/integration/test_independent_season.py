"""The season, cross-checked: the verifier written from docs/FORMATS.md and
docs/SEASON.md alone (tests/independent/) and `parindex verify` must agree on
every season log, honest (both clean) or forged (the same findings, kind and
position). The outsider knows every season command only from the documents:
the schedule, extensions, added and merged units, the two rounds and the
explanation window, the unit's and the cycle's close, the ranking and its
manifest (ranks, bands, totals it computes itself), and corrections.

Bundles do not depend on the store's backend, so SQLite is enough here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from domain.cycle import Cycle
from tests.integration.test_independent_verifier import export, same
from tests.log_operator import Operator
from tests.season_unit import Unit, at, deadline_text, whole_seconds_from_now
from tests.support import Env, Key, command, make_env

C = "c"
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def env(tmp_path) -> Iterator[Env]:
    e = make_env(tmp_path, None)
    try:
        yield e
    finally:
        e.app.close()


def both(env: Env, tmp_path, name: str = "season.jsonl"):
    """Both verifiers' findings on the log exported as a bundle, asserted equal."""
    return same(export(env, tmp_path / name), env.log_key)


def leaves_of(found) -> set[int]:
    import json

    return {json.loads(p).get("leaf_index") for _k, p in found}


def evidence(evidence_id: str, leaves: list[str]) -> dict:
    return {
        "evidence_id": evidence_id,
        "leaves": leaves,
        "file": None,
        "document": {"number": "15/KH-UBND"},
        "description": None,
    }


# -- an honest season with every command -------------------------------------------------
@dataclass
class Season:
    env: Env
    a: Unit  # two rounds: flags, answers, explanations, round 2, a close that confirms
    b: Unit  # withdrawn and submitted again, appraised in round 1, corrected after publication
    approver: Key
    d: Unit | None = None  # added later, with a type
    leaves: dict[str, int] = field(default_factory=dict)

    def mark(self, name: str, receipt: dict) -> dict:
        self.leaves[name] = receipt["log_index"]
        return receipt

    def cycle(self, type_: str, **fields) -> dict:
        return self.env.send(command(self.env.admin, type_, cycle=C, **fields))


def unit_of(env: Env, first: Unit, code: str) -> Unit:
    return Unit(
        env,
        officer=env.register("commune_officer", f"commune:{code}")[0],
        chair=env.register("commune_chair", f"commune:{code}")[0],
        appraiser=first.appraiser,
        council=first.council,
        cycle=C,
        unit=code,
    )


def build_season(env: Env) -> Season:
    now = datetime.now(UTC).replace(microsecond=0)
    deadlines = {
        "self_assessment_due": deadline_text(now + DAY),
        "explanation_due": deadline_text(now + 2 * DAY),
        "appraisal_due": deadline_text(now + 3 * DAY),
    }
    units = ("xa-a", "xa-b", "xa-c", "xa-e", "xa-f")
    a = Unit.open(env, C, "xa-a", units=units, level="district", rounds=2, deadlines=deadlines)
    b = unit_of(env, a, "xa-b")
    approver = env.register("approver", "authority:dong-hy")[0]
    s = Season(env, a, b, approver)
    # the calendar: the cycle's self-assessment a day later, xa-b's explanations an hour
    s.mark(
        "extended",
        s.cycle(
            "extend_deadline",
            deadline="self_assessment_due",
            until=deadline_text(now + DAY + timedelta(hours=1)),
            reason="Theo đề nghị của UBND huyện",
        ),
    )
    s.mark(
        "extended_unit",
        s.cycle(
            "extend_deadline",
            deadline="explanation_due",
            unit="xa-b",
            until=deadline_text(now + 2 * DAY + timedelta(hours=1)),
            reason="Xã B mất điện",
        ),
    )
    s.mark(
        "added",
        s.cycle(
            "add_units",
            units=[{"code": "xa-d", "name": "Phường D", "type": "phuong"}],
            reason="Mới",
        ),
    )
    s.mark(
        "merged",
        s.cycle(
            "merge_units",
            units=["xa-e", "xa-f"],
            into={"code": "xa-ef", "name": "Xã EF", "type": "xa"},
            reason="Sáp nhập theo Nghị quyết",
        ),
    )
    s.d = unit_of(env, a, "xa-d")
    # xa-a: self-assessment with a not-applicable leaf, submitted
    a.score("1.1.1", "1")
    a.send(a.officer, "declare_not_applicable", leaf="1.8.1", reason="Không phát sinh")
    a.submit()
    # round 1: an adjustment, a confirmation, three flags (string order != code order)
    s.mark("adjusted", a.adjust("1.1.1", "0.5"))
    s.mark("confirmed", a.confirm("1.1.2", note="Đúng"))
    s.mark("flagged", a.flag("3.2.10"))
    a.flag("3.2.2")
    a.flag("1.2.1")
    # the explanation window: evidence on flagged leaves, answers, a revised input
    a.send(a.officer, "attach_evidence", **evidence("ev-a-1", ["3.2.10", "3.2.2"]))
    s.mark(
        "answered", a.answer("3.2.10", points="0.25", evidence_ids=["ev-a-1"])
    )  # revised: 0 -> 0.25
    a.answer("3.2.10", signer=a.chair, answer="Bổ sung lần 2")  # a later answer, no input
    a.answer("3.2.2")
    a.answer("1.2.1", points="0.5")
    s.mark("explained", a.submit_explanations())
    # round 2: flagged leaves only; the close confirms the rest
    s.mark("round_2", a.adjust("3.2.10", "0"))
    a.confirm("3.2.2")
    s.mark("closed_a", a.close(confirm=a.unreviewed()))
    # xa-b: submitted, withdrawn, submitted again; round 1 only, closed
    b = s.b
    b.score("1.1.1", "0.75")
    b.submit()
    b.send(b.chair, "withdraw_submission", reason="Bổ sung hồ sơ")
    b.score("1.1.2", "1")
    b.submit()
    b.adjust("1.1.2", "0.5")
    b.confirm("1.1.1")
    s.mark("closed_b", b.close(confirm=b.unreviewed()))
    # xa-d, added: same total as xa-b's appraised one (a shared rank)
    d = s.d
    d.score("1.1.1", "1")
    d.score("1.1.2", "0.25")
    d.submit()
    s.mark("closed_d", d.close(confirm=d.unreviewed()))
    # xa-c never submits; xa-e and xa-f are merged: the council closes, v1 published
    first = env.season_end(C, a.council, approver)
    s.leaves["published_1"] = env.app.tlog.size() - 1
    assert [(x["unit"], x["rank"]) for x in first["ranked"]] == [
        ("xa-a", 1),
        ("xa-b", 2),
        ("xa-d", 2),
    ]
    # a correction after publication, with the appraiser's evidence: version 2
    b.send(b.appraiser, "attach_evidence", **evidence("ev-b-9", ["1.1.1"]))
    s.mark(
        "corrected",
        b.send(
            b.appraiser,
            "correct_score",
            leaf="1.1.1",
            points="1",
            reason="Theo văn bản bổ sung",
            evidence_ids=["ev-b-9"],
        ),
    )
    second = env.season_end(C, a.council, approver, close=False)
    assert second["version"] == 2
    size = env.app.tlog.size()
    s.leaves.update(proposed_2=size - 3, approved_2=size - 2, published_2=size - 1)
    return s


@pytest.fixture
def season(env: Env) -> Season:
    return build_season(env)


def test_an_honest_season_with_every_command_is_clean_for_both(season: Season, tmp_path):
    assert both(season.env, tmp_path) == []


# -- forgeries on the season --------------------------------------------------------------
EDITS = [
    ("adjusted", "round", 2),
    ("round_2", "round", 1),
    ("confirmed", "round", 2),
    ("flagged", "question", "Câu hỏi khác"),
    ("answered", "points", "0.5"),
    ("explained", "answered", ["1.2.1", "3.2.2", "3.2.10"]),
    ("closed_a", "confirmed", []),
    ("extended", "until", "2099-01-01T00:00:00Z"),
    ("extended_unit", "unit", "xa-a"),
    ("added", "units", [{"code": "xa-d", "name": "Phường D"}]),
    ("merged", "into", {"code": "xa-ef", "name": "Xã EF"}),
    ("corrected", "points", "0.5"),
    ("proposed_2", "version", 1),
    ("approved_2", "decision", {"number": "9/QĐ-UBND", "date": "2025-12-20"}),
    ("published_2", "version", 1),
]


@pytest.mark.parametrize(("name", "member", "value"), EDITS, ids=[f"{n}-{m}" for n, m, _ in EDITS])
def test_a_season_member_no_one_signed_is_reported_by_both(
    season: Season, tmp_path, name, member, value
):
    leaf = season.leaves[name]
    op = Operator(season.env)
    op.rewrite(leaf, lambda state: state.update({member: value}))
    op.reseal()
    found = both(season.env, tmp_path)
    assert ("event_not_derived", f'{{"leaf_index": {leaf}}}') in found


def test_a_schedule_no_one_signed_is_reported_by_both(env: Env, tmp_path):
    Unit.open(env, deadlines={"appraisal_due": "2099-01-01T00:00:00Z"}, rounds=1)
    scheduled = 4  # genesis 0-1, framework 2, Cycle.Opened 3, Cycle.Scheduled 4
    op = Operator(env)
    assert op.event_topic(scheduled) == "domain.cycle:Cycle.Scheduled"
    op.rewrite(scheduled, lambda state: state.update(rounds=2))
    op.reseal()
    found = both(env, tmp_path)
    assert ("event_not_derived", f'{{"leaf_index": {scheduled}}}') in found


# -- the round that starts when explanation_due passes ------------------------------------------
def test_round_2_by_the_deadline_and_a_single_round_cycle_are_clean_for_both(env: Env, tmp_path):
    due = {
        "self": whole_seconds_from_now(60),
        "explanation": whole_seconds_from_now(120),
        "appraisal": whole_seconds_from_now(240),
    }
    unit = Unit.open(
        env,
        deadlines={
            "self_assessment_due": deadline_text(due["self"]),
            "explanation_due": deadline_text(due["explanation"]),
            "appraisal_due": deadline_text(due["appraisal"]),
        },
    )
    unit.submit()
    unit.flag("1.1.1")
    unit.flag("1.1.2")
    unit.answer("1.1.1", points="1")
    # explanation_due passes with flags: round 2 without submit_explanations
    later = at(due["explanation"] + SECOND)
    unit.adjust("1.1.1", "0.75", issued_at=later)
    unit.close(confirm=unit.unreviewed(), issued_at=later)
    approver = env.register("approver", "authority:dong-hy")[0]
    env.season_end(C, unit.council, approver)
    # a single-round cycle of its own
    one = Unit.open(env, cycle="c1", unit="xa-a", rounds=1)
    one.submit()
    one.adjust("1.1.1", "0")
    one.close(confirm=one.unreviewed())
    env.season_end("c1", one.council, approver)
    assert both(env, tmp_path) == []


# -- a framework of every rule: totals, index and band computed by the outsider -------------------
def _node(code, max_points, rule=None, title=None):
    return {
        "code": code,
        "label": code,
        "title": title or f"Tiêu chí {code}",
        "max_points": max_points,
        "note": None,
        "rule": rule,
    }


def _rule(kind="manual", step=None, bands=(), gated_by=(), na_policy=None):
    return {
        "kind": kind,
        "step": step,
        "bands": list(bands),
        "gated_by": list(gated_by),
        "na_policy": na_policy,
    }


BANDS = [
    ("xuat_sac", "90", "Xuất sắc", "Excellent"),
    ("tot", "80", "Tốt", "Good"),
    ("kha", "70", "Khá", "Fair"),
    ("trung_binh", "50", "Trung bình", "Average"),
    ("yeu", "0", "Yếu", "Weak"),
]


def rules_framework(excluded_max: str) -> dict:
    """Ten points; leaf 2.1 is optional and excluded when not applicable, so the
    applicable maximum of a unit that declares it is 10 - `excluded_max`."""
    first = str(3 - int(excluded_max))  # 1.1's maximum: ten points in all
    return {
        "format": "parindex.framework/1",
        "id": f"every-rule-{excluded_max}@1",
        "slug": f"every-rule-{excluded_max}",
        "version": 1,
        "name": "Bộ tiêu chí thử mọi cách chấm",
        "jurisdiction": "Thái Nguyên",
        "level": "commune",
        "year": 2025,
        "source": "Thử nghiệm",
        "supersedes": None,
        "bands": [{"code": c, "minimum": m, "name_vi": v, "name_en": e} for c, m, v, e in BANDS],
        "nodes": [
            _node("1", str(4 + int(first))),
            _node("1.1", first, _rule(step="0.5")),
            _node("1.2", "1", _rule("yes_no")),
            _node("1.3", "1.5", _rule("ratio_proportional")),
            _node(
                "1.4",
                "1.5",
                _rule(
                    "ratio_bands",
                    bands=[
                        {"threshold": "100", "points": "1.5"},
                        {"threshold": "80", "points": "0.75"},
                        {"threshold": "0", "points": "0"},
                    ],
                ),
            ),
            _node("2", str(3 + int(excluded_max))),
            _node("2.1", excluded_max, _rule(na_policy="excluded")),
            _node("2.2", "1", _rule(gated_by=["1.2"])),
            _node("2.3", "1", _rule(gated_by=["2.2"])),
            _node("2.4", "1", _rule(na_policy="full_points", gated_by=["2.1"])),
        ],
    }


# unit -> leaf -> self input; every unit's appraisal confirms them all but 1.1
SELF = {
    "xa-a": {
        "1.1": {"points": "1"},
        "1.2": {"done": True},
        "1.3": {"numerator": "2", "denominator": "3"},  # 1.5 x 2/3 = 1
        "1.4": {"numerator": "17", "denominator": "20"},  # 85 %: 0.75
        "2.1": {"not_applicable": True},  # excluded: the applicable max shrinks
        "2.2": {"points": "1"},
        "2.3": {"points": "0.5"},
        "2.4": {"not_applicable": True},  # full points; its gate 2.1 did not occur
    },
    "xa-b": {
        "1.1": {"points": "1"},
        "1.2": {"done": False},  # closes 2.2, which closes 2.3
        "1.3": {"numerator": "1", "denominator": "7"},  # 0.2142857... -> 0.2143
        "1.4": {"numerator": "1", "denominator": "1"},
        "2.1": {"points": "0.5"},
        "2.2": {"points": "1"},
        "2.3": {"points": "1"},
        "2.4": {"points": "0.3333"},
    },
    "xa-c": {
        "1.1": {"points": "0"},
        "1.2": {"done": True},
        "1.3": {"numerator": "0", "denominator": "5"},
        "1.4": {"numerator": "79", "denominator": "100"},
        "2.1": {"points": "0"},  # a gate that scores 0 and occurred
        "2.2": {"points": "1"},
        "2.3": {"points": "1"},
        "2.4": {"points": "1"},
    },
}


def rank_every_rule(env: Env, excluded_max: str) -> dict:
    """A single-round cycle on `rules_framework`, every unit appraised (1.1 adjusted
    to 0.5, the rest confirmed at the close), closed, proposed, approved, published."""
    framework = rules_framework(excluded_max)
    env.send(command(env.admin, "publish_framework", framework=framework))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=C,
            name="Kỳ thử",
            framework=framework["id"],
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": u, "name": f"Xã {u}", "type": "xa"} for u in SELF],
            rounds=1,
        )
    )
    council = env.register("council_chair", "authority:dong-hy")[0]
    appraiser = env.register("appraiser", "authority:dong-hy")[0]
    approver = env.register("approver", "authority:dong-hy")[0]
    for code, inputs in SELF.items():
        officer = env.register("commune_officer", f"commune:{code}")[0]
        for leaf, given in inputs.items():
            if given == {"not_applicable": True}:
                type_, fields = "declare_not_applicable", {"reason": "Không phát sinh"}
            else:
                type_, fields = "record_self_score", given
            env.send(command(officer, type_, cycle=C, unit=code, leaf=leaf, **fields), officer)
        env.submit_unit(code, officer)
        unit = Unit(env, officer, officer, appraiser, council, C, code)
        unit.adjust("1.1", "0.5")
        unit.close(confirm=unit.unreviewed())
    return env.season_end(C, council, approver)


def test_a_framework_of_every_rule_is_ranked_alike_by_both(env: Env, tmp_path):
    content = rank_every_rule(env, excluded_max="2")
    lines = {x["unit"]: x for x in content["ranked"]}
    # xa-a: 0.5 + 1 + 1 + 0.75 + 1 + 0.5 + 1 of 8 applicable points (2.1 excluded)
    assert (lines["xa-a"]["appraised_total"], lines["xa-a"]["index"]) == ("5.75", "71.875")
    # xa-b: 1.2 not done closes 2.2 and so 2.3; 1.5 x 1/7 rounds to 0.2143
    assert (lines["xa-b"]["appraised_total"], lines["xa-b"]["index"]) == ("3.0476", "30.476")
    assert both(env, tmp_path) == []


def test_an_index_with_more_than_four_decimals_is_written_alike_by_both(env: Env, tmp_path):
    rank_every_rule(env, excluded_max="1")  # xa-a: 5.75 of 9 points, 63.888...
    # the outsider reports the proposal (ranking_differs) and so the approval and the
    # publication of a version that was never proposed; parindex verify is clean
    assert both(env, tmp_path) == []


# -- a hostile server's forgeries --------------------------------------------------------------
def test_a_command_signed_after_its_deadline_and_stored_anyway_is_reported_by_both(
    env: Env, tmp_path
):
    due = whole_seconds_from_now(60)
    unit = Unit.open(
        env,
        deadlines={
            "self_assessment_due": deadline_text(due),
            "explanation_due": deadline_text(due + timedelta(seconds=60)),
            "appraisal_due": deadline_text(due + timedelta(seconds=120)),
        },
    )
    late = at(due + SECOND)
    with mock.patch("domain.cycle.Cycle.check_deadline", lambda *args, **kwargs: None):
        forged = unit.score("1.1.1", "1", issued_at=late)["log_index"]
    found = both(env, tmp_path)
    assert found == [("event_not_derived", f'{{"leaf_index": {forged}}}')]


def test_an_appraisal_signed_after_appraisal_due_and_stored_anyway_is_reported_by_both(
    env: Env, tmp_path
):
    due = whole_seconds_from_now(120)
    unit = Unit.open(env, deadlines={"appraisal_due": deadline_text(due)})
    unit.submit()
    with mock.patch("domain.cycle.Cycle.check_deadline", lambda *args, **kwargs: None):
        forged = unit.adjust("1.1.1", "0.5", issued_at=at(due + SECOND))["log_index"]
    closed = unit.close(confirm=unit.unreviewed())["log_index"]
    found = both(env, tmp_path)
    # replayed, the adjustment is refused, so 1.1.1 was never reviewed: the close
    # that did not list it is refused too (leaves_not_reviewed)
    assert leaves_of(found) == {forged, closed}


def test_a_cycle_closed_with_a_submitted_unit_open_is_reported_by_both(env: Env, tmp_path):
    unit = Unit.open(env)
    unit.submit()
    with mock.patch("application.handlers.ranking.unit_open", return_value=False):
        forged = env.send(command(unit.council, "close_appraisal", cycle=C), unit.council)
    found = both(env, tmp_path)
    assert found == [("event_not_derived", f'{{"leaf_index": {forged["log_index"]}}}')]


def test_a_correction_before_publication_is_reported_by_both(env: Env, tmp_path):
    unit = Unit.open(env)
    unit.submit()
    unit.close(confirm=unit.unreviewed())
    approver = env.register("approver", "authority:dong-hy")[0]
    env.season_end(C, unit.council, approver, upto="approved")
    unit.send(unit.appraiser, "attach_evidence", **evidence("ev-1", ["1.1.1"]))
    correction = {"leaf": "1.1.1", "points": "1", "reason": "Sai sót", "evidence_ids": ["ev-1"]}
    with mock.patch("domain.ranking.Ranking.has_published", return_value=True):
        forged = unit.send(unit.appraiser, "correct_score", **correction)["log_index"]
    found = both(env, tmp_path)
    assert found == [("event_not_derived", f'{{"leaf_index": {forged}}}')]


def _forged_manifest(content: dict) -> dict:
    """The first ranked unit's appraised total raised by one point."""
    first = content["ranked"][0]
    raised = str(int(first["appraised_total"]) + 1)
    return {**content, "ranked": [{**first, "appraised_total": raised}, *content["ranked"][1:]]}


def test_a_manifest_line_the_log_does_not_bear_out_is_reported_by_both(env: Env, tmp_path):
    from domain import ranking as ranking_rules

    unit = Unit.open(env)
    unit.submit()
    unit.close(confirm=unit.unreviewed())
    env.send(command(unit.council, "close_appraisal", cycle=C), unit.council)
    cycle = env.app.get(Cycle.create_id(C), for_update=False)
    content = ranking_rules.manifest(
        cycle, 1, env.app.framework(cycle.framework), env.app.assessments(cycle)
    )
    forged = _forged_manifest(content)
    with mock.patch("application.handlers.ranking.manifest", return_value=forged):
        proposed = env.send(
            command(unit.council, "propose_ranking", cycle=C, manifest=forged), unit.council
        )
    found = both(env, tmp_path)
    assert found == [("event_not_derived", f'{{"leaf_index": {proposed["log_index"]}}}')]


# -- where the two verifiers disagree (strict: each fails loudly once they agree) ----------------
def test_a_forged_close_followed_by_the_ranking_is_reported_alike(env: Env, tmp_path):
    unit = Unit.open(env)
    unit.submit()
    approver = env.register("approver", "authority:dong-hy")[0]
    with mock.patch("application.handlers.ranking.unit_open", return_value=False):
        forged = env.send(command(unit.council, "close_appraisal", cycle=C), unit.council)
    env.season_end(C, unit.council, approver, close=False)
    found = both(env, tmp_path)
    assert forged["log_index"] in leaves_of(found)


def test_a_forged_publication_followed_by_a_correction_is_reported_alike(env: Env, tmp_path):
    from domain import ranking as ranking_rules

    unit = Unit.open(env)
    unit.submit()
    unit.close(confirm=unit.unreviewed())
    approver = env.register("approver", "authority:dong-hy")[0]
    env.send(command(unit.council, "close_appraisal", cycle=C), unit.council)
    cycle = env.app.get(Cycle.create_id(C), for_update=False)
    content = ranking_rules.manifest(
        cycle, 1, env.app.framework(cycle.framework), env.app.assessments(cycle)
    )
    forged = _forged_manifest(content)
    decision = {"decision_number": "1/QĐ-UBND", "decision_date": "2025-12-20"}
    with mock.patch("application.handlers.ranking.manifest", return_value=forged):
        env.send(command(unit.council, "propose_ranking", cycle=C, manifest=forged), unit.council)
        fields = {"version": 1, "digest": ranking_rules.digest(forged), **decision}
        env.send(command(approver, "approve_ranking", cycle=C, **fields), approver)
        env.send(command(approver, "publish_ranking", cycle=C, version=1), approver)
    unit.send(unit.appraiser, "attach_evidence", **evidence("ev-1", ["1.1.1"]))
    correction = {"leaf": "1.1.1", "points": "1", "reason": "Sai sót", "evidence_ids": ["ev-1"]}
    unit.send(unit.appraiser, "correct_score", **correction)
    env.season_end(C, unit.council, approver, close=False)
    assert len(both(env, tmp_path)) >= 3


@pytest.mark.parametrize("which", ["extended", "added", "merged"])
def test_a_calendar_command_copied_onto_another_cycle_is_reported_alike(
    season: Season, tmp_path, which
):
    op = Operator(season.env)
    op.append_copy(season.leaves[which], onto=Cycle.create_id("other"))
    op.reseal()
    both(season.env, tmp_path)


def test_a_score_moved_before_its_units_opening_is_reported_alike(env: Env, tmp_path):
    from tests.support import swap_leaf_targets

    Unit.open(env, deadlines={"self_assessment_due": "2099-01-01T00:00:00Z"})
    officer = env.register("commune_officer", "commune:xa-d")[0]
    score = officer.sign(
        command(officer, "record_self_score", cycle=C, unit="xa-d", leaf="1.1.1", points="1")
    )
    units = [{"code": "xa-d", "name": "Xã D"}]
    env.send(command(env.admin, "add_units", cycle=C, units=units, reason="Thêm"))
    good = env.app.handle(score)["log_index"]
    swap_leaf_targets(env.app, good - 2, good)  # UnitsAdded, Opened, the score
    Operator(env).reseal()
    both(env, tmp_path)


# -- readings of the documents settled against the server ------------------------------------------
def test_a_units_deadline_is_the_later_of_its_own_and_the_cycles_for_both(env: Env, tmp_path):
    """FORMATS.md 3.6 says both "the later of its own (from an extension) and the
    cycle's" and "the unit's own, else the cycle's"; the server takes the later."""
    due = whole_seconds_from_now(60)
    unit = Unit.open(env, deadlines={"self_assessment_due": deadline_text(due)})

    def extend(seconds: int, **unit_field) -> None:
        until = deadline_text(due + timedelta(seconds=seconds))
        fields = {"deadline": "self_assessment_due", "until": until, "reason": "Gia hạn"}
        env.send(command(env.admin, "extend_deadline", cycle=C, **fields, **unit_field))

    extend(120, unit="xa-a")
    extend(200)  # the cycle's now later than xa-a's own
    unit.score("1.1.1", "1", issued_at=at(due + timedelta(seconds=150)))
    assert both(env, tmp_path) == []


def test_a_merged_into_unit_through_two_rounds_and_superseded_versions_are_clean_for_both(
    env: Env, tmp_path
):
    from domain import ranking as ranking_rules

    first = Unit.open(env, deadlines={"self_assessment_due": "2099-01-01T00:00:00Z"})
    into = {"code": "xa-ab", "name": "Xã AB", "type": "phuong"}
    merge = {"units": ["xa-a", "xa-b"], "into": into, "reason": "Sáp nhập"}
    env.send(command(env.admin, "merge_units", cycle=C, **merge))
    ab = unit_of(env, first, "xa-ab")
    ab.submit()
    ab.flag("1.1.1")
    ab.answer("1.1.1", points="0.5")
    ab.submit_explanations()
    ab.adjust("1.1.1", "0.25")
    ab.close(confirm=ab.unreviewed())
    approver = env.register("approver", "authority:dong-hy")[0]
    env.season_end(C, first.council, approver, upto="approved")
    # version 2 supersedes the approved version 1 before its publication
    cycle = env.app.get(Cycle.create_id(C), for_update=False)
    content = ranking_rules.manifest(
        cycle, 2, env.app.framework(cycle.framework), env.app.assessments(cycle)
    )
    env.send(command(first.council, "propose_ranking", cycle=C, manifest=content), first.council)
    decision = {"decision_number": "2/QĐ-UBND", "decision_date": "2025-12-21"}
    fields = {"version": 2, "digest": ranking_rules.digest(content), **decision}
    env.send(command(approver, "approve_ranking", cycle=C, **fields), approver)
    env.send(command(env.admin, "publish_ranking", cycle=C, version=2))
    assert both(env, tmp_path) == []


def test_a_merged_unit_that_had_submitted_does_not_hold_the_cycles_close(env: Env, tmp_path):
    unit = Unit.open(env, deadlines={"self_assessment_due": "2099-01-01T00:00:00Z"})
    unit.submit()
    into = {"code": "xa-ab", "name": "Xã AB"}
    merge = {"units": ["xa-a", "xa-b"], "into": into, "reason": "Sáp nhập"}
    env.send(command(env.admin, "merge_units", cycle=C, **merge))
    env.send(command(unit.council, "close_appraisal", cycle=C), unit.council)
    assert both(env, tmp_path) == []


def test_a_close_with_a_merged_unit_that_had_submitted_is_clean_for_both(env: Env, tmp_path):
    """What the server would write if it followed the sentence above (its live
    check mocked away): both verifiers accept it, and the merged unit is listed
    apart, never ranked."""
    unit = Unit.open(env, deadlines={"self_assessment_due": "2099-01-01T00:00:00Z"})
    unit.submit()
    into = {"code": "xa-ab", "name": "Xã AB"}
    merge = {"units": ["xa-a", "xa-b"], "into": into, "reason": "Sáp nhập"}
    env.send(command(env.admin, "merge_units", cycle=C, **merge))
    approver = env.register("approver", "authority:dong-hy")[0]
    with mock.patch("application.handlers.ranking.unit_open", return_value=False):
        env.send(command(unit.council, "close_appraisal", cycle=C), unit.council)
    content = env.season_end(C, unit.council, approver, close=False)
    assert content["ranked"] == [] and content["unranked"][0]["status"] == "merged"
    assert both(env, tmp_path) == []
