"""Computing a unit's scores: leaves, gates, parents, totals, index and band."""

from decimal import Decimal as D
from decimal import localcontext

import pytest

from domain.errors import ValidationFailed
from domain.framework import (
    Framework,
    FrameworkMeta,
    LeafInput,
    Level,
    NaPolicy,
    Node,
    RatioBand,
    Rule,
    RuleKind,
    compute,
    rollup,
)

META = FrameworkMeta(name="Bộ thử", jurisdiction="Tỉnh Thử", level=Level.COMMUNE, year=2024)


def framework() -> Framework:
    """Two areas, 10 points: plan (gate) -> result, report by ratio, optional items."""
    return Framework.build(
        META,
        [
            Node("1", "Chỉ đạo", D("6")),
            Node("1.1", "Kế hoạch", D("2")),
            Node("1.1.1", "Ban hành kế hoạch", D("1"), rule=Rule(RuleKind.YES_NO)),
            Node(
                "1.1.2",
                "Kết quả thực hiện",
                D("1"),
                rule=Rule(RuleKind.MANUAL, step=D("0.25"), gated_by=("1.1.1",)),
            ),
            Node("1.2", "Hồ sơ đúng hạn", D("3"), rule=Rule(RuleKind.RATIO_PROPORTIONAL)),
            Node("1.3", "Báo cáo (nếu có)", D("1"), rule=Rule(na_policy=NaPolicy.FULL_POINTS)),
            Node("2", "Kinh tế", D("4")),
            Node(
                "2.1",
                "Thu ngân sách",
                D("2"),
                rule=Rule(
                    RuleKind.RATIO_BANDS,
                    bands=(RatioBand(D("100"), D("2")), RatioBand(D("80"), D("1"))),
                ),
            ),
            Node(
                "2.2",
                "Giải phóng mặt bằng (nếu có)",
                D("2"),
                rule=Rule(na_policy=NaPolicy.EXCLUDED),
            ),
        ],
    )


def inputs(**changes: LeafInput) -> dict[str, LeafInput]:
    base = {
        "1.1.1": LeafInput.yes(),
        "1.1.2": LeafInput(points=D("0.75")),
        "1.2": LeafInput.ratio(978, 1000),
        "1.3": LeafInput(points=D("1")),
        "2.1": LeafInput.ratio(9, 10),
        "2.2": LeafInput(points=D("1.5")),
    }
    base.update({k.replace("_", "."): v for k, v in changes.items()})
    return base


def test_totals_parents_and_areas_are_summed_from_the_leaves():
    result = compute(framework(), inputs())
    assert result.node("1.1").score == D("1.75")
    assert result.node("1.2").score == D("2.934")
    assert result.node("1").score == D("5.684")
    assert result.node("2").score == D("2.5")
    assert result.total == D("8.184") == sum(a.score for a in result.areas)
    assert result.max_total == D("10") == result.applicable_max


def test_percentage_and_points_lost_are_given_per_node():
    result = compute(framework(), inputs())
    node = result.node("1.1")
    assert node.percentage == D("87.5")
    assert node.points_lost == D("0.25")
    assert result.node("2.1").points_lost == D("1")
    assert result.points_lost == D("1.816")


def test_the_index_is_the_total_over_the_applicable_maximum_and_picks_the_band():
    result = compute(framework(), inputs())
    assert result.index == D("81.84")
    assert result.band is not None and result.band.code == "tot"


def test_a_closed_gate_forces_its_leaf_to_zero_and_says_which_gate():
    result = compute(framework(), inputs(**{"1_1_1": LeafInput.no()}))
    assert result.node("1.1.2").score == 0
    gate = result.explanations["1.1.2"]["gate"]
    assert gate == {"gated_by": ["1.1.1"], "closed_by": ["1.1.1"], "points_before_gate": "0.75"}
    assert "1.1.1" in result.explanations["1.1.2"]["vi"]


def test_an_open_gate_leaves_the_points_and_records_the_check():
    result = compute(framework(), inputs())
    assert result.node("1.1.2").score == D("0.75")
    assert result.explanations["1.1.2"]["gate"]["closed_by"] == []


def test_gates_chain_through_a_gated_leaf():
    fw = Framework.build(
        META,
        [
            Node("1", "A", D("3")),
            Node("1.1", "a", D("1"), rule=Rule(RuleKind.YES_NO)),
            Node("1.2", "b", D("1"), rule=Rule(gated_by=("1.1",))),
            Node("1.3", "c", D("1"), rule=Rule(gated_by=("1.2",))),
        ],
    )
    given = {
        "1.1": LeafInput.no(),
        "1.2": LeafInput(points=D("1")),
        "1.3": LeafInput(points=D("1")),
    }
    result = compute(fw, given)
    assert result.total == 0
    assert result.explanations["1.3"]["gate"]["closed_by"] == ["1.2"]


def test_a_gate_left_out_as_not_applicable_does_not_close():
    fw = Framework.build(
        META,
        [
            Node("1", "A", D("2")),
            Node("1.1", "a", D("1"), rule=Rule(na_policy=NaPolicy.EXCLUDED)),
            Node("1.2", "b", D("1"), rule=Rule(gated_by=("1.1",))),
        ],
    )
    result = compute(fw, {"1.1": LeafInput(not_applicable=True), "1.2": LeafInput(points=D("1"))})
    assert result.node("1.2").score == D("1")


def test_not_applicable_with_full_points_counts_the_maximum():
    result = compute(framework(), inputs(**{"1_3": LeafInput(not_applicable=True)}))
    assert result.node("1.3").score == D("1")
    assert result.applicable_max == D("10")


def test_excluded_items_shrink_the_applicable_maximum_of_the_leaf_and_its_ancestors():
    result = compute(framework(), inputs(**{"2_2": LeafInput(not_applicable=True)}))
    assert result.node("2.2").applicable_max == 0 and result.node("2.2").excluded
    assert result.node("2.2").percentage is None and result.node("2.2").points_lost == 0
    assert result.node("2").applicable_max == D("2")
    assert result.node("2").max_points == D("4")
    assert result.applicable_max == D("8")
    assert result.total == D("6.684")
    assert result.index == D("83.55")  # 6.684 / 8 x 100


def test_excluding_everything_leaves_no_index():
    fw = Framework.build(META, [Node("1", "A", D("1"), rule=Rule(na_policy=NaPolicy.EXCLUDED))])
    result = compute(fw, {"1": LeafInput(not_applicable=True)})
    assert result.applicable_max == 0 and result.index is None and result.band is None


def test_full_marks_reach_the_top_band_and_zero_the_bottom():
    fw = framework()
    full = {
        leaf.code: LeafInput(points=leaf.max_points)
        for leaf in fw.leaves
        if leaf.rule.kind is RuleKind.MANUAL
    }
    full.update(
        {"1.1.1": LeafInput.yes(), "1.2": LeafInput.ratio(1, 1), "2.1": LeafInput.ratio(1, 1)}
    )
    assert compute(fw, full).index == 100
    assert compute(fw, full).band.code == "xuat_sac"
    zero = {
        k: (
            LeafInput.no()
            if k == "1.1.1"
            else LeafInput.ratio(0, 1)
            if k in ("1.2", "2.1")
            else LeafInput(points=D(0))
        )
        for k in full
    }
    assert compute(fw, zero).total == 0 and compute(fw, zero).band.code == "yeu"


def test_totals_keep_full_precision_and_never_round_before_summing():
    fw = Framework.build(
        META, [Node("1", "A", D("3"))] + [Node(f"1.{i}", "x", D("1")) for i in range(1, 4)]
    )
    result = compute(fw, {f"1.{i}": LeafInput(points=D("0.3335")) for i in range(1, 4)})
    assert result.total == D("1.0005")  # rounding each to 0.33 first would give 0.99


def test_results_do_not_depend_on_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        result = compute(framework(), inputs())
    assert result.total == D("8.184") and result.index == D("81.84")


def test_every_input_fault_is_listed_at_once():
    given = inputs(**{"1_1_2": LeafInput(points=D("0.3")), "1_2": LeafInput.ratio(1, 0)})
    del given["2.1"]
    given["1.1"] = LeafInput(points=D("1"))
    with pytest.raises(ValidationFailed) as caught:
        compute(framework(), given)
    assert sorted((p.field, p.code) for p in caught.value.problems) == [
        ("1.1", "unknown_leaf"),
        ("1.1.2", "points_off_step"),
        ("1.2", "denominator_zero"),
        ("2.1", "missing_input"),
    ]


def test_missing_inputs_may_be_allowed_for_a_draft_and_score_zero():
    result = compute(framework(), {"1.1.1": LeafInput.yes()}, allow_missing=True)
    assert result.total == D("1")
    assert result.explanations["1.2"]["missing"] is True


def test_rollup_sums_given_leaf_points_into_every_parent():
    sums = rollup(framework(), {"1.1.1": D("1"), "1.1.2": D("0.5"), "2.1": D("2")})
    assert sums["1.1"] == D("1.5") and sums["1"] == D("1.5") and sums["2"] == D("2")
