"""One signer's scores of a leaf apply in the order they were signed
(docs/FORMATS.md 3.6, "Signed order"): a stale edit arriving late is refused
with a clear 409 and writes nothing; other leaves and other signers are not
held to each other's order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.errors import CommandRejected
from domain.errors import DomainError
from tests.support import Env, Written, command, timestamp

WHERE = {"cycle": "c", "unit": "xa-a"}


def score(officer, leaf: str, points: str, seconds_ago: int) -> dict:
    return officer.sign(
        command(
            officer,
            "record_self_score",
            issued_at=timestamp(timedelta(seconds=-seconds_ago)),
            leaf=leaf,
            points=points,
            **WHERE,
        )
    )


def test_an_edit_signed_before_the_one_already_applied_is_refused_409(env: Env):
    env.open_cycle()
    officer, _ = env.register("commune_officer", "commune:xa-a")
    stale = score(officer, "1.1.1", "1", seconds_ago=30)  # signed first, delayed
    newer = score(officer, "1.1.1", "0.5", seconds_ago=10)
    env.app.handle(newer)
    before = Written.read(env.app)
    with pytest.raises(DomainError) as refused:
        env.app.handle(stale)
    assert refused.value.code == "signed_out_of_order" and refused.value.status == 409
    assert "1.1.1" in str(refused.value)
    assert Written.read(env.app) == before


def test_other_leaves_and_other_signers_keep_no_order_between_them(env: Env):
    env.open_cycle()
    officer, _ = env.register("commune_officer", "commune:xa-a")
    colleague, _ = env.register("commune_officer", "commune:xa-a")
    env.app.handle(score(officer, "1.1.1", "0.5", seconds_ago=10))
    # An older-signed score of another leaf, and a colleague's older one of the
    # same leaf (their clocks may differ), are both applied.
    env.app.handle(score(officer, "1.1.2", "1", seconds_ago=60))
    receipt = env.app.handle(score(colleague, "1.1.1", "1", seconds_ago=60))
    assert receipt["replayed"] is False


def test_an_appraisers_adjustments_of_a_leaf_keep_their_signed_order_too(env: Env):
    env.open_cycle()
    officer, _ = env.register("commune_officer", "commune:xa-a")
    appraiser, _ = env.register("appraiser", "authority:dong-hy")
    env.app.handle(score(officer, "1.1.1", "1", seconds_ago=120))
    env.submit_unit("xa-a", officer)  # appraised after submission

    def adjust(points: str, seconds_ago: int) -> dict:
        return appraiser.sign(
            command(
                appraiser,
                "adjust_score",
                issued_at=timestamp(timedelta(seconds=-seconds_ago)),
                leaf="1.1.1",
                points=points,
                reason="Kế hoạch ban hành chậm",
                **WHERE,
            )
        )

    env.app.handle(adjust("0.5", seconds_ago=10))
    with pytest.raises((DomainError, CommandRejected)) as refused:
        env.app.handle(adjust("0.75", seconds_ago=20))
    assert refused.value.code == "signed_out_of_order"
