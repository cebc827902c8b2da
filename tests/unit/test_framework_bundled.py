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
V2 = "thai-nguyen-2021-commune-v2"
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
    assert set(BUNDLED) == {NAME, V2}


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


def test_version_2_reads_neu_co_as_the_decision_words_it(framework):
    """1.8.1, 1.8.2 and 8.5.1: "(nếu có)" follows a noun phrase (the satisfaction
    index; markets and slaughter points), so the leaf is always assessed; 8.5.2
    is left open by the text and stays optional, with a note saying so."""
    v2 = load_bundled(V2)
    assert str(v2.id) == "thai-nguyen-2021-commune@2"
    assert v2.meta.supersedes == str(framework.id)
    assert {leaf.code for leaf in v2.leaves if leaf.rule.optional} == {"8.5.2"}
    for code in ("1.8.1", "1.8.2", "8.5.1", "8.5.2"):
        assert "bản 1" in v2.node(code).note or "Hội đồng" in v2.node(code).note
    # The same table otherwise: codes, titles and maxima.
    assert [(n.code, n.title, n.max_points) for n in v2.nodes] == [
        (n.code, n.title, n.max_points) for n in framework.nodes
    ]
    with pytest.raises(DomainError) as e:
        compute(
            v2,
            {
                leaf.code: LeafInput(
                    not_applicable=leaf.code == "1.8.1",
                    points=None if leaf.code == "1.8.1" else leaf.max_points,
                )
                for leaf in v2.leaves
            },
        )
    assert "not_applicable_not_allowed" in {p.code for p in e.value.problems}


def test_installing_version_2_publishes_the_version_it_supersedes_first(tmp_path, capsys):
    from application.deployment import init_deployment, open_app
    from interfaces.cli.main import main

    data = tmp_path / "data"
    init_deployment(data, admin_key_path=tmp_path / "admin.key")
    where = ["--data-dir", str(data), "--admin-key", str(tmp_path / "admin.key")]
    assert main(["framework", "install", V2, *where]) == 0
    with open_app(data) as app:
        assert app.framework("thai-nguyen-2021-commune@1") is not None
        assert app.framework("thai-nguyen-2021-commune@2").meta.supersedes == (
            "thai-nguyen-2021-commune@1"
        )
    assert main(["framework", "install", V2, *where]) == 1  # published once, never changed
    assert "framework_exists" in capsys.readouterr().err
