"""The framework model: codes, numbers, invariants, bands, metadata, serialisation."""

from decimal import Decimal as D

import pytest

from domain.errors import DomainError, ValidationFailed
from domain.framework import (
    DECISION_4203,
    Bands,
    Framework,
    FrameworkId,
    FrameworkMeta,
    Level,
    NaPolicy,
    Node,
    RatioBand,
    Rule,
    RuleKind,
    content_digest,
    from_dict,
    to_dict,
)
from domain.framework.codes import int_to_roman, normalise_code, roman_to_int
from domain.framework.decimals import display, parse_decimal
from domain.framework.serialize import canonical_json

META = FrameworkMeta(name="Bộ thử", jurisdiction="Tỉnh Thử", level=Level.COMMUNE, year=2024)


def small_tree(**overrides: Node) -> list[Node]:
    nodes = {
        "1": Node("1", "Lĩnh vực một", D("1.5")),
        "1.1": Node("1.1", "Tiêu chí", D("1")),
        "1.1.1": Node("1.1.1", "Thành phần a", D("0.75")),
        "1.1.2": Node("1.1.2", "Thành phần b", D("0.25")),
        "1.2": Node("1.2", "Tiêu chí lá", D("0.5")),
        "2": Node("2", "Lĩnh vực hai", D("2")),
    }
    nodes.update(overrides)
    return list(nodes.values())


def codes_of(error: ValidationFailed) -> list[str]:
    return [p.code for p in error.problems]


# codes and numbers


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1", "1"),
        ("1.", "1"),
        (" 1.1. ", "1.1"),
        ("II", "2"),
        ("VIII", "8"),
        ("II.", "2"),
        ("IV.2", "4.2"),
        ("01.02", "1.2"),
        ("7.2.4.1", "7.2.4.1"),
    ],
)
def test_messy_codes_are_normalised_to_one_dotted_form(raw, code):
    assert normalise_code(raw) == code


@pytest.mark.parametrize("raw", ["", ".", "1.a", "0", "1..2", "IIII", "1.II", "a", "x", "iv"])
def test_malformed_codes_are_refused_with_invalid_code(raw):
    with pytest.raises(DomainError) as caught:
        normalise_code(raw)
    assert caught.value.code == "invalid_code"


def test_roman_numerals_round_trip_for_every_area_number():
    for n in range(1, 40):
        assert roman_to_int(int_to_roman(n)) == n


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0,5", D("0.5")),
        ("0.5", D("0.5")),
        ("10", D("10")),
        (" 1,25 ", D("1.25")),
        ("0.8791", D("0.8791")),
        ("0.50000", D("0.5")),
        (",5", D("0.5")),
    ],
)
def test_decimals_accept_commas_and_points(text, value):
    assert parse_decimal(text) == value


def test_more_than_four_decimal_places_is_an_error():
    with pytest.raises(DomainError) as caught:
        parse_decimal("0.12345")
    assert caught.value.code == "too_many_decimals"


@pytest.mark.parametrize("text", ["", "abc", "1,000.5", "1e3", "1 0", "NaN"])
def test_text_that_is_not_a_number_is_an_error(text):
    with pytest.raises(DomainError) as caught:
        parse_decimal(text)
    assert caught.value.code == "not_a_number"


def test_floats_are_never_accepted_as_numbers():
    with pytest.raises(TypeError):
        parse_decimal(0.5)  # type: ignore[arg-type]


def test_display_rounds_half_up_to_two_places_for_printing_only():
    assert display(D("2.935")) == "2.94"
    assert display(D("2.925")) == "2.93"
    assert display(D("100")) == "100.00"


# the tree


def test_build_orders_nodes_as_the_table_does_with_ten_after_nine():
    nodes = [Node("1", "A", D("2")), Node("1.10", "j", D("1")), Node("1.9", "i", D("1"))]
    framework = Framework.build(META, nodes)
    assert [n.code for n in framework.nodes] == ["1", "1.9", "1.10"]


def test_tree_queries_give_leaves_areas_children_and_ancestors():
    framework = Framework.build(META, small_tree())
    assert [a.code for a in framework.areas] == ["1", "2"]
    assert [n.code for n in framework.leaves] == ["1.1.1", "1.1.2", "1.2", "2"]
    assert [n.code for n in framework.children("1")] == ["1.1", "1.2"]
    assert framework.ancestors("1.1.2") == ("1.1", "1")
    assert [n.code for n in framework.leaves_under("1")] == ["1.1.1", "1.1.2", "1.2"]
    assert framework.max_total == D("3.5")
    assert framework.node("1.1").title == "Tiêu chí"


def test_leaves_without_a_rule_are_scored_manually_and_parents_carry_none():
    framework = Framework.build(META, small_tree())
    assert framework.node("1.2").rule == Rule(RuleKind.MANUAL)
    assert framework.node("1.1").rule is None


def test_missing_labels_print_roman_numerals_for_areas_and_codes_below():
    framework = Framework.build(META, small_tree())
    assert framework.node("2").label == "II"
    assert framework.node("1.1.1").label == "1.1.1"


def test_unknown_code_lookup_is_a_domain_error():
    framework = Framework.build(META, small_tree())
    with pytest.raises(DomainError):
        framework.node("9.9")


def test_duplicate_codes_are_reported_at_the_second_row():
    nodes = [*small_tree(), Node("1.2", "again", D("0"))]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes, rows=[2, 3, 4, 5, 6, 7, 8])
    dup = [p for p in caught.value.problems if p.code == "duplicate_code"]
    assert [(p.row, p.column, p.field) for p in dup] == [(8, "code", "1.2")]


def test_a_code_without_its_parent_is_reported():
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, [*small_tree(), Node("3.1", "orphan", D("1"))])
    assert codes_of(caught.value) == ["parent_missing"]
    assert caught.value.problems[0].field == "3.1"


def test_a_parent_whose_maximum_is_not_the_exact_sum_of_its_children_is_reported():
    nodes = small_tree(**{"1.1": Node("1.1", "Tiêu chí", D("1.0001"))})
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    problems = {p.field: p for p in caught.value.problems}
    assert problems["1.1"].code == "parent_sum_mismatch"
    assert "1.0001" in problems["1.1"].message_vi and "1" in problems["1.1"].message_en
    assert problems["1"].code == "parent_sum_mismatch"  # 1.0001 + 0.5 != 1.5


def test_negative_maxima_are_reported():
    nodes = [Node("1", "A", D("0")), Node("1.1", "a", D("1")), Node("1.2", "b", D("-1"))]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    assert codes_of(caught.value) == ["negative_max"]


def test_maxima_with_five_places_or_that_are_not_numbers_are_reported():
    nodes = [Node("1", "A", D("0.12345")), Node("2", "B", D("NaN"))]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    assert codes_of(caught.value) == ["too_many_decimals", "not_a_number"]


def test_a_zero_maximum_is_allowed():
    framework = Framework.build(META, [Node("1", "A", D("0"))])
    assert framework.max_total == 0


def test_an_empty_framework_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, [])
    assert codes_of(caught.value) == ["empty_framework"]


def test_every_invariant_problem_is_listed_at_once():
    nodes = [
        Node("1", "A", D("5")),
        Node("1.1", "", D("1")),
        Node("1.1", "dup", D("1")),
        Node("2.1", "orphan", D("1")),
        Node("1.2", "neg", D("-1")),
        Node("1.x", "bad", D("1")),
    ]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    assert set(codes_of(caught.value)) == {
        "missing_title",
        "duplicate_code",
        "parent_missing",
        "negative_max",
        "parent_sum_mismatch",
        "invalid_code",
    }


def test_rule_parameters_are_checked_against_their_leaf():
    nodes = [
        Node("1", "A", D("4")),
        Node("1.1", "a", D("1"), rule=Rule(RuleKind.YES_NO, step=D("0.5"))),
        Node("1.2", "b", D("1"), rule=Rule(RuleKind.RATIO_BANDS)),
        Node(
            "1.3",
            "c",
            D("1"),
            rule=Rule(RuleKind.RATIO_BANDS, bands=(RatioBand(D("120"), D("2")),)),
        ),
        Node("1.4", "d", D("1"), rule=Rule(RuleKind.MANUAL, step=D("0"))),
    ]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    by_field = {p.field: p.code for p in caught.value.problems}
    assert by_field == {
        "1.1": "unexpected_rule_parameter",
        "1.2": "missing_ratio_bands",
        "1.3": "invalid_ratio_bands",
        "1.4": "invalid_step",
    }


def test_ratio_bands_must_not_give_fewer_points_for_a_higher_threshold():
    rule = Rule(
        RuleKind.RATIO_BANDS, bands=(RatioBand(D("100"), D("0.5")), RatioBand(D("80"), D("1")))
    )
    assert [p.code for p in rule.problems("1.1", D("1"))] == ["invalid_ratio_bands"]


def test_rules_belong_to_leaves_only():
    nodes = small_tree(**{"1.1": Node("1.1", "Tiêu chí", D("1"), rule=Rule())})
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    assert [(p.code, p.field) for p in caught.value.problems] == [("rule_on_parent", "1.1")]


def test_gates_must_name_existing_leaves_without_cycles():
    nodes = [
        Node("1", "A", D("4")),
        Node("1.1", "a", D("1"), rule=Rule(gated_by=("1.2",))),
        Node("1.2", "b", D("1"), rule=Rule(gated_by=("1.1",))),
        Node("1.3", "c", D("1"), rule=Rule(gated_by=("9.9",))),
        Node("1.4", "d", D("1"), rule=Rule(gated_by=("1",))),
    ]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    assert sorted(codes_of(caught.value)) == ["gate_cycle", "gate_not_leaf", "unknown_gate"]


def test_a_leaf_gating_itself_is_a_cycle():
    nodes = [Node("1", "A", D("1"), rule=Rule(gated_by=("1",)))]
    with pytest.raises(ValidationFailed) as caught:
        Framework.build(META, nodes)
    assert codes_of(caught.value) == ["gate_cycle"]


def test_text_is_stored_in_nfc_with_whitespace_collapsed():
    nfd = "Tie\u0302\u0301u chi\u0301\n  mo\u0323\u0302t"
    framework = Framework.build(META, [Node("1", nfd, D("1"))])
    assert framework.node("1").title == "Tiếu chí một"


# bands


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (D("100"), "xuat_sac"),
        (D("90"), "xuat_sac"),
        (D("89.9999"), "tot"),
        (D("80"), "tot"),
        (D("79.9999"), "kha"),
        (D("70"), "kha"),
        (D("50"), "trung_binh"),
        (D("49.9999"), "yeu"),
        (D("0"), "yeu"),
    ],
)
def test_decision_4203_bands_classify_at_their_edges(value, band):
    assert DECISION_4203.classify(value).code == band


def test_a_framework_may_carry_its_own_bands():
    quang_tri = Bands.parse("tot=80;kha=70;trung_binh=60;thap=0")
    assert quang_tri.classify(D("65")).name_vi == "Trung bình"
    assert quang_tri.classify(D("59.99")).name_en == "Low"
    assert Bands.parse(quang_tri.to_text()) == quang_tri


def test_bands_with_custom_names_parse():
    bands = Bands.parse("a=50:Đạt:Pass;b=0:Chưa đạt:Fail")
    assert bands.classify(D("50")).name_vi == "Đạt"


@pytest.mark.parametrize(
    "text", ["tot=80;kha=70", "tot=80;tot=0", "a=0;b=0", "tot", "x=150;y=0", "Tốt=80;yeu=0"]
)
def test_invalid_bands_are_refused(text):
    with pytest.raises(ValidationFailed) as caught:
        Bands.parse(text)
    assert set(codes_of(caught.value)) == {"invalid_classification_bands"}


# metadata and identity


def test_the_slug_defaults_to_jurisdiction_year_level_without_diacritics():
    meta = FrameworkMeta(name="x", jurisdiction="Thái Nguyên", level=Level.COMMUNE, year=2021)
    assert str(meta.id) == "thai-nguyen-2021-commune@1"
    meta = FrameworkMeta(name="x", jurisdiction="Đắk Lắk", level=Level.PROVINCE, year=2025)
    assert meta.slug == "dak-lak-2025-province"


def test_framework_ids_parse_with_or_without_a_version():
    assert FrameworkId.parse("thai-nguyen-2021-commune@2") == FrameworkId(
        "thai-nguyen-2021-commune", 2
    )
    assert FrameworkId.parse("thai-nguyen-2021-commune").version is None
    with pytest.raises(DomainError) as caught:
        FrameworkId.parse("Thai Nguyen@0")
    assert caught.value.code == "invalid_framework_id"


def test_metadata_from_command_line_strings_reports_every_fault():
    with pytest.raises(ValidationFailed) as caught:
        FrameworkMeta.create(name="", jurisdiction="", level="village", year="20x1", bands="tot=80")
    assert sorted((p.code, p.field) for p in caught.value.problems) == [
        ("invalid_classification_bands", "bands"),
        ("invalid_level", "level"),
        ("invalid_year", "year"),
        ("missing_jurisdiction", "jurisdiction"),
        ("missing_name", "name"),
    ]


def test_metadata_accepts_vietnamese_level_names_and_custom_bands():
    meta = FrameworkMeta.create(
        name="B",
        jurisdiction="Quảng Trị",
        level="Cấp xã",
        year="2017",
        bands="tot=80;kha=70;trung_binh=60;thap=0",
    )
    assert meta.level is Level.COMMUNE and meta.bands.classify(D("60")).code == "trung_binh"


def test_a_new_version_names_the_one_it_supersedes():
    framework = Framework.build(META, small_tree())
    revised = framework.as_version(2, str(framework.id))
    assert str(revised.id) == "tinh-thu-2024-commune@2"
    assert revised.meta.supersedes == "tinh-thu-2024-commune@1"
    assert revised.nodes == framework.nodes


# serialisation


def rich_framework() -> Framework:
    nodes = [
        Node("1", "Lĩnh vực", D("4"), note="ghi chú"),
        Node("1.1", "a", D("1"), rule=Rule(RuleKind.MANUAL, step=D("0.25"))),
        Node("1.2", "b", D("1"), rule=Rule(RuleKind.YES_NO, na_policy=NaPolicy.EXCLUDED)),
        Node("1.3", "c", D("1.0"), rule=Rule(RuleKind.RATIO_PROPORTIONAL, gated_by=("1.2",))),
        Node(
            "1.4",
            "d",
            D("1.00"),
            rule=Rule(
                RuleKind.RATIO_BANDS,
                bands=(
                    RatioBand(D("80"), D("0.5")),
                    RatioBand(D("100"), D("1")),
                    RatioBand(D("0"), D("0")),
                ),
            ),
            label="1.4.",
        ),
    ]
    meta = FrameworkMeta(
        name="Bộ",
        jurisdiction="Tỉnh",
        level=Level.DISTRICT,
        year=2022,
        source="QĐ 1",
        bands=Bands.parse("tot=80;kha=0"),
        version=3,
        supersedes="tinh-2022-district@2",
    )
    return Framework.build(meta, nodes)


def test_serialised_frameworks_round_trip_exactly():
    framework = rich_framework()
    data = to_dict(framework)
    assert from_dict(data) == framework
    assert to_dict(from_dict(data)) == data


def test_serialised_decimals_are_canonical_strings_never_floats():
    data = to_dict(rich_framework())
    node = data["nodes"][3]
    assert node["max_points"] == "1" and isinstance(node["max_points"], str)
    assert data["nodes"][1]["rule"]["step"] == "0.25"
    assert data["nodes"][4]["rule"]["bands"] == [
        {"threshold": "100", "points": "1"},
        {"threshold": "80", "points": "0.5"},
        {"threshold": "0", "points": "0"},
    ]
    assert data["id"] == "tinh-2022-district@3"


def test_the_digest_is_sha256_of_the_rfc8785_canonical_json():
    import hashlib

    framework = rich_framework()
    expected = "sha256:" + hashlib.sha256(canonical_json(framework)).hexdigest()
    assert content_digest(framework) == expected
    assert content_digest(from_dict(to_dict(framework))) == expected


def test_the_digest_changes_when_one_maximum_changes():
    a = Framework.build(META, small_tree())
    b = Framework.build(
        META,
        small_tree(
            **{
                "1.1.1": Node("1.1.1", "Thành phần a", D("0.5")),
                "1.1.2": Node("1.1.2", "Thành phần b", D("0.5")),
            }
        ),
    )
    assert content_digest(a) != content_digest(b)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.update(format="other/1"),
        lambda d: d["nodes"][0].update(max_points=1.5),
        lambda d: d["nodes"][1]["rule"].update(kind="guess"),
        lambda d: d.update(nodes="all"),
        lambda d: d.update(id="else@1"),
    ],
)
def test_malformed_framework_data_is_refused(breakage):
    data = to_dict(rich_framework())
    breakage(data)
    with pytest.raises(ValidationFailed) as caught:
        from_dict(data)
    assert codes_of(caught.value) == ["malformed_framework_data"]


def test_invalid_framework_data_reports_the_broken_invariant():
    data = to_dict(rich_framework())
    data["nodes"][0]["max_points"] = "5"
    with pytest.raises(ValidationFailed) as caught:
        from_dict(data)
    assert codes_of(caught.value) == ["parent_sum_mismatch"]
