"""Oversight notes, cross-checked: the verifier written from docs/FORMATS.md and
docs/SEASON.md alone (tests/independent/notes.py) and `parindex verify` must agree
on every log with notes, honest (both clean) or forged (the same findings, kind and
position). The outsider knows `record_oversight_note` and `answer_oversight_note`
only from FORMATS.md 3.6 (their rows, 3.6.1 roles), 4.3 (the events' members), 8
(verification) and SEASON.md "Oversight notes".

Bundles do not depend on the store's backend, so SQLite is enough here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import rfc8785
from eventsourcing.persistence import StoredEvent

from domain.assessment import Assessment
from domain.errors import DomainError
from tests.integration.test_independent_verifier import export, same
from tests.log_operator import Operator, encode
from tests.season_unit import OTHER, C, Unit, deadline_text, whole_seconds_from_now
from tests.season_unit import at as stamp
from tests.support import Env, Key, command, make_env

TOPIC = "domain.assessment:Assessment."
ADJUSTED = TOPIC + "ScoreAdjusted"


@pytest.fixture
def env(tmp_path) -> Iterator[Env]:
    e = make_env(tmp_path, None)
    try:
        yield e
    finally:
        e.app.close()


def both(env: Env, tmp_path, name: str = "notes.jsonl") -> list[tuple[str, str]]:
    """Both verifiers' findings on the log exported as a bundle, asserted equal."""
    return same(export(env, tmp_path / name), env.log_key)


def at(leaf: int) -> tuple[str, str]:
    return ("event_not_derived", json.dumps({"leaf_index": leaf}))


def leaves_of(found) -> set[int]:
    return {json.loads(p).get("leaf_index") for _k, p in found}


def unit_of(env: Env, first: Unit, code: str) -> Unit:
    return Unit(
        env,
        officer=env.register("commune_officer", f"commune:{code}")[0],
        chair=env.register("commune_chair", f"commune:{code}")[0],
        appraiser=first.appraiser,
        council=first.council,
        cycle=first.cycle,
        unit=code,
    )


def note(unit: Unit, observer: Key, note_id: str, **more) -> dict:
    more.setdefault("text", "Đề nghị Hội đồng làm rõ căn cứ chấm điểm.")
    return unit.send(observer, "record_oversight_note", note_id=note_id, **more)


def answer(unit: Unit, note_id: str, text: str = "Hội đồng đã rà soát.") -> dict:
    return unit.send(unit.council, "answer_oversight_note", note_id=note_id, answer=text)


# -- an honest season with notes ------------------------------------------------------------
@dataclass
class Noted:
    env: Env
    a: Unit
    b: Unit
    observer: Key
    approver: Key
    leaves: dict[str, int] = field(default_factory=dict)

    def mark(self, name: str, receipt: dict) -> int:
        self.leaves[name] = receipt["log_index"]
        return receipt["log_index"]


def build_noted(env: Env) -> Noted:
    """Two units of a two-round cycle. xa-a is withdrawn and submitted again,
    adjusted, confirmed, flagged, answered, re-appraised in round 2, closed and,
    after publication, corrected; the observer notes the unit, a leaf and each of
    these changes by its log index (some before, some after the close and the
    publication), the council chair answers most of them."""
    a = Unit.open(env)
    b = unit_of(env, a, OTHER)
    observer = env.register("observer", "authority:dong-hy")[0]
    approver = env.register("approver", "authority:dong-hy")[0]
    s = Noted(env, a, b, observer, approver)
    # a note on a unit that has not submitted, and on one of its leaves
    s.mark("on_unit", note(a, observer, "gs-unit"))
    s.mark("on_leaf", note(a, observer, "gs-leaf", leaf="1.1.2", text="Dòng 1\nDòng 2"))
    a.score("1.1.1", "1")
    a.submit()
    withdrawn = s.mark("withdrawn", a.send(a.chair, "withdraw_submission", reason="Bổ sung hồ sơ"))
    a.submit()
    b.score("1.1.1", "1")
    b.submit()
    b_adjusted = s.mark("b_adjusted", b.adjust("1.1.1", "0"))
    adjusted = s.mark("adjusted", a.adjust("1.1.1", "0.5"))
    confirmed = s.mark("confirmed", a.confirm("1.1.2", note="Đúng"))
    flagged = s.mark("flagged", a.flag("1.2.1"))
    answered = s.mark("answered", a.answer("1.2.1", points="0.5"))
    a.submit_explanations()
    round_2 = s.mark("round_2", a.adjust("1.2.1", "0.25"))
    for name, change in [
        ("gs-withdrawn", withdrawn),
        ("gs-adjusted", adjusted),
        ("gs-confirmed", confirmed),
        ("gs-flagged", flagged),
        ("gs-answered", answered),
        ("gs-round-2", round_2),
    ]:
        s.mark(name, note(a, observer, name, change=change))
    s.mark("b_note", note(b, observer, "gs-adjusted", change=b_adjusted))  # same id, other unit
    s.mark("answer_adjusted", answer(a, "gs-adjusted", "Kế hoạch ban hành chậm 12 ngày."))
    answer(a, "gs-unit")
    answer(b, "gs-adjusted")
    closed = s.mark("closed", a.close(confirm=a.unreviewed()))
    b.close(confirm=b.unreviewed())
    s.mark("gs-closed", note(a, observer, "gs-closed", change=closed))
    answer(a, "gs-closed", "Đã rà soát.\nKhông điều chỉnh.")  # a line break
    env.season_end(C, a.council, approver)
    # after publication: a correction, a note on it, its answer
    evidence = {
        "evidence_id": "ev-1",
        "leaves": ["1.1.1"],
        "file": None,
        "document": {"number": "15/KH-UBND"},
        "description": None,
    }
    a.send(a.appraiser, "attach_evidence", **evidence)
    corrected = s.mark(
        "corrected",
        a.send(
            a.appraiser,
            "correct_score",
            leaf="1.1.1",
            points="1",
            reason="Theo văn bản bổ sung",
            evidence_ids=["ev-1"],
        ),
    )
    s.mark("gs-corrected", note(a, observer, "gs-corrected", change=corrected))
    s.mark("answer_corrected", answer(a, "gs-corrected"))
    return s


@pytest.fixture
def noted(env: Env) -> Noted:
    return build_noted(env)


def test_an_honest_season_with_notes_is_clean_for_both(noted: Noted, tmp_path):
    assert both(noted.env, tmp_path) == []
    notes = noted.a.assessment.notes
    assert notes["gs-adjusted"] == {
        "leaf": None,
        "change": noted.leaves["adjusted"],
        "answered": True,
    }
    assert notes["gs-leaf"] == {"leaf": "1.1.2", "change": None, "answered": False}


# -- readings of the documents settled against the server ------------------------------------
def test_a_note_on_a_change_replay_refuses_is_reported_too_by_both(env: Env, tmp_path):
    """FORMATS.md 3.6: "a verifier looks at the events of the unit it has replayed
    before this one". An adjustment signed after appraisal_due and stored anyway
    is not replayed, so a note naming it names no change: one forgery, two findings."""
    due = whole_seconds_from_now(120)
    a = Unit.open(env, deadlines={"appraisal_due": deadline_text(due)})
    observer = env.register("observer", "authority:dong-hy")[0]
    a.score("1.1.1", "1")
    a.submit()
    with mock.patch("domain.cycle.Cycle.check_deadline", lambda *args, **kwargs: None):
        late = a.adjust("1.1.1", "0.5", issued_at=stamp(due + timedelta(seconds=1)))
    noted = note(a, observer, "gs-1", change=late["log_index"])
    assert both(env, tmp_path) == [at(late["log_index"]), at(noted["log_index"])]


def test_a_note_on_a_change_stored_twice_names_a_change_for_both(env: Env, tmp_path):
    """A copied adjustment on its own assessment still replays (only
    command_replayed): a note naming the copy's leaf names a change."""
    a = Unit.open(env)
    observer = env.register("observer", "authority:dong-hy")[0]
    a.score("1.1.1", "1")
    a.submit()
    op = Operator(env)
    copy = op.append_copy(a.adjust("1.1.1", "0.5")["log_index"])
    op.reseal()
    note(a, observer, "gs-1", change=copy)
    assert both(env, tmp_path) == [("command_replayed", json.dumps({"leaf_index": copy}))]


def test_a_note_on_a_change_whose_event_was_edited_names_a_change_for_both(env: Env, tmp_path):
    """The state moves by what a valid command yields, not by what the log stores
    (8.2 step 4c): an adjustment whose stored reason was edited is one finding,
    and a note naming it still names a change."""
    a = Unit.open(env)
    observer = env.register("observer", "authority:dong-hy")[0]
    a.score("1.1.1", "1")
    a.submit()
    adjusted = a.adjust("1.1.1", "0.5")["log_index"]
    op = Operator(env)
    op.rewrite(adjusted, lambda state: state.update(reason="Lý do khác"))
    op.reseal()
    note(a, observer, "gs-1", change=adjusted)
    assert both(env, tmp_path) == [at(adjusted)]


# -- forgeries: the server accepts a note on a change that is not its unit's ----------------------
@pytest.fixture
def pair(env: Env) -> tuple[Unit, Unit, Key]:
    """xa-a and xa-b, both submitted, xa-a's 1.1.1 adjusted; an observer."""
    a = Unit.open(env)
    b = unit_of(env, a, OTHER)
    observer = env.register("observer", "authority:dong-hy")[0]
    for unit in (a, b):
        unit.score("1.1.1", "1")
        unit.submit()
    return a, b, observer


def _own_event(env: Env, unit: Unit, name: str) -> int:
    mine = Assessment.create_id(unit.cycle, unit.unit)
    return next(
        e.leaf_index
        for e in env.app.tlog.iter_events()
        if e.originator_id == mine and e.topic == TOPIC + name
    )


def _other_units_adjustment(env, a, b) -> int:
    return b.adjust("1.1.1", "0")["log_index"]


def _own_self_score(env, a, b) -> int:
    return _own_event(env, a, "SelfScoreRecorded")


def _own_submission(env, a, b) -> int:
    return _own_event(env, a, "Submitted")


def _own_evidence_withdrawal(env, a, b) -> int:
    """SEASON.md lists a "withdrawal" among the changes; FORMATS.md 3.6 names
    SubmissionWithdrawn only, and the server refuses an evidence withdrawal."""
    fields = {"file": None, "document": {"number": "1/KH"}, "description": None}
    a.send(a.appraiser, "attach_evidence", evidence_id="ev-1", leaves=["1.1.1"], **fields)
    return a.send(a.appraiser, "withdraw_evidence", evidence_id="ev-1", reason="Nhầm")["log_index"]


def _beyond_the_log(env, a, b) -> int:
    return 10**9


def _its_own_leaf(env, a, b) -> int:
    return env.app.tlog.size()  # where the note itself is stored


NOT_ITS_CHANGE = {
    "other-units-adjustment": _other_units_adjustment,
    "own-self-score": _own_self_score,
    "own-submission": _own_submission,
    "own-evidence-withdrawal": _own_evidence_withdrawal,
    "beyond-the-log": _beyond_the_log,
    "its-own-leaf": _its_own_leaf,
}


@pytest.mark.parametrize("change", NOT_ITS_CHANGE.values(), ids=NOT_ITS_CHANGE.keys())
def test_a_note_on_a_change_that_is_not_its_units_is_reported_by_both(
    env: Env, pair, tmp_path, change
):
    a, b, observer = pair
    a.adjust("1.1.1", "0.5")  # the unit has a change of its own
    index = change(env, a, b)
    with pytest.raises(DomainError) as refused:  # the honest server refuses it
        note(a, observer, "gs-1", change=index)
    assert refused.value.code == "change_not_found"
    mine = Assessment.create_id(a.cycle, a.unit)
    with mock.patch.object(type(env.app), "logged_change", return_value=(mine, ADJUSTED)):
        forged = note(a, observer, "gs-1", change=index)["log_index"]
    assert both(env, tmp_path) == [at(forged)]
    # the refusal named alike
    path = tmp_path / "notes.jsonl"
    assert _details(path, env.log_key, forged) == ["the command is refused: change_not_found"] * 2


def _details(path, log_key: str, leaf: int) -> list[str]:
    from application.audit.bundle import BundleSource
    from application.audit.verify import verify
    from tests.independent.verifier import verify_bundle

    ours = verify(BundleSource(path), log_key=log_key, workers=1).findings
    outsiders = verify_bundle(path, log_key)
    return [
        next(f.detail for f in found if f.position.get("leaf_index") == leaf)
        for found in (ours, outsiders)
    ]


# -- forgeries: note events copied, stored again, edited -----------------------------------------
@pytest.fixture
def answered(env: Env, pair) -> dict[str, int]:
    """gs-1 on xa-a's adjustment, answered by the council; gs-2 on a leaf."""
    a, _b, observer = pair
    adjusted = a.adjust("1.1.1", "0.5")["log_index"]
    return {
        "adjusted": adjusted,
        "note": note(a, observer, "gs-1", change=adjusted)["log_index"],
        "leaf_note": note(a, observer, "gs-2", leaf="1.1.2")["log_index"],
        "answer": answer(a, "gs-1")["log_index"],
    }


@pytest.mark.parametrize("which", ["note", "leaf_note", "answer"])
@pytest.mark.parametrize("onto", ["another-unit", "the-same-unit"])
def test_a_note_event_stored_again_is_reported_by_both(
    env: Env, pair, answered, tmp_path, which, onto
):
    a, b, _observer = pair
    op = Operator(env)
    target = Assessment.create_id(b.cycle, b.unit) if onto == "another-unit" else None
    forged = op.append_copy(answered[which], onto=target)
    op.reseal()
    found = both(env, tmp_path)
    assert ("command_replayed", json.dumps({"leaf_index": forged})) in found
    assert leaves_of(found) == {forged}
    if onto == "another-unit":
        assert ("wrong_aggregate", json.dumps({"leaf_index": forged})) in found
    else:  # the same note again (note_exists) or a second answer (note_answered)
        assert at(forged) in found


EDITS = [
    ("note", "change", None),
    ("note", "leaf", "1.1.2"),
    ("note", "text", "Một nội dung khác"),
    ("note", "note_id", "gs-9"),
    ("leaf_note", "leaf", None),
    ("leaf_note", "change", 3),
    ("note", "answered", True),  # a member 4.3 does not list
    ("answer", "answer", "Không có gì sai."),
    ("answer", "note_id", "gs-2"),
    ("answer", "by", "Chủ tịch Hội đồng"),
]


@pytest.mark.parametrize(("which", "member", "value"), EDITS, ids=[f"{w}-{m}" for w, m, _ in EDITS])
def test_a_note_member_no_one_signed_is_reported_by_both(
    env: Env, answered, tmp_path, which, member, value
):
    leaf = answered[which]
    op = Operator(env)
    op.rewrite(leaf, lambda state: state.update({member: value}))
    op.reseal()
    assert both(env, tmp_path) == [at(leaf)]
    assert _details(tmp_path / "notes.jsonl", env.log_key, leaf) == [f"field '{member}'"] * 2


def test_a_note_member_removed_is_reported_by_both(env: Env, answered, tmp_path):
    leaf = answered["note"]
    op = Operator(env)
    op.rewrite(leaf, lambda state: state.pop("leaf"))
    op.reseal()
    assert both(env, tmp_path) == [at(leaf)]


# -- forgeries: a permissive server stores a note or an answer of a key not permitted -----------
def _signers(env: Env, a: Unit, observer: Key) -> dict[str, tuple[Key, str]]:
    outsider = env.register("observer", "authority:phu-binh")[0]
    return {
        "note-by-appraiser": (a.appraiser, "record_oversight_note"),
        "note-by-officer": (a.officer, "record_oversight_note"),
        "note-by-council": (a.council, "record_oversight_note"),
        "note-by-observer-of-another-district": (outsider, "record_oversight_note"),
        "answer-by-observer": (observer, "answer_oversight_note"),
        "answer-by-appraiser": (a.appraiser, "answer_oversight_note"),
        "answer-by-chair": (a.chair, "answer_oversight_note"),
    }


NOT_PERMITTED = [
    "note-by-appraiser",
    "note-by-officer",
    "note-by-council",
    "note-by-observer-of-another-district",
    "answer-by-observer",
    "answer-by-appraiser",
    "answer-by-chair",
]


@pytest.mark.parametrize("who", NOT_PERMITTED)
def test_a_note_or_answer_by_a_key_not_permitted_is_reported_by_both(env: Env, pair, tmp_path, who):
    a, _b, observer = pair
    note(a, observer, "gs-1")
    signer, type_ = _signers(env, a, observer)[who]
    fields = (
        {"note_id": "gs-2", "text": "Ghi chú"}
        if type_ == "record_oversight_note"
        else {"note_id": "gs-1", "answer": "Đã rà soát."}
    )
    forged = Operator(env).store(signer.sign(a.cmd(signer, type_, **fields)))["log_index"]
    assert both(env, tmp_path) == [("not_permitted", json.dumps({"leaf_index": forged}))]


# -- forgeries: what a server that skipped a refusal would store ---------------------------------
def forge(env: Env, signer: Key, unit: str, type_: str, **fields) -> int:
    """Stores, around the server's rules, as the next event of `unit`'s assessment,
    the event FORMATS.md 3.6 derives for a command `signer` signs with `fields`
    (what a server that skipped a refusal would write); returns its leaf."""
    signed = signer.sign(command(signer, type_, cycle=C, unit=unit, **fields))
    if type_ == "record_oversight_note":
        topic = TOPIC + "OversightNoted"
        members = {n: fields.get(n) for n in ("note_id", "text", "leaf", "change")}
    else:
        topic = TOPIC + "OversightNoteAnswered"
        members = {n: fields.get(n) for n in ("note_id", "answer")}
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
        **members,
        "signed": {
            "command": rfc8785.dumps(signed["command"]).decode("utf-8"),
            "signature": signed["signature"],
            "key_id": signer.key_id,
        },
    }
    target = Assessment.create_id(C, unit)
    recorder = env.app.recorder
    last = recorder.select_events(target, desc=True, limit=1)
    version = last[0].originator_version + 1 if last else 1
    recorder.insert_events([StoredEvent(target, version, topic, encode(state))])
    leaf = recorder.last_append.leaves[0].leaf_index
    Operator(env).reseal()
    return leaf


def _answer_to_no_note(env, a, b, observer) -> int:
    return forge(env, a.council, a.unit, "answer_oversight_note", note_id="gs-9", answer="Có")


def _answer_to_another_units_note(env, a, b, observer) -> int:
    note(b, observer, "gs-b")
    return forge(env, a.council, a.unit, "answer_oversight_note", note_id="gs-b", answer="Có")


def _second_answer(env, a, b, observer) -> int:
    note(a, observer, "gs-1")
    answer(a, "gs-1")
    return forge(env, a.council, a.unit, "answer_oversight_note", note_id="gs-1", answer="Lần 2")


def _blank_answer(env, a, b, observer) -> int:
    note(a, observer, "gs-1")
    return forge(env, a.council, a.unit, "answer_oversight_note", note_id="gs-1", answer=" \n ")


def _note_id_twice(env, a, b, observer) -> int:
    note(a, observer, "gs-1")
    return forge(env, observer, a.unit, "record_oversight_note", note_id="gs-1", text="Lại")


def _leaf_and_change(env, a, b, observer) -> int:
    change = a.adjust("1.1.1", "0.5")["log_index"]
    fields = {"note_id": "gs-1", "text": "?", "leaf": "1.1.1", "change": change}
    return forge(env, observer, a.unit, "record_oversight_note", **fields)


def _not_a_leaf(env, a, b, observer) -> int:
    fields = {"note_id": "gs-1", "text": "?", "leaf": "1.1"}  # a criterion with children
    return forge(env, observer, a.unit, "record_oversight_note", **fields)


def _blank_text(env, a, b, observer) -> int:
    return forge(env, observer, a.unit, "record_oversight_note", note_id="gs-1", text="   ")


def _text_too_long(env, a, b, observer) -> int:
    text = "Ý" * 4001
    return forge(env, observer, a.unit, "record_oversight_note", note_id="gs-1", text=text)


def _negative_change(env, a, b, observer) -> int:
    fields = {"note_id": "gs-1", "text": "?", "change": -1}
    return forge(env, observer, a.unit, "record_oversight_note", **fields)


def _change_not_an_integer(value):
    def forgery(env, a, b, observer) -> int:
        a.adjust("1.1.1", "0.5")
        fields = {"note_id": "gs-1", "text": "?", "change": value}
        return forge(env, observer, a.unit, "record_oversight_note", **fields)

    return forgery


def _malformed_note_id(env, a, b, observer) -> int:
    fields = {"note_id": "../../etc", "text": "?"}
    return forge(env, observer, a.unit, "record_oversight_note", **fields)


def _note_on_a_merged_unit(env, a, b, observer) -> int:
    merge = {"units": [a.unit, b.unit], "into": {"code": "xa-ab", "name": "Xã AB"}}
    env.send(command(env.admin, "merge_units", cycle=C, reason="Sáp nhập", **merge))
    return forge(env, observer, a.unit, "record_oversight_note", note_id="gs-1", text="?")


REFUSED = {
    "answer-to-a-note-that-does-not-exist": (_answer_to_no_note, "note_not_found"),
    "answer-to-another-units-note": (_answer_to_another_units_note, "note_not_found"),
    "second-answer": (_second_answer, "note_answered"),
    "blank-answer": (_blank_answer, "answer_required"),
    "note-id-twice": (_note_id_twice, "note_exists"),
    "leaf-and-change": (_leaf_and_change, "note_subject"),
    "not-a-leaf": (_not_a_leaf, "unknown_leaf"),
    "blank-text": (_blank_text, "note_required"),
    "text-too-long": (_text_too_long, "text_too_long"),
    "negative-change": (_negative_change, "invalid_field"),
    "change-true": (_change_not_an_integer(True), "invalid_field"),
    "change-a-string": (_change_not_an_integer("135"), "invalid_field"),
    "malformed-note-id": (_malformed_note_id, "invalid_note_id"),
    "note-on-a-merged-unit": (_note_on_a_merged_unit, "unit_merged"),
}


@pytest.mark.parametrize(("forgery", "code"), REFUSED.values(), ids=REFUSED.keys())
def test_a_note_or_answer_the_rules_refuse_stored_anyway_is_reported_by_both(
    env: Env, pair, tmp_path, forgery, code
):
    a, b, observer = pair
    forged = forgery(env, a, b, observer)
    assert both(env, tmp_path) == [at(forged)]
    ours, outsiders = _details(tmp_path / "notes.jsonl", env.log_key, forged)
    assert outsiders == f"the command is refused: {code}"
    # a field rule's problem is wrapped in validation_failed by ours (FORMATS.md 3.7 step 9)
    assert ours in (outsiders, "the command is refused: validation_failed")


def test_a_refused_answer_answers_nothing_for_both(env: Env, pair, tmp_path):
    """A forged answer to a note not recorded yet moves no state (8.2 step 4c), not
    even the assessment's version: the note stored after it and its answer are
    valid commands, reported only for their versions (one behind), never refused
    (note_not_found, note_answered). The server itself no longer loads the unit
    once such an answer is in its log, so the two come through `forge` too."""
    a, _b, observer = pair
    forged = _answer_to_no_note(env, a, None, observer)
    noted = forge(env, observer, a.unit, "record_oversight_note", note_id="gs-9", text="Ghi")
    fields = {"note_id": "gs-9", "answer": "Đã rà soát."}
    answered = forge(env, a.council, a.unit, "answer_oversight_note", **fields)
    assert both(env, tmp_path) == [at(forged), at(noted), at(answered)]
    path = tmp_path / "notes.jsonl"
    assert _details(path, env.log_key, forged) == ["the command is refused: note_not_found"] * 2
    for leaf in (noted, answered):
        assert all(d.startswith("version") for d in _details(path, env.log_key, leaf))
