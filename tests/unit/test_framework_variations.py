"""Bonus and penalty areas (docs/FRAMEWORKS.md, "Variations: bonus and penalty
areas"): data on a framework's area rows, never code; capped; outside the
maximum; a total never below 0; read and written by the table files."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from domain.errors import ValidationFailed
from domain.framework import (
    Framework,
    FrameworkMeta,
    LeafInput,
    Level,
    Node,
    compute,
    content_digest,
    from_dict,
    to_dict,
)
from interfaces.bundled import load_bundled
from interfaces.framework_io.check import check_table
from interfaces.framework_io.exporter import export
from interfaces.framework_io.importer import parse_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "FRAMEWORKS.md"
META = FrameworkMeta(
    name="Bộ tiêu chí thử", jurisdiction="Tỉnh thử", level=Level.COMMUNE, year=2024, slug="thu"
)


def _documented(tmp_path: Path) -> Framework:
    section = DOCS.read_text(encoding="utf-8").split("## Variations")[1]
    table = section.split("```text\n")[1].split("```")[0]
    path = tmp_path / "bien-the.csv"
    path.write_text(table, encoding="utf-8")
    return parse_table(path, META).framework


def _points(**by_code: str) -> dict[str, LeafInput]:
    return {code.replace("_", "."): LeafInput(points=D(v)) for code, v in by_code.items()}


def test_the_documented_table_caps_the_bonus_and_the_penalty(tmp_path):
    f = _documented(tmp_path)
    assert f.max_total == 10  # bonus and penalty areas are outside the maximum
    r = compute(f, _points(**{"1_1": "10", "9_1": "2", "9_2": "1", "10_1": "5"}))
    assert r.node("9").score == 2  # 3 earned, capped at 2
    assert r.node("10").score == 3  # 5 deducted, capped at 3
    assert r.total == 9  # 10 + 2 - 3
    assert r.index == 90 and r.applicable_max == 10 and r.points_lost == 1
    assert r.node("9.1").points_lost == 0  # nothing is lost in a bonus area


def test_a_bonus_may_pass_the_maximum_and_a_penalty_never_goes_below_zero(tmp_path):
    f = _documented(tmp_path)
    best = compute(f, _points(**{"1_1": "10", "9_1": "2", "9_2": "0", "10_1": "0"}))
    assert (best.total, best.index, best.points_lost) == (12, 120, 0)
    worst = compute(f, _points(**{"1_1": "1", "9_1": "0", "9_2": "0", "10_1": "5"}))
    assert (worst.total, worst.points_lost) == (0, 10)


def test_variations_round_trip_and_leave_other_frameworks_as_they_were(tmp_path):
    f = _documented(tmp_path)
    data = to_dict(f)
    assert data["format"] == "parindex.framework/2"
    assert {n["code"]: (n.get("component"), n.get("cap")) for n in data["nodes"]}["9"] == (
        "bonus",
        "2",
    )
    assert from_dict(data) == f
    bundled = to_dict(load_bundled("thai-nguyen-2021-commune"))
    assert bundled["format"] == "parindex.framework/1"
    assert all("component" not in n and "cap" not in n for n in bundled["nodes"])


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_then_import_keeps_the_components_and_caps(tmp_path, suffix):
    f = _documented(tmp_path)
    path = export(f, tmp_path / f"ra.{suffix}")
    again = parse_table(path, META).framework
    assert content_digest(again) == content_digest(f)


@pytest.mark.parametrize(
    ("nodes", "code"),
    [
        ([Node("1", "A", D(1)), Node("1.1", "a", D(1), component="bonus", cap=D(1))], "1.1"),
        ([Node("1", "A", D(1), component="bonus", cap=D(2)), Node("1.1", "a", D(1))], "1"),
        ([Node("1", "A", D(1), cap=D(1)), Node("1.1", "a", D(1))], "1"),
        ([Node("1", "A", D(1), component="extra"), Node("1.1", "a", D(1))], "1"),
        ([Node("1", "A", D(1), component="penalty", cap=D(0)), Node("1.1", "a", D(1))], "1"),
    ],
)
def test_a_misplaced_component_or_a_bad_cap_is_refused_naming_the_row(nodes, code):
    with pytest.raises(ValidationFailed) as e:
        Framework.build(META, nodes)
    assert {p.field for p in e.value.problems} == {code}
    assert {p.code for p in e.value.problems} <= {
        "invalid_component",
        "invalid_cap",
        "cap_without_component",
    }


def test_a_table_with_an_unknown_component_word_names_its_row(tmp_path):
    path = tmp_path / "sai.csv"
    path.write_text(
        "code,title,max_points,component,cap\n1,A,1,,\n1.1,a,1,,\n2,B,1,thưởng nóng,1\n2.1,b,1,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as e:
        parse_table(path, META)
    assert [(p.code, p.row, p.column) for p in e.value.problems] == [
        ("invalid_component", 4, "component")
    ]


def test_a_result_tables_total_row_is_checked_with_the_caps(tmp_path):
    path = tmp_path / "ket-qua.csv"
    path.write_text(
        "code,title,max_points,component,cap,Điểm đạt được\n"
        "1,A,10,,,10\n1.1,a,10,,,10\n"
        "9,Điểm thưởng,3,điểm thưởng,2,3\n9.1,x,2,,,2\n9.2,y,1,,,1\n"
        "10,Điểm trừ,5,điểm trừ,3,5\n10.1,z,5,,,5\n"
        ",Tổng cộng,10,,,9\n",
        encoding="utf-8",
    )
    report = check_table(path, META)
    assert report.totals["achieved"] == 9
    assert [m.code for m in report.mismatches] == []


# -- maxima by unit type ----------------------------------------------------------------
def _typed(tmp_path: Path) -> Framework:
    section = DOCS.read_text(encoding="utf-8").split("## Variations: maxima by unit type")[1]
    table = section.split("```text\n")[1].split("```")[0]
    path = tmp_path / "theo-loai.csv"
    path.write_text(table, encoding="utf-8")
    return parse_table(path, META).framework


def test_a_ward_is_scored_on_its_own_table(tmp_path):
    f = _typed(tmp_path)
    ward = f.for_type("phuong")
    assert [(n.code, n.max_points) for n in ward.nodes] == [("1", 3), ("1.1", 3)]
    assert ward.max_total == f.max_total == 3
    assert f.for_type("xa") is f and f.for_type(None) is f  # no leaf names xã
    r = compute(ward, _points(**{"1_1": "3"}))
    assert (r.total, r.index) == (3, 100)
    with pytest.raises(ValidationFailed) as e:
        compute(ward, _points(**{"1_1": "1", "1_2": "1"}))
    assert [p.code for p in e.value.problems] == ["unknown_leaf"]


def test_maxima_by_type_round_trip(tmp_path):
    f = _typed(tmp_path)
    data = to_dict(f)
    assert data["format"] == "parindex.framework/2"
    assert [n.get("max_by_type") for n in data["nodes"]] == [None, {"phuong": "3"}, {"phuong": "0"}]
    assert from_dict(data) == f
    for suffix in ("csv", "xlsx"):
        again = parse_table(export(f, tmp_path / f"ra.{suffix}"), META).framework
        assert content_digest(again) == content_digest(f)


def test_a_types_table_is_checked_when_the_framework_is_built():
    from domain.framework import RatioBand, Rule, RuleKind

    rule = Rule(kind=RuleKind.RATIO_BANDS, bands=(RatioBand(D(100), D(2)), RatioBand(D(0), D(0))))
    nodes = [
        Node("1", "A", D(3)),
        Node("1.1", "a", D(2), rule=rule, max_by_type=(("phuong", D(1)),)),
        Node("1.2", "b", D(1), max_by_type=(("phuong", D(2)),)),
    ]
    with pytest.raises(ValidationFailed) as e:
        Framework.build(META, nodes)
    assert all("(for unit type phuong)" in p.message_en for p in e.value.problems)
    assert {p.field for p in e.value.problems} == {"1.1"}
    nodes[1] = Node("1.1", "a", D(2), max_by_type=(("phuong", D(2)),))  # sums to 4, not 3
    with pytest.raises(ValidationFailed) as e:
        Framework.build(META, nodes)
    assert [p.code for p in e.value.problems] == ["type_total_differs"]


@pytest.mark.parametrize(
    ("nodes", "code"),
    [
        (
            [Node("1", "A", D(1), max_by_type=(("phuong", D(1)),)), Node("1.1", "a", D(1))],
            "max_by_type_on_parent",
        ),
        (
            [Node("1", "A", D(1)), Node("1.1", "a", D(1), max_by_type=(("quan", D(1)),))],
            "unknown_unit_type",
        ),
        (
            [Node("1", "A", D(1)), Node("1.1", "a", D(1), max_by_type=(("xa", D(-1)),))],
            "invalid_type_max",
        ),
    ],
)
def test_a_bad_maximum_by_type_is_refused(nodes, code):
    with pytest.raises(ValidationFailed) as e:
        Framework.build(META, nodes)
    assert [p.code for p in e.value.problems] == [code]


def test_a_table_cell_that_is_no_type_and_maximum_names_its_row(tmp_path):
    path = tmp_path / "sai.csv"
    path.write_text(
        "code,title,max_points,Điểm tối đa theo loại đơn vị\n1,A,1,\n1.1,a,1,quận=1\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as e:
        parse_table(path, META)
    assert [(p.code, p.row) for p in e.value.problems] == [("invalid_max_by_type", 3)]


def test_the_frameworks_read_shows_the_variations(tmp_path):
    from projections.frameworks import node_rows
    from projections.schema import columns

    f = _documented(tmp_path)
    rows = {r[1]: dict(zip(columns("framework_nodes"), r, strict=True)) for r in node_rows("x", f)}
    assert (rows["9"]["component"], rows["9"]["cap"]) == ("bonus", "2")
    assert rows["1.1"]["component"] is None
    typed = {r[1]: r for r in node_rows("y", _typed(tmp_path))}
    assert dict(zip(columns("framework_nodes"), typed["1.2"], strict=True))["max_by_type"] == (
        '{"phuong":"0"}'
    )
