"""The five forgeries a log operator can commit (issue 7 part 2), and what verify says.

The operator writes the database and holds the log key, so after each forgery
every leaf hash, root and checkpoint signature checks out (tests/log_operator.py).
Each forgery must still be reported, at its leaf, from the store and from an
audit bundle exported from it: the stored event is not what its signed command
yields when applied to the state before it.
"""

from __future__ import annotations

import re

import pytest

from application.audit.verify import Report
from projections.follower import Follower
from projections.queries import Queries
from projections.store import ReadModel
from tests.forgeries import (
    CYCLE,
    FORGERIES,
    A,
    Season,
    add_an_unsigned_not_applicable,
    build_season,
    copy_appraisal_onto_another_commune,
    promote_a_rotated_key_to_admin,
    replay_an_old_self_score,
    score_outside_the_signers_scope,
    swap_a_score_and_its_correction,
)
from tests.log_operator import encode as json_bytes
from tests.support import Env, command, set_event_state

# What verify checked before re-derivation: the log's own bytes and signatures.
# A careful operator passes every one of them.
BYTE_CHECKS = {
    "event_altered",
    "event_missing",
    "event_inserted",
    "event_reordered",
    "event_unreadable",
    "unsigned_event",
    "bad_signature",
    "command_mismatch",
    "unknown_key",
    "key_revoked",
    "bad_genesis",
    "log_truncated",
    "checkpoint_bad_signature",
    "checkpoint_malformed",
    "checkpoint_root_mismatch",
    "checkpoints_inconsistent",
    "bundle_malformed",
}


@pytest.fixture
def season(env: Env, tmp_path) -> Season:
    return build_season(env, tmp_path)


def both(season: Season) -> list[Report]:
    return [season.store_report(), season.bundle_report()]


def found(report: Report) -> list[tuple[str, int | None]]:
    return sorted((f.kind, f.position.get("leaf_index")) for f in report.findings)


def beyond_index(report: Report, leaf: int) -> list[tuple[str, int | None]]:
    """`found`, less the store's command index at `leaf`: a copied command id cannot
    be indexed twice, so a store may also name that leaf `command_index_missing`
    (a bundle carries no index)."""
    return [f for f in found(report) if f != ("command_index_missing", leaf)]


def detail(report: Report, kind: str) -> str:
    return " ".join(f.detail for f in report.findings if f.kind == kind)


# -- the control and the operator's tooling ---------------------------------------------
def test_the_season_without_forgery_verifies_clean_from_the_store_and_a_bundle(season):
    for report in both(season):
        assert report.ok and report.findings == []
        assert report.size == season.env.app.tlog.size()


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_every_forgery_passes_every_check_of_the_logs_own_bytes(season, forge):
    # The tooling is honest: the log is self-consistent after each forgery and a
    # checkpoint signed by the real log key covers the forged leaves, so only a
    # re-derivation of the events from their commands can catch them.
    forge(season)
    latest = season.env.app.tlog.latest_checkpoint()
    for report in both(season):
        assert {f.kind for f in report.findings} & BYTE_CHECKS == set()
        assert latest.size == report.size and report.checkpoints_checked >= 2


def test_a_rewritten_event_is_event_altered_until_the_operator_reseals_the_log(season):
    leaf = season.leaves["self_b"]
    season.op.rewrite(leaf, lambda state: state.update(not_applicable=True))
    # Unsealed, the changed bytes show; that nobody signed the field shows too.
    assert ("event_altered", leaf) in found(season.store_report())
    assert {at for _kind, at in found(season.store_report())} == {leaf}
    season.op.reseal()
    assert {f.kind for f in season.store_report().findings} & BYTE_CHECKS == set()


def test_a_replayed_self_score_reverts_the_score_readers_see(season, tmp_path):
    # Why forgery 2 matters: the projections follow the log, so the reverted
    # score is what every reader (and `parindex why`) is shown.
    def self_input() -> dict:
        model = ReadModel(tmp_path / f"read-{season.env.app.tlog.size()}.sqlite")
        try:
            Follower(season.env.app, model).catch_up()
            return Queries(model).why(CYCLE, A, "1.1.1")["self"]["input"]
        finally:
            model.close()

    assert self_input() == {"points": "0.5"}
    replay_an_old_self_score(season)
    assert self_input() == {"points": "1"}


# -- the five forgeries ----------------------------------------------------------------
def test_a_signed_appraisal_copied_onto_another_communes_assessment_is_wrong_aggregate(season):
    forged = copy_appraisal_onto_another_commune(season)
    for report in both(season):
        assert not report.ok
        # The copy is also the second appearance of that command id: reporting
        # it as replayed too, at the same leaf, is true and allowed.
        assert beyond_index(report, forged) in (
            [("wrong_aggregate", forged)],
            [("command_replayed", forged), ("wrong_aggregate", forged)],
        )


def test_an_old_self_score_appended_again_is_command_replayed_naming_the_first(season):
    forged = replay_an_old_self_score(season)
    first = season.leaves["first_self_a"]
    for report in both(season):
        assert not report.ok
        # Replayed after the submission, the lock refuses it (3.6, Submission);
        # the swap below shows the signed-order rule.
        assert beyond_index(report, forged) == [
            ("command_replayed", forged),
            ("event_not_derived", forged),
        ]
        assert re.search(rf"\b{first}\b", detail(report, "command_replayed"))
        assert "assessment_submitted" in detail(report, "event_not_derived")


def test_a_not_applicable_no_one_signed_is_event_not_derived_naming_the_field(season):
    forged = add_an_unsigned_not_applicable(season)
    for report in both(season):
        assert not report.ok
        assert found(report) == [("event_not_derived", forged)]
        assert "not_applicable" in detail(report, "event_not_derived")


def test_a_rotated_key_stored_as_admin_is_event_not_derived_and_its_acts_not_permitted(season):
    rotated, registration = promote_a_rotated_key_to_admin(season)
    for report in both(season):
        assert not report.ok
        assert found(report) == [("event_not_derived", rotated), ("not_permitted", registration)]
        assert "role" in detail(report, "event_not_derived")


def test_a_self_score_outside_the_signers_scope_is_not_permitted(season):
    forged = score_outside_the_signers_scope(season)
    for report in both(season):
        assert not report.ok
        assert found(report) == [("not_permitted", forged)]


def test_a_score_and_its_correction_swapped_is_event_not_derived_at_the_later_leaf(
    season, tmp_path
):
    # Both events are exactly what their commands yield on the state before
    # them, except that the older-signed score now comes after the newer one.
    later, submitted, appraisal = swap_a_score_and_its_correction(season)
    for report in both(season):
        # The refused score moves no state, so the submission and appraisal
        # after it on that assessment are a version ahead: reported too.
        assert found(report) == [
            ("event_not_derived", later),
            ("event_not_derived", submitted),
            ("event_not_derived", appraisal),
        ]
        assert "signed_out_of_order" in detail(report, "event_not_derived")


@pytest.mark.parametrize(
    "encode", [lambda raw: b"\xef\xbb\xbf" + raw, lambda raw: raw.decode().encode("utf-16")]
)
def test_an_event_re_encoded_with_a_byte_order_mark_or_as_utf16_is_unreadable(season, encode):
    # Same JSON to a lenient parser, but the server can no longer read that
    # assessment: every later command on it and the read model would stop.
    leaf = season.leaves["second_self_a"]
    state = season.op.state(leaf)
    set_event_state(season.env.app, leaf, encode(json_bytes(state)))
    season.op.reseal()
    for report in both(season):
        assert ("event_unreadable", leaf) in found(report)


# -- sanity: what verify caught before re-derivation it still catches -----------------
def test_an_adjustment_stored_for_a_role_without_the_right_is_still_not_permitted(season):
    officer = season.officer_a
    cmd = command(
        officer,
        "adjust_score",
        cycle=CYCLE,
        unit=A,
        leaf="1.1.1",
        points="1",
        reason="Tự nâng điểm",
    )
    forged = season.op.store(officer.sign(cmd))["log_index"]
    season.op.reseal()
    for report in both(season):
        assert found(report) == [("not_permitted", forged)]
