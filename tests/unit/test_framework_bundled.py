"""The bundled Thái Nguyên 2021 commune framework (Decision 4203/QĐ-UBND)."""

import csv
from decimal import Decimal as D

import pytest

from domain.errors import DomainError
from domain.framework import LeafInput, NaPolicy, RuleKind, compute, content_digest, to_dict
from interfaces.bundled import BUNDLED, bundled_framework_path, load_bundled
from interfaces.framework_io.check import check_table
from interfaces.framework_io.exporter import export
from interfaces.framework_io.importer import parse_table

NAME = "thai-nguyen-2021-commune"
OPTIONAL_ITEMS = {"1.8": ("1.8.1", "1.8.2"), "8.5.1": ("8.5.1",), "8.5.2": ("8.5.2",)}


@pytest.fixture(scope="module")
def framework():
    return load_bundled(NAME)


def test_the_bundled_file_ships_beside_the_package_with_155_rows():
    path = bundled_framework_path(NAME)
    with path.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 155


def test_the_bundled_table_has_8_areas_119_leaves_and_100_points(framework):
    assert len(framework.nodes) == 155
    assert len(framework.areas) == 8
    assert len(framework.leaves) == 119
    assert framework.max_total == D("100")
    assert [a.label for a in framework.areas] == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
    assert [a.max_points for a in framework.areas] == [D(n) for n in (10, 7, 20, 20, 10, 5, 12, 16)]


def test_the_bundled_metadata_names_decision_4203(framework):
    meta = framework.meta
    assert str(framework.id) == "thai-nguyen-2021-commune@1"
    assert meta.name == "Bộ tiêu chí Chỉ số CCHC cấp xã tỉnh Thái Nguyên 2021"
    assert meta.jurisdiction == "Thái Nguyên" and meta.level.value == "commune"
    assert meta.year == 2021 and meta.source == "Quyết định 4203/QĐ-UBND ngày 30/12/2021"
    assert meta.bands.classify(D("90")).code == "xuat_sac"
    assert set(BUNDLED) == {NAME}


def test_the_three_items_marked_neu_co_are_optional_with_full_points(framework):
    for item, leaves in OPTIONAL_ITEMS.items():
        assert framework.leaves_under(item) == tuple(framework.node(c) for c in leaves)
        assert "(nếu có)" in framework.node(item).title
        for code in leaves:
            assert framework.node(code).rule.na_policy is NaPolicy.FULL_POINTS
    optional = {leaf.code for leaf in framework.leaves if leaf.rule.optional}
    assert optional == {"1.8.1", "1.8.2", "8.5.1", "8.5.2"}


def test_every_other_leaf_is_scored_manually(framework):
    assert {leaf.rule.kind for leaf in framework.leaves} == {RuleKind.MANUAL}
    assert all(not leaf.rule.gated_by for leaf in framework.leaves)


def test_full_marks_with_the_optional_items_not_applicable_still_reach_100(framework):
    given = {leaf.code: LeafInput(points=leaf.max_points) for leaf in framework.leaves}
    for code in ("1.8.1", "1.8.2", "8.5.1", "8.5.2"):
        given[code] = LeafInput(not_applicable=True)
    result = compute(framework, given)
    assert result.total == D("100") and result.index == D("100")
    assert result.band.code == "xuat_sac"


def test_titles_are_stored_in_nfc(framework):
    import unicodedata

    assert all(unicodedata.is_normalized("NFC", n.title) for n in framework.nodes)


def test_checking_the_bundled_file_finds_nothing_to_report():
    report = check_table(bundled_framework_path(NAME))
    assert report.leaves == 119 and report.max_total == D("100")
    assert report.mismatches == () and report.warnings == ()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_bundled_framework_exports_and_imports_back_identical(framework, tmp_path, suffix):
    path = export(framework, tmp_path / f"{NAME}{suffix}")
    again = parse_table(path, framework.meta).framework
    assert to_dict(again) == to_dict(framework)
    assert content_digest(again) == content_digest(framework)


def test_an_unknown_bundled_name_is_a_not_found_error():
    with pytest.raises(DomainError) as caught:
        bundled_framework_path("ha-noi-2030-commune")
    assert caught.value.code == "unknown_bundled_framework" and caught.value.status == 404
