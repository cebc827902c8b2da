"""Random sequences of the whole season's commands, by random roles (the right
one or not), signed at random times around the deadlines (issue 8, "Tests").

After every step: a refusal wrote nothing; a submitted unit's self-scores and
evidence changed only by answers on its flagged leaves within the explanation
window; a closed unit's appraisal changed only by a correction; no published
version of the ranking changed. At the end of each run verify replays the log
clean, which includes re-deriving every ranking manifest from the units' logs
at its position and every deadline from the signed times.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain import ranking, submission
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.ranking import Ranking
from tests.support import Written, command, make_env

UNITS = ("xa-a", "xa-b")
LEAVES = ("1.1.1", "1.1.2", "1.2.1")
ROLES = ("commune_officer", "commune_chair", "appraiser", "council_chair", "approver")
# Signing times, in seconds from the start: mostly before every deadline, then
# after each one in turn.
CLOCKS = st.sampled_from((-30,) * 8 + (90, 150, 250, 350))


def who(right: str):
    """Mostly the role the command belongs to, sometimes any other."""
    return st.sampled_from((right,) * 10 + tuple(r for r in ROLES if r != right))


SELF_DUE, EXPLANATION_DUE, APPRAISAL_DUE = 120, 200, 300


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class SeasonMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.env = make_env(Path(self.tmp.name), None)
        self.start = datetime.now(UTC).replace(microsecond=0)
        self.framework = self.env.open_cycle(list(UNITS))  # publishes the framework
        self.keys: dict[tuple[str, str], object] = {}
        for unit in UNITS:
            for role in ("commune_officer", "commune_chair"):
                self.keys[(role, unit)] = self.env.register(role, f"commune:{unit}")[0]
        for role in ("appraiser", "council_chair"):
            self.keys[(role, "*")] = self.env.register(role, "authority:dong-hy")[0]
        self.keys[("approver", "*")] = self.env.register("approver", "province:thai-nguyen")[0]
        # The season runs on a cycle of its own, with deadlines relative to the start.
        self.cycle = "s"
        self.env.send(
            command(
                self.env.admin,
                "open_cycle",
                cycle=self.cycle,
                name="Kỳ có lịch",
                framework=str(self.framework.id),
                year=2025,
                authority="dong-hy",
                province="thai-nguyen",
                units=[{"code": u, "name": f"Xã {u}"} for u in UNITS],
                deadlines={
                    "self_assessment_due": at(self.start + timedelta(seconds=SELF_DUE)),
                    "explanation_due": at(self.start + timedelta(seconds=EXPLANATION_DUE)),
                    "appraisal_due": at(self.start + timedelta(seconds=APPRAISAL_DUE)),
                },
            )
        )
        for unit in UNITS:
            officer = self.keys[("commune_officer", unit)]
            for leaf in self.framework.leaves:
                where = {"cycle": self.cycle, "unit": unit, "leaf": leaf.code}
                signed = command(officer, "record_self_score", **where, points="0")
                self.env.send(
                    {**signed, "issued_at": at(self.start - timedelta(seconds=60))}, officer
                )
        self.published: dict[int, dict] = {}
        self.counter = 0
        self.steps = 0
        self.accepted = 0
        self.refused = 0

    def teardown(self) -> None:
        try:
            self.env.checkpoint()
            report = verify(StoreSource(self.env.app.tlog), workers=1)
            assert report.findings == [], [f.text() for f in report.findings[:5]]
        finally:
            self.env.app.close()
            self.tmp.cleanup()

    # -- sending --------------------------------------------------------------------
    def key(self, role: str, unit: str):
        """The role's key for that unit (a commune role on the whole cycle signs
        with the first unit's key: a wrong role, to be refused)."""
        return (
            self.keys.get((role, unit)) or self.keys.get((role, "*")) or self.keys[(role, UNITS[0])]
        )

    def assessment(self, unit: str) -> Assessment:
        return self.env.app.get(Assessment.create_id(self.cycle, unit), for_update=False)

    def send(self, role: str, unit: str | None, clock: int, type_: str, **fields) -> str | None:
        """Signs as `role` at start + clock; checks the season's invariants around
        the command; returns the refusal's code or None."""
        self.steps += 1
        signer = self.key(role, unit or "*")
        where = {"cycle": self.cycle, **({"unit": unit} if unit else {})}
        cmd = command(signer, type_, **where, **fields)
        cmd["issued_at"] = at(self.start + timedelta(seconds=clock))
        before = Written.read(self.env.app)
        states = {u: _state(self.assessment(u)) for u in UNITS}
        try:
            self.env.send(cmd, signer)
        except DomainError as e:
            assert Written.read(self.env.app) == before, f"{type_} refused ({e.code}) but wrote"
            self.refused += 1
            return e.code
        self.accepted += 1
        event(f"accepted {type_}")  # --hypothesis-show-statistics: what the runs reach
        for u in UNITS:
            _changed_only_as_allowed(states[u], self.assessment(u), type_, u == unit, role)
        return None

    # -- where a run starts: anywhere in the season ---------------------------------------
    @initialize(stage=st.sampled_from((0, 1, 2, 3, 4, 4)))
    def start_at(self, stage):
        """0: nothing submitted; 1: both units submitted; 2: a leaf of each flagged;
        3: both units closed; 4: the cycle closed and version 1 published."""
        if stage >= 1:
            for unit in UNITS:
                self.submit(unit, "commune_chair", -30)
        if stage >= 2:
            for unit in UNITS:
                question = {"question": "Đề nghị bổ sung."}
                self.send("appraiser", unit, -30, "request_explanation", leaf=LEAVES[0], **question)
        if stage >= 3:
            for unit in UNITS:
                if stage >= 2:
                    self.send(
                        "commune_officer",
                        unit,
                        -30,
                        "answer_explanation",
                        leaf=LEAVES[0],
                        answer="Có",
                    )
                    self.send("commune_chair", unit, -30, "submit_explanations")
                self.close_unit(unit, "council_chair", -30)
        if stage >= 4:
            self.close_cycle("council_chair", -30)
            for step in (0, 1, 2):
                self.rank("council_chair", -30, step)
        self.steps = 30 if stage >= 3 else 0

    # -- rules ------------------------------------------------------------------------
    @rule(
        unit=st.sampled_from(UNITS),
        leaf=st.sampled_from(LEAVES),
        points=st.sampled_from(["0", "0.5"]),
        role=who("commune_officer"),
        clock=CLOCKS,
    )
    def self_score(self, unit, leaf, points, role, clock):
        self.send(role, unit, clock, "record_self_score", leaf=leaf, points=points)

    @rule(unit=st.sampled_from(UNITS), role=who("commune_officer"), clock=CLOCKS)
    def attach(self, unit, role, clock):
        self.counter += 1
        self.send(
            role,
            unit,
            clock,
            "attach_evidence",
            evidence_id=f"ev-{self.counter}",
            leaves=[LEAVES[self.counter % len(LEAVES)]],
            document={"number": f"{self.counter}/KH-UBND"},
        )

    @rule(unit=st.sampled_from(UNITS), role=who("commune_chair"), clock=CLOCKS)
    def submit(self, unit, role, clock):
        covered = self.assessment(unit).submission(self.framework)
        fields = {"digest": submission.digest(covered), "self_total": covered["self_total"]}
        self.send(role, unit, clock, "submit_assessment", **fields)

    @rule(unit=st.sampled_from(UNITS), role=who("commune_chair"), clock=CLOCKS)
    def withdraw(self, unit, role, clock):
        self.send(role, unit, clock, "withdraw_submission", reason="Sửa điểm")

    @rule(
        unit=st.sampled_from(UNITS),
        leaf=st.sampled_from(LEAVES),
        how=st.sampled_from(["adjust_score", "confirm_score", "request_explanation"]),
        role=who("appraiser"),
        clock=CLOCKS,
    )
    def appraise(self, unit, leaf, how, role, clock):
        more = {
            "adjust_score": {"points": "0.25", "reason": "Ban hành chậm"},
            "confirm_score": {},
            "request_explanation": {"question": "Đề nghị bổ sung văn bản."},
        }[how]
        self.send(role, unit, clock, how, leaf=leaf, **more)

    @rule(
        unit=st.sampled_from(UNITS),
        leaf=st.sampled_from(LEAVES),
        revise=st.booleans(),
        role=who("commune_officer"),
        clock=CLOCKS,
    )
    def answer(self, unit, leaf, revise, role, clock):
        more = {"points": "0.5"} if revise else {}
        self.send(role, unit, clock, "answer_explanation", leaf=leaf, answer="Có văn bản", **more)

    @rule(unit=st.sampled_from(UNITS), role=who("commune_chair"), clock=CLOCKS)
    def submit_explanations(self, unit, role, clock):
        self.send(role, unit, clock, "submit_explanations")

    @rule(unit=st.sampled_from(UNITS), role=who("council_chair"), clock=CLOCKS)
    def close_unit(self, unit, role, clock):
        rest = self.assessment(unit).needs_review(self.framework)
        self.send(role, unit, clock, "close_appraisal", confirm=rest)

    @precondition(lambda self: self.steps >= 30)  # else most runs would end at once
    @rule(role=who("council_chair"), clock=CLOCKS)
    def close_cycle(self, role, clock):
        self.send(role, None, clock, "close_appraisal")

    @rule(role=who("council_chair"), clock=CLOCKS, step=st.integers(0, 2))
    def rank(self, role, clock, step):
        """Propose the draft, approve or publish the latest version."""
        if role == "council_chair" and step > 0:
            role = "approver"  # the council proposes; the approver approves and publishes
        found = self.env.app.get(Ranking.create_id(self.cycle), for_update=False)
        if found is None:
            return
        cycle = self.env.app.get(Cycle.create_id(self.cycle), for_update=False)
        if step == 0:
            content = ranking.manifest(
                cycle, found.next_version(), self.framework, self.env.app.assessments(cycle)
            )
            self.send(role, None, clock, "propose_ranking", manifest=content)
        elif found.versions:
            latest = found.versions[-1]
            if step == 1:
                self.send(
                    role,
                    None,
                    clock,
                    "approve_ranking",
                    version=latest["version"],
                    digest=latest["digest"],
                    decision_number="1/QĐ-UBND",
                    decision_date="2025-12-20",
                )
            else:
                self.send(role, None, clock, "publish_ranking", version=latest["version"])

    @precondition(lambda self: self.published)
    @rule(
        unit=st.sampled_from(UNITS),
        leaf=st.sampled_from(LEAVES),
        role=who("appraiser"),
        clock=CLOCKS,
    )
    def correct(self, unit, leaf, role, clock):
        self.counter += 1
        appraiser = self.key("appraiser", "*")
        ev = {"cycle": self.cycle, "unit": unit, "evidence_id": f"kl-{self.counter}"}
        attach = command(
            appraiser, "attach_evidence", **ev, leaves=[leaf], document={"number": "1/KL"}
        )
        self.env.send(attach, appraiser)
        more = {"points": "1", "reason": "Thanh tra", "evidence_ids": [ev["evidence_id"]]}
        self.send(role, unit, clock, "correct_score", leaf=leaf, **more)

    # -- invariants -------------------------------------------------------------------
    @invariant()
    def a_published_version_never_changes(self):
        found = self.env.app.get(Ranking.create_id(self.cycle), for_update=False)
        for v in found.versions if found is not None else ():
            if v["state"] == "published":
                kept = self.published.setdefault(v["version"], v["manifest"])
                assert kept == v["manifest"], f"published version {v['version']} changed"


def _state(a: Assessment) -> dict:
    return {
        "submitted": a.submitted,
        "closed": a.closed,
        "self": {k: dict(v) for k, v in a.self_inputs.items()},
        "evidence": set(a.evidence),
        "appraised": {k: dict(v) for k, v in a.appraised_inputs.items()},
        "flags": set(a.flags),
        "explained": a.explanations_submitted,
    }


def _changed_only_as_allowed(before: dict, a: Assessment, type_: str, mine: bool, role: str):
    after = _state(a)
    if not mine:
        assert after == before, f"{type_} on another unit changed this one"
        return
    if before["submitted"]:
        changed = {k for k in after["self"] if after["self"].get(k) != before["self"].get(k)}
        if type_ == "answer_explanation":
            assert changed <= before["flags"] and not before["explained"], changed
        elif type_ != "withdraw_submission":
            assert not changed, f"{type_} changed a submitted unit's self-scores: {changed}"
        new_evidence = after["evidence"] - before["evidence"]
        if new_evidence and role.startswith("commune"):
            assert before["flags"] and not before["explained"], "commune evidence after submission"
    if before["closed"]:
        changed = {
            k for k in after["appraised"] if after["appraised"][k] != before["appraised"].get(k)
        }
        if type_ != "correct_score":
            assert not changed, f"{type_} changed a closed unit's appraisal: {changed}"


TestSeasonStates = SeasonMachine.TestCase
TestSeasonStates.settings = settings(
    max_examples=20,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
