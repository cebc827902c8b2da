"""One small scoring season, and the five forgeries of issue 7 part 2 committed on it.

The season (in log order, after the genesis): a framework is published; cycle
`c` opens with communes xa-a and xa-b; the admin registers an officer for each
commune, an appraiser for the district and an observer over everything;
xa-a's officer scores leaf 1.1.1 "1", then corrects it to "0.5"; xa-b's
officer scores "0" on every other leaf of xa-a, then 1.1.1 "1", then
corrects it to "0.5"; xa-b's officer scores 1.1.1 "1"; xa-a's chair submits;
the appraiser adjusts xa-a's 1.1.1 to "0.5"; the
admin rotates the observer's key; a checkpoint covers it all.

Each forgery is done by `Operator` (tests/log_operator.py), which leaves the
log self-consistent and re-signed with the real log key, and returns the leaf
indices a verifier must name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from application.audit.bundle import BundleSource, StoreSource, export_bundle
from application.audit.verify import Report, verify
from domain.framework import to_dict
from domain.keys import key_aggregate_id
from interfaces.bundled import load_bundled
from tests.log_operator import Operator
from tests.support import Env, Key, command, new_key, register_command

CYCLE, A, B = "c", "xa-a", "xa-b"


@dataclass
class Season:
    env: Env
    tmp: Path
    officer_a: Key
    officer_b: Key
    appraiser: Key
    observer: Key
    successor: Key  # the observer's key after its rotation
    leaves: dict[str, int] = field(default_factory=dict)

    @property
    def op(self) -> Operator:
        return Operator(self.env)

    def send(self, name: str, signer: Key, type_: str, **fields) -> dict:
        receipt = self.env.send(command(signer, type_, **fields), signer)
        self.leaves[name] = receipt["log_index"]
        return receipt

    def store_report(self) -> Report:
        return verify(StoreSource(self.env.app.tlog), log_key=self.env.log_key, workers=1)

    def bundle_report(self) -> Report:
        path = self.tmp / "audit.jsonl"
        app = self.env.app
        export_bundle(app.tlog, path, log_key=self.env.log_key, origin=app.settings.origin)
        # Default workers: the bundle is checked the way an auditor's command line does.
        return verify(BundleSource(path), log_key=self.env.log_key)


def build_season(env: Env, tmp: Path) -> Season:
    framework = load_bundled("thai-nguyen-2021-commune")
    env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=CYCLE,
            name="Kỳ đánh giá 2025",
            framework=str(framework.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": A, "name": "Xã A"}, {"code": B, "name": "Xã B"}],
        )
    )
    s = Season(
        env,
        tmp,
        officer_a=env.register("commune_officer", f"commune:{A}")[0],
        officer_b=env.register("commune_officer", f"commune:{B}")[0],
        appraiser=env.register("appraiser", "authority:dong-hy")[0],
        observer=env.register("observer", "*")[0],
        successor=new_key(),
    )
    for leaf in framework.leaves[1:]:  # xa-a's other leaves, before its 1.1.1
        zero = command(s.officer_a, "record_self_score", cycle=CYCLE, unit=A, leaf=leaf.code)
        env.send({**zero, "points": "0"}, s.officer_a)
    where = {"cycle": CYCLE, "leaf": "1.1.1"}
    s.send("first_self_a", s.officer_a, "record_self_score", unit=A, points="1", **where)
    s.send("second_self_a", s.officer_a, "record_self_score", unit=A, points="0.5", **where)
    s.send("self_b", s.officer_b, "record_self_score", unit=B, points="1", **where)
    env.submit_unit(A, s.officer_a, cycle=CYCLE)  # appraised after its submission
    s.leaves["submitted_a"] = env.app.tlog.size() - 1
    s.send(
        "appraisal_a",
        s.appraiser,
        "adjust_score",
        unit=A,
        points="0.5",
        reason="Kế hoạch ban hành chậm",
        **where,
    )
    rotation = s.send(
        "rotation",
        env.admin,
        "rotate_key",
        old_key_id=s.observer.key_id,
        key_id=s.successor.key_id,
        public_key=s.successor.public_key,
    )
    registered = str(key_aggregate_id(s.successor.key_id))
    s.leaves["successor_registered"] = next(
        e["leaf_index"] for e in rotation["events"] if e["originator_id"] == registered
    )
    env.checkpoint()
    return s


# -- the five forgeries -------------------------------------------------------------
def copy_appraisal_onto_another_commune(s: Season) -> int:
    """1. xa-a's signed appraisal stored again as xa-b's next event."""
    forged = s.op.append_copy(s.leaves["appraisal_a"], onto=s.op.aggregate_of(s.leaves["self_b"]))
    s.op.reseal()
    return forged


def replay_an_old_self_score(s: Season) -> int:
    """2. xa-a's first self-score ("1") stored again after its correction ("0.5")."""
    forged = s.op.append_copy(s.leaves["first_self_a"])
    s.op.reseal()
    return forged


def add_an_unsigned_not_applicable(s: Season) -> int:
    """3. `not_applicable: true` written into xa-b's self-score, which no one signed."""
    forged = s.leaves["self_b"]
    s.op.rewrite(forged, lambda state: state.update(not_applicable=True))
    s.op.reseal()
    return forged


def promote_a_rotated_key_to_admin(s: Season) -> tuple[int, int]:
    """4. The rotated observer key stored as an admin, then registering a key."""
    rotated = s.leaves["successor_registered"]
    s.op.rewrite(rotated, lambda state: state.update(role="admin"))
    s.op.reseal()
    receipt = s.op.store(s.successor.sign(register_command(s.successor, new_key(), "admin")))
    s.op.reseal()
    return rotated, receipt["log_index"]


def score_outside_the_signers_scope(s: Season) -> int:
    """5. xa-a's officer signs a self-score for xa-b; the operator stores it."""
    cmd = command(s.officer_a, "record_self_score", cycle=CYCLE, unit=B, leaf="1.1.2", points="1")
    forged = s.op.store(s.officer_a.sign(cmd))["log_index"]
    s.op.reseal()
    return forged


def swap_a_score_and_its_correction(s: Season) -> tuple[int, int]:
    """6. xa-a's self-score ("1") and its correction ("0.5") swap places, both
    stamped with the later time (inside both commands' windows): the
    correction is undone with no command copied. Returns the later leaf, and
    the submission and appraisal after it: the refused score moved no state
    (8.2 step 4c), so their versions are one ahead of what replay gives them."""
    first, second = s.leaves["first_self_a"], s.leaves["second_self_a"]
    a, b = s.op.state(first), s.op.state(second)
    a["timestamp"] = b["timestamp"]
    s.op.rewrite(first, lambda state: (state.clear(), state.update(b)))
    s.op.rewrite(second, lambda state: (state.clear(), state.update(a)))
    s.op.reseal()
    return second, s.leaves["submitted_a"], s.leaves["appraisal_a"]


FORGERIES = {
    "copied-appraisal": copy_appraisal_onto_another_commune,
    "replayed-self-score": replay_an_old_self_score,
    "unsigned-not-applicable": add_an_unsigned_not_applicable,
    "rotated-key-promoted": promote_a_rotated_key_to_admin,
    "outside-scope": score_outside_the_signers_scope,
    "score-and-correction-swapped": swap_a_score_and_its_correction,
}
