"""Every scoring rule at its edges: exact points, clear errors, an explanation."""

from decimal import Decimal as D

import pytest

from domain.errors import ValidationFailed
from domain.framework import LeafInput, NaPolicy, RatioBand, Rule, RuleKind, score

MANUAL = Rule(RuleKind.MANUAL)
QUARTERS = Rule(RuleKind.MANUAL, step=D("0.25"))
YES_NO = Rule(RuleKind.YES_NO)
PROPORTIONAL = Rule(RuleKind.RATIO_PROPORTIONAL)
BANDS = Rule(
    RuleKind.RATIO_BANDS, bands=(RatioBand(D("100"), D("1")), RatioBand(D("80"), D("0.5")))
)


def refused(rule: Rule, max_points: str, given: LeafInput) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        score(rule, D(max_points), given, "1.1")
    assert all(p.field == "1.1" for p in caught.value.problems)
    return [p.code for p in caught.value.problems]


# manual


@pytest.mark.parametrize("points", ["0", "0.5", "1", "0.8791"])
def test_manual_points_between_zero_and_max_are_kept_exactly(points):
    result = score(MANUAL, D("1"), LeafInput(points=D(points)))
    assert result.points == D(points)
    assert result.explanation["rule"] == "manual"
    assert result.explanation["inputs"] == {"points": str(D(points).normalize())}


def test_manual_points_above_max_are_an_error_not_a_clamp():
    assert refused(MANUAL, "1", LeafInput(points=D("1.0001"))) == ["points_above_max"]


def test_negative_manual_points_are_an_error():
    assert refused(MANUAL, "1", LeafInput(points=D("-0.25"))) == ["negative_points"]


def test_manual_points_with_five_decimal_places_are_an_error():
    assert refused(MANUAL, "1", LeafInput(points=D("0.12345"))) == ["too_many_decimals"]


def test_manual_points_on_the_step_are_accepted():
    assert score(QUARTERS, D("1"), LeafInput(points=D("0.75"))).points == D("0.75")
    assert score(QUARTERS, D("1"), LeafInput(points=D("0"))).points == 0


def test_manual_points_off_the_step_are_an_error():
    assert refused(QUARTERS, "1", LeafInput(points=D("0.3"))) == ["points_off_step"]


def test_the_maximum_is_always_reachable_even_when_off_the_step():
    assert score(Rule(step=D("0.5")), D("1.25"), LeafInput(points=D("1.25"))).points == D("1.25")


def test_a_rule_without_its_input_is_an_error():
    assert refused(MANUAL, "1", LeafInput()) == ["missing_input"]


def test_inputs_another_rule_would_use_are_an_error():
    assert refused(MANUAL, "1", LeafInput(points=D("1"), done=True)) == ["unexpected_input"]


# yes / no


def test_done_gives_the_maximum():
    result = score(YES_NO, D("0.5"), LeafInput.yes())
    assert result.points == D("0.5")
    assert result.explanation["inputs"] == {"done": "true"}


def test_not_done_gives_zero():
    assert score(YES_NO, D("0.5"), LeafInput.no()).points == 0


def test_yes_no_without_an_answer_is_an_error():
    assert refused(YES_NO, "1", LeafInput(points=D("1"))) == ["missing_input", "unexpected_input"]


# ratio, proportional


def test_a_proportional_ratio_gives_max_times_ratio():
    result = score(PROPORTIONAL, D("3"), LeafInput.ratio(978, 1000))
    assert result.points == D("2.934")
    assert result.explanation["ratio_percent"] == "97.8"
    assert result.explanation["inputs"] == {"numerator": "978", "denominator": "1000"}


def test_a_proportional_ratio_of_zero_gives_zero():
    assert score(PROPORTIONAL, D("3"), LeafInput.ratio(0, 1000)).points == 0


def test_a_full_ratio_gives_exactly_the_maximum_and_never_more():
    assert score(PROPORTIONAL, D("0.3333"), LeafInput.ratio(7, 7)).points == D("0.3333")


def test_a_proportional_ratio_rounds_half_up_at_the_fourth_place():
    result = score(PROPORTIONAL, D("1"), LeafInput.ratio(12345, 100000))
    assert result.points == D("0.1235")  # banker's rounding would give 0.1234
    assert result.explanation["unrounded"] == "0.12345"
    assert score(PROPORTIONAL, D("1"), LeafInput.ratio(1234499, 10000000)).points == D("0.1234")


def test_a_proportional_ratio_with_a_repeating_decimal_rounds_to_four_places():
    assert score(PROPORTIONAL, D("1"), LeafInput.ratio(2, 3)).points == D("0.6667")


def test_a_denominator_of_zero_is_an_error():
    assert refused(PROPORTIONAL, "1", LeafInput.ratio(0, 0)) == ["denominator_zero"]


def test_a_numerator_above_its_denominator_is_an_error():
    assert refused(PROPORTIONAL, "1", LeafInput.ratio(1001, 1000)) == [
        "numerator_above_denominator"
    ]


def test_negative_figures_are_an_error():
    assert refused(PROPORTIONAL, "1", LeafInput.ratio(-1, 10)) == ["negative_input"]


def test_a_ratio_needs_both_figures():
    assert refused(PROPORTIONAL, "1", LeafInput(numerator=D(1))) == ["missing_input"]


# ratio, by bands


@pytest.mark.parametrize(
    ("numerator", "denominator", "points"),
    [
        (10, 10, "1"),  # 100 %: full
        (8, 10, "0.5"),  # exactly 80 %: half
        (99, 100, "0.5"),
        (7999, 10000, "0"),  # 79.99 %: below every band
        (0, 5, "0"),
    ],
)
def test_ratio_bands_give_the_points_of_the_highest_band_reached(numerator, denominator, points):
    result = score(BANDS, D("1"), LeafInput.ratio(numerator, denominator))
    assert result.points == D(points)


def test_band_thresholds_are_compared_exactly_without_rounding():
    # 2/3 = 66.666...%: a 66.67 % band is not reached, a 66.66 % band is
    rule = Rule(
        RuleKind.RATIO_BANDS, bands=(RatioBand(D("66.67"), D("1")), RatioBand(D("66.66"), D("0.5")))
    )
    assert score(rule, D("1"), LeafInput.ratio(2, 3)).points == D("0.5")


def test_the_band_reached_is_in_the_explanation():
    result = score(BANDS, D("1"), LeafInput.ratio(85, 100))
    assert result.explanation["band"] == "80"
    assert "80%" in result.explanation["vi"]


def test_ratio_bands_with_a_zero_denominator_are_an_error():
    assert refused(BANDS, "1", LeafInput.ratio(0, 0)) == ["denominator_zero"]


# optional ("nếu có") leaves


def test_not_applicable_with_full_points_gives_the_maximum():
    rule = Rule(RuleKind.MANUAL, na_policy=NaPolicy.FULL_POINTS)
    result = score(rule, D("0.5"), LeafInput(not_applicable=True))
    assert result.points == D("0.5") and not result.excluded
    assert result.explanation["not_applicable"] == "full_points"
    assert "vẫn được tính điểm" in result.explanation["vi"]


def test_not_applicable_with_excluded_leaves_the_leaf_out():
    rule = Rule(RuleKind.YES_NO, na_policy=NaPolicy.EXCLUDED)
    result = score(rule, D("0.5"), LeafInput(not_applicable=True))
    assert result.points == 0 and result.excluded
    assert result.explanation["not_applicable"] == "excluded"


def test_an_optional_leaf_that_did_occur_is_scored_by_its_rule():
    rule = Rule(RuleKind.YES_NO, na_policy=NaPolicy.EXCLUDED)
    assert score(rule, D("0.5"), LeafInput.no()).points == 0


def test_a_leaf_that_is_not_optional_cannot_be_not_applicable():
    assert refused(MANUAL, "1", LeafInput(not_applicable=True)) == ["not_applicable_not_allowed"]


def test_not_applicable_with_points_as_well_is_an_error():
    rule = Rule(na_policy=NaPolicy.FULL_POINTS)
    assert refused(rule, "1", LeafInput(points=D("1"), not_applicable=True)) == ["unexpected_input"]


def test_rules_describe_themselves_for_listings():
    rule = Rule(
        RuleKind.RATIO_BANDS,
        bands=BANDS.bands,
        gated_by=("1.2", "1.1"),
        na_policy=NaPolicy.EXCLUDED,
    )
    assert rule.describe() == (
        "ratio_bands, bands 100%:1;80%:0.5, gated by 1.1,1.2, optional excluded"
    )
