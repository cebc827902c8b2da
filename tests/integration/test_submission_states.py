"""Random sequences of season commands on one commune, by the roles that send
them (issue 8, "Tests"): the commune's scores and evidence never change while
it is submitted, a withdrawal reopens it only before appraisal, an appraiser's
work is never blocked by the lock, every refusal writes nothing, and verify
replays the whole log clean at the end."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain import submission
from domain.assessment import Assessment
from domain.errors import DomainError
from tests.support import Written, command, make_env

C, U = "c", "xa-a"
LEAVES = ("1.1.1", "1.1.2", "1.2.1")


class Season(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.env = make_env(Path(self.tmp.name), None)
        self.framework = self.env.open_cycle()
        self.officer = self.env.register("commune_officer", f"commune:{U}")[0]
        self.chair = self.env.register("commune_chair", f"commune:{U}")[0]
        self.appraiser = self.env.register("appraiser", "authority:dong-hy")[0]
        for leaf in self.framework.leaves:
            self._send(self.officer, "record_self_score", leaf=leaf.code, points="0")
        self.submitted = False
        self.appraised_since = False
        self.evidence = 0

    def _send(self, key, type_: str, **fields) -> str | None:
        """Sends; returns the refusal's code (and checks it wrote nothing) or None."""
        before = Written.read(self.env.app)
        try:
            self.env.send(command(key, type_, cycle=C, unit=U, **fields), key)
            return None
        except DomainError as e:
            assert Written.read(self.env.app) == before, f"{type_} refused but wrote"
            return e.code

    def _assessment(self) -> Assessment:
        return self.env.app.get(Assessment.create_id(C, U), for_update=False)

    @rule(leaf=st.sampled_from(LEAVES), points=st.sampled_from(["0", "0.5"]))
    def officer_scores(self, leaf, points):
        inputs = dict(self._assessment().self_inputs)
        code = self._send(self.officer, "record_self_score", leaf=leaf, points=points)
        if self.submitted:
            assert code == "assessment_submitted"
            assert self._assessment().self_inputs == inputs
        else:
            assert code is None

    @rule(by_officer=st.booleans())
    def evidence_is_attached(self, by_officer):
        self.evidence += 1
        key = self.officer if by_officer else self.appraiser
        code = self._send(
            key,
            "attach_evidence",
            evidence_id=f"ev-{self.evidence}",
            leaves=[LEAVES[0]],
            document={"number": f"{self.evidence}/KH-UBND"},
        )
        assert code == ("assessment_submitted" if by_officer and self.submitted else None)

    @rule()
    def chair_submits(self):
        try:
            covered = self._assessment().submission(self.framework)
        except DomainError:
            raise AssertionError("every leaf is scored, so a submission exists") from None
        code = self._send(
            self.chair,
            "submit_assessment",
            digest=submission.digest(covered),
            self_total=covered["self_total"],
        )
        if self.submitted:
            assert code == "assessment_submitted"
        else:
            assert code is None
            self.submitted, self.appraised_since = True, False

    @rule()
    def chair_withdraws(self):
        code = self._send(self.chair, "withdraw_submission", reason="Sửa hồ sơ")
        if not self.submitted:
            assert code == "not_submitted"
        elif self.appraised_since:
            assert code == "appraisal_started"
        else:
            assert code is None
            self.submitted = False

    @rule(leaf=st.sampled_from(LEAVES))
    def appraiser_adjusts(self, leaf):
        code = self._send(
            self.appraiser, "adjust_score", leaf=leaf, points="0", reason="Chưa đủ minh chứng"
        )
        # Nothing is appraised before submission (docs/SEASON.md).
        assert code == (None if self.submitted else "not_submitted")
        if self.submitted:
            self.appraised_since = True

    @invariant()
    def the_aggregate_agrees(self):
        a = self._assessment()
        assert a.submitted == self.submitted
        if self.submitted:
            assert a.appraised_since_submission == self.appraised_since

    def teardown(self):
        try:
            findings = verify(StoreSource(self.env.app.tlog), workers=1).findings
            assert findings == [], findings
        finally:
            self.env.app.close()
            self.tmp.cleanup()


Season.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
test_season_commands_in_any_order = Season.TestCase
