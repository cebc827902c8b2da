"""Importing criteria tables (.csv, .xlsx), messy ones included, and past result tables."""

import json
import unicodedata
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import Workbook

from domain.errors import ValidationFailed
from domain.framework import FrameworkMeta, Level, NaPolicy, RuleKind, content_digest, to_dict
from interfaces.framework_io.check import check_table, format_problems, format_text
from interfaces.framework_io.exporter import export, table_rows
from interfaces.framework_io.importer import parse_table
from interfaces.framework_io.show import format_tree, tree_json

META = FrameworkMeta(name="Bộ thử", jurisdiction="Tỉnh Thử", level=Level.COMMUNE, year=2024)

GOOD = """code,label,title,max_points
1,I,Chỉ đạo điều hành,1.5
1.1,1.1,Kế hoạch,1
1.1.1,1.1.1,Ban hành kế hoạch,0.5
1.1.2,1.1.2,Kết quả,0.5
1.2,1.2,Báo cáo,0.5
2,II,Pháp luật,1
2.1,2.1,Văn bản,1
"""


def write(tmp_path: Path, text: str, name: str = "table.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def refused(source, meta: FrameworkMeta = META) -> list[tuple[int | None, str | None, str]]:
    """(row, column, code) of every problem, in order."""
    with pytest.raises(ValidationFailed) as caught:
        parse_table(source, meta)
    return [(p.row, p.column, p.code) for p in caught.value.problems]


def with_rows(*extra: str, header: str = "code,title,max_points") -> str:
    return "\n".join([header, *extra]) + "\n"


# the happy path and messy input


def test_a_clean_csv_imports_with_its_tree_and_no_warnings(tmp_path):
    result = parse_table(write(tmp_path, GOOD), META)
    framework = result.framework
    assert len(framework.nodes) == 7 and len(framework.leaves) == 4
    assert framework.max_total == D("2.5")
    assert result.warnings == () and result.parent_mismatches == ()
    assert result.rows["1.1.2"] == 5


def test_messy_tables_import_decimal_commas_roman_numerals_and_trailing_dots(tmp_path):
    text = with_rows(
        'I.,Chỉ đạo,"1,5"',
        "1.1.,Kế hoạch,1",
        '1.1.1,Ban hành,"0,5"',
        "1.1.2.,Kết quả,0.5",
        '1.2,Báo cáo,"0,5"',
        "II,Pháp luật,1",
        "2.1,Văn bản,1",
    )
    framework = parse_table(write(tmp_path, text), META).framework
    assert [n.code for n in framework.nodes] == ["1", "1.1", "1.1.1", "1.1.2", "1.2", "2", "2.1"]
    assert framework.node("1").label == "I" and framework.node("2").label == "II"
    assert framework.node("1").max_points == D("1.5")


def test_semicolon_separated_csv_with_decimal_commas_imports(tmp_path):
    text = "Mã;Tiêu chí;Điểm tối đa\nI;Chỉ đạo;1,5\n1.1;Kế hoạch;1\n1.2;Báo cáo;0,5\n"
    framework = parse_table(write(tmp_path, text), META).framework
    assert framework.node("1.2").max_points == D("0.5")


def test_decomposed_vietnamese_text_is_stored_composed(tmp_path):
    nfd = unicodedata.normalize("NFD", GOOD)
    assert nfd != GOOD
    framework = parse_table(write(tmp_path, nfd), META).framework
    assert framework.node("1.1.2").title == "Kết quả"
    assert unicodedata.is_normalized("NFC", framework.node("1").title)


def test_a_title_spilling_onto_the_next_row_is_joined_with_a_warning(tmp_path):
    text = with_rows("1,Chỉ đạo,1", "1.1,Xây dựng và tổ chức,1", ",thực hiện kế hoạch CCHC,")
    result = parse_table(write(tmp_path, text), META)
    assert result.framework.node("1.1").title == "Xây dựng và tổ chức thực hiện kế hoạch CCHC"
    [warning] = result.warnings
    assert (warning.row, warning.column, warning.code) == (4, "title", "title_continued")
    assert "1.1" in warning.message_vi


def test_vietnamese_headers_match_in_any_case_and_a_title_row_above_is_skipped(tmp_path):
    text = (
        "BỘ TIÊU CHÍ CẤP XÃ,,\n,,\nMÃ,Nội dung,ĐIỂM CHUẨN,Ghi chú\n"
        "1,Chỉ đạo,1,\n1.1,Kế hoạch,1,xem hướng dẫn\n"
    )
    result = parse_table(write(tmp_path, text), META)
    assert result.framework.node("1.1").note == "xem hướng dẫn"
    assert result.rows["1.1"] == 5


def test_columns_outside_the_format_are_ignored_with_a_warning(tmp_path):
    text = with_rows("1,Chỉ đạo,1,x", header="code,title,max_points,comment")
    result = parse_table(write(tmp_path, text), META)
    assert [(w.row, w.column, w.code) for w in result.warnings] == [
        (1, "D", "unknown_column_ignored")
    ]


def test_blank_rows_are_skipped(tmp_path):
    text = GOOD.replace("1.2,1.2", ",,,\n1.2,1.2")
    assert len(parse_table(write(tmp_path, text), META).framework.nodes) == 7


def test_an_xlsx_table_imports_with_numeric_cells(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Mã", "Tiêu chí", "Điểm tối đa"])
    sheet.append(["I", "Chỉ đạo", 1.5])
    sheet.append([1.1, "Kế hoạch", 1])
    sheet.append(["1.2.", "Báo cáo", "0,5"])
    sheet.append([2, "Pháp luật", 0.1 + 0.2])  # a computed float: 0.30000000000000004
    path = tmp_path / "table.xlsx"
    workbook.save(path)
    framework = parse_table(path, META).framework
    assert [n.code for n in framework.nodes] == ["1", "1.1", "1.2", "2"]
    assert framework.node("2").max_points == D("0.3")
    assert framework.max_total == D("1.8")


def test_rule_columns_declare_every_rule_and_its_parameters(tmp_path):
    text = with_rows(
        "1,Chỉ đạo,,,,,,6",
        '1.1,Kế hoạch,manual,"0,25",,,,1',
        "1.2,Ban hành,yes_no,,,,excluded,1",
        "1.3,Hồ sơ đúng hạn,ratio_proportional,,,1.2,,2",
        '1.4,Thu ngân sách,ratio_bands,,"100:full;80%:half;0:0","1.1, 1.2.",,2',
        header="code,title,rule,step,bands,gated_by,na_policy,max_points",
    )
    framework = parse_table(write(tmp_path, text), META).framework
    assert framework.node("1.1").rule.step == D("0.25")
    assert framework.node("1.2").rule.na_policy is NaPolicy.EXCLUDED
    assert framework.node("1.3").rule.kind is RuleKind.RATIO_PROPORTIONAL
    rule = framework.node("1.4").rule
    assert [(b.threshold, b.points) for b in rule.bands] == [
        (D("100"), D("2")),
        (D("80"), D("1")),
        (D("0"), D("0")),
    ]
    assert rule.gated_by == ("1.1", "1.2")


def test_na_policy_accepts_the_decisions_wording(tmp_path):
    text = with_rows("1,A,1,", "1.1,a,1,vẫn được tính điểm", header="code,title,max_points,nếu có")
    framework = parse_table(write(tmp_path, text), META).framework
    assert framework.node("1.1").rule.na_policy is NaPolicy.FULL_POINTS


def test_in_memory_rows_import_like_a_file():
    rows = [["code", "title", "max_points"], ["1", "A", "1"], ["1.1", "a", "1"]]
    assert parse_table(rows, META).framework.node("1.1").max_points == 1


# one test per error kind: row, column and code


def test_a_missing_required_column_is_reported_on_the_header_row(tmp_path):
    assert refused(write(tmp_path, "code,title\n1,A\n")) == [(1, "max_points", "missing_column")]


def test_a_column_named_twice_is_reported(tmp_path):
    text = "code,title,max_points,Điểm tối đa\n1,A,1,1\n"
    assert refused(write(tmp_path, text)) == [(1, "max_points", "duplicate_column")]


def test_an_invalid_code_is_reported_at_its_cell(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,1", "1.a,b,1"))) == [(3, "code", "invalid_code")]


def test_figures_without_a_code_are_reported(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,1", ",b,1"))) == [(3, "code", "missing_code")]


def test_text_before_any_criterion_cannot_be_joined(tmp_path):
    assert refused(write(tmp_path, with_rows(",lạc dòng,", "1,A,1"))) == [
        (2, "title", "orphan_continuation")
    ]


def test_a_missing_maximum_is_reported(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,"))) == [(2, "max_points", "missing_max_points")]


def test_a_maximum_that_is_not_a_number_is_reported(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,1", "1.1,a,một"))) == [
        (3, "max_points", "not_a_number")
    ]


def test_a_maximum_with_five_decimal_places_is_reported(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,0.12345"))) == [
        (2, "max_points", "too_many_decimals")
    ]


def test_a_missing_title_is_reported(tmp_path):
    assert refused(write(tmp_path, with_rows("1,,1"))) == [(2, "title", "missing_title")]


def test_a_duplicate_code_is_reported_at_its_second_row(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,1", "1.1,a,1", "1.1.,b,1"))) == [
        (4, "code", "duplicate_code")
    ]


def test_a_code_without_its_parent_is_reported_at_its_row(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,1", "1.1,a,1", "2.1,b,1"))) == [
        (4, "code", "parent_missing")
    ]


def test_a_parent_maximum_that_is_not_the_sum_is_reported_at_the_parent(tmp_path):
    text = GOOD.replace("1.1,1.1,Kế hoạch,1", "1.1,1.1,Kế hoạch,1.25")
    with pytest.raises(ValidationFailed) as caught:
        parse_table(write(tmp_path, text), META)
    problems = [(p.row, p.column, p.code) for p in caught.value.problems]
    assert problems == [
        (2, "max_points", "parent_sum_mismatch"),
        (3, "max_points", "parent_sum_mismatch"),
    ]
    assert "1.25" in caught.value.problems[1].message_vi


def test_a_negative_maximum_is_reported(tmp_path):
    assert refused(write(tmp_path, with_rows("1,A,-1"))) == [(2, "max_points", "negative_max")]


def test_an_unknown_rule_is_reported(tmp_path):
    text = with_rows("1,A,1,guess", header="code,title,max_points,rule")
    assert refused(write(tmp_path, text)) == [(2, "rule", "unknown_rule")]


def test_an_unknown_not_applicable_policy_is_reported(tmp_path):
    text = with_rows("1,A,1,maybe", header="code,title,max_points,na_policy")
    assert refused(write(tmp_path, text)) == [(2, "na_policy", "unknown_na_policy")]


def test_a_rule_on_a_parent_is_reported(tmp_path):
    text = with_rows("1,A,1,yes_no", "1.1,a,1,", header="code,title,max_points,rule")
    assert refused(write(tmp_path, text)) == [(2, "rule", "rule_on_parent")]


def test_a_step_on_a_rule_without_steps_is_reported(tmp_path):
    text = with_rows("1,A,1,yes_no,0.5", header="code,title,max_points,rule,step")
    assert refused(write(tmp_path, text)) == [(2, "step", "unexpected_rule_parameter")]


def test_a_step_that_is_zero_is_reported(tmp_path):
    text = with_rows("1,A,1,manual,0", header="code,title,max_points,rule,step")
    assert refused(write(tmp_path, text)) == [(2, "step", "invalid_step")]


def test_ratio_bands_without_bands_are_reported(tmp_path):
    text = with_rows("1,A,1,ratio_bands,", header="code,title,max_points,rule,bands")
    assert refused(write(tmp_path, text)) == [(2, "bands", "missing_ratio_bands")]


def test_malformed_ratio_bands_are_reported(tmp_path):
    text = with_rows("1,A,1,ratio_bands,100-1", header="code,title,max_points,rule,bands")
    assert refused(write(tmp_path, text)) == [(2, "bands", "invalid_ratio_bands")]


def test_a_gate_that_does_not_exist_is_reported(tmp_path):
    text = with_rows("1,A,2,", "1.1,a,1,1.9", "1.2,b,1,", header="code,title,max_points,gated_by")
    assert refused(write(tmp_path, text)) == [(3, "gated_by", "unknown_gate")]


def test_a_gate_that_is_not_a_leaf_is_reported(tmp_path):
    text = with_rows("1,A,2,", "1.1,a,1,1", "1.2,b,1,", header="code,title,max_points,gated_by")
    assert refused(write(tmp_path, text)) == [(3, "gated_by", "gate_not_leaf")]


def test_gates_in_a_cycle_are_reported(tmp_path):
    text = with_rows(
        "1,A,2,", "1.1,a,1,1.2", "1.2,b,1,1.1", header="code,title,max_points,gated_by"
    )
    assert refused(write(tmp_path, text)) == [(3, "gated_by", "gate_cycle")]


def test_a_malformed_gate_code_is_reported(tmp_path):
    text = with_rows("1,A,1,a.1", header="code,title,max_points,gated_by")
    assert refused(write(tmp_path, text)) == [(2, "gated_by", "invalid_code")]


def test_every_error_in_a_file_is_listed_and_nothing_is_imported(tmp_path):
    text = with_rows("1,A,3", '1.1,a,"1,5"', "1.1,dup,1", "1.2,,0.123456", "x,b,1", ",c,1")
    assert refused(write(tmp_path, text)) == [
        (4, "code", "duplicate_code"),
        (5, "max_points", "too_many_decimals"),
        (6, "code", "invalid_code"),
        (7, "code", "missing_code"),
    ]


def test_a_broken_row_does_not_also_report_its_parents_sum(tmp_path):
    text = with_rows("1,A,2", "1.1,a,1", "1.2,b,x")
    assert refused(write(tmp_path, text)) == [(4, "max_points", "not_a_number")]


# files


def test_a_missing_file_is_reported(tmp_path):
    assert refused(tmp_path / "none.csv") == [(None, None, "file_not_found")]


def test_other_file_types_are_refused(tmp_path):
    assert refused(write(tmp_path, GOOD, "table.txt")) == [(None, None, "unsupported_file_type")]


def test_a_csv_not_in_utf8_is_reported(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("code,title,max_points\n1,Tiêu chí,1\n".encode("latin-1"))
    assert refused(path) == [(None, None, "file_not_utf8")]


def test_a_csv_with_a_byte_order_mark_imports(tmp_path):
    assert parse_table(write(tmp_path, GOOD, encoding="utf-8-sig"), META).framework


def test_an_empty_file_is_reported(tmp_path):
    assert refused(write(tmp_path, "\n\n")) == [(None, None, "empty_file")]


def test_a_broken_xlsx_is_reported(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    assert refused(path) == [(None, None, "file_unreadable")]


def test_invalid_metadata_is_reported_with_the_table_problems(tmp_path):
    meta = FrameworkMeta(name="", jurisdiction="X", level=Level.COMMUNE, year=1800)
    with pytest.raises(ValidationFailed) as caught:
        parse_table(write(tmp_path, with_rows("1,A,-1")), meta)
    assert sorted(p.code for p in caught.value.problems) == [
        "invalid_year",
        "missing_name",
        "negative_max",
    ]


# past results beside the table

RESULTS = """code,title,max_points,self_score,appraised_score
1,Chỉ đạo,1.5,"1,5",1.25
1.1,Kế hoạch,1,1,0.75
1.1.1,Ban hành,0.5,0.5,0.5
1.1.2,Kết quả,0.5,0.5,0.25
1.2,Báo cáo,0.5,0.5,0.5
2,Pháp luật,1,1,0.9
2.1,Văn bản,1,1,0.8791
Tổng cộng,,2.5,2.5,2.13
"""


def test_score_columns_load_a_past_year_and_totals_come_from_leaves(tmp_path):
    result = parse_table(write(tmp_path, RESULTS), META)
    assert result.score_columns == ("self_score", "appraised_score")
    assert result.leaf_scores("appraised_score")["2.1"] == D("0.8791")
    assert result.computed_scores["appraised_score"]["1"] == D("1.25")
    assert result.typed_scores["appraised_score"]["2"] == D("0.9")


def test_typed_parents_that_differ_from_their_leaves_are_each_reported(tmp_path):
    result = parse_table(write(tmp_path, RESULTS), META)
    assert [(m.row, m.code, m.column, m.typed, m.computed) for m in result.parent_mismatches] == [
        (7, "2", "appraised_score", D("0.9"), D("0.8791")),
        (9, None, "appraised_score", D("2.13"), D("2.1291")),
    ]


def test_a_leaf_without_its_score_is_reported(tmp_path):
    text = RESULTS.replace("1.1.2,Kết quả,0.5,0.5,0.25", "1.1.2,Kết quả,0.5,,0.25")
    assert refused(write(tmp_path, text)) == [(5, "self_score", "missing_score")]


def test_leaf_scores_outside_zero_to_max_are_reported(tmp_path):
    text = RESULTS.replace(",Kết quả,0.5,0.5,0.25", ",Kết quả,0.5,0.75,-0.25")
    assert refused(write(tmp_path, text)) == [
        (5, "self_score", "points_above_max"),
        (5, "appraised_score", "negative_points"),
    ]


def test_a_total_row_may_name_itself_in_the_title_column(tmp_path):
    result = parse_table(write(tmp_path, RESULTS.replace("Tổng cộng,,", ",TỔNG ĐIỂM,")), META)
    assert [(m.row, m.code) for m in result.parent_mismatches] == [(7, "2"), (9, None)]


def test_a_total_row_with_a_wrong_maximum_is_reported_as_a_mismatch(tmp_path):
    result = parse_table(write(tmp_path, RESULTS.replace("Tổng cộng,,2.5", "Tổng cộng,,3")), META)
    assert (9, None, "max_points", D("3"), D("2.5")) in [
        (m.row, m.code, m.column, m.typed, m.computed) for m in result.parent_mismatches
    ]


def test_an_empty_score_column_is_ignored_as_a_blank_template(tmp_path):
    text = with_rows("1,A,1,", "1.1,a,1,", header="code,title,max_points,appraised_score")
    assert parse_table(write(tmp_path, text), META).score_columns == ()


def test_check_reports_area_totals_and_mismatches_without_importing(tmp_path):
    report = check_table(write(tmp_path, RESULTS))
    assert [(a.code, a.max_points, a.scores["appraised_score"]) for a in report.areas] == [
        ("1", D("1.5"), D("1.25")),
        ("2", D("1"), D("0.8791")),
    ]
    assert report.totals == {"self_score": D("2.5"), "appraised_score": D("2.1291")}
    text = format_text(report)
    assert "1 Chỉ đạo" in text and "2.13" in text and "Tổng" in text
    assert "dòng 7, 2, cột Thẩm định: nhập 0.9, tính được 0.8791, lệch 0.0209" in text
    assert "row 9, total" in format_text(report, "en")


def test_check_raises_the_same_problems_an_import_would(tmp_path):
    with pytest.raises(ValidationFailed) as caught:
        check_table(write(tmp_path, with_rows("1,A,x")))
    assert "dòng 2, cột max_points: [not_a_number]" in format_problems(caught.value.problems)


# export, show and the round trip

RICH = with_rows(
    "I,Chỉ đạo,,,,,,6,Lĩnh vực một",
    '1.1,Kế hoạch,manual,"0,25",,,,1,',
    "1.2,Ban hành,yes_no,,,,excluded,1,",
    "1.3,Hồ sơ đúng hạn,ratio_proportional,,,1.2,,2,",
    '1.4,Thu ngân sách,ratio_bands,,"100:2;80:1;0:0",1.1;1.2,full_points,2,',
    'II,"Kinh tế, xã hội",,,,,,0.0001,',
    header="code,title,rule,step,bands,gated_by,na_policy,max_points,note",
)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_exported_framework_imports_back_identical(tmp_path, suffix):
    original = parse_table(write(tmp_path, RICH), META).framework
    path = export(original, tmp_path / f"out{suffix}")
    again = parse_table(path, META)
    assert to_dict(again.framework) == to_dict(original)
    assert content_digest(again.framework) == content_digest(original)
    assert again.warnings == ()


def test_export_writes_every_rule_column_as_text():
    framework = parse_table([r.split(",") for r in GOOD.splitlines()], META).framework
    rows = table_rows(framework)
    assert rows[0] == [
        "code",
        "label",
        "title",
        "max_points",
        "note",
        "rule",
        "step",
        "bands",
        "gated_by",
        "na_policy",
    ]
    assert rows[3][:6] == ["1.1.1", "1.1.1", "Ban hành kế hoạch", "0.5", "", "manual"]


def test_export_refuses_other_file_types(tmp_path):
    framework = parse_table(write(tmp_path, GOOD), META).framework
    with pytest.raises(ValidationFailed):
        export(framework, tmp_path / "out.pdf")


def test_show_prints_the_tree_with_maxima_and_rules(tmp_path):
    framework = parse_table(write(tmp_path, RICH), META).framework
    text = format_tree(framework)
    assert "Bộ thử (tinh-thu-2024-commune@1)" in text
    assert "      6  I Chỉ đạo" in text
    assert (
        "      2    1.4 Thu ngân sách | ratio_bands, bands 100%:2;80%:1;0%:0, "
        "gated by 1.1,1.2, optional full_points" in text
    )
    assert "Xuất sắc >= 90" in text and "Excellent >= 90" in format_tree(framework, "en")


def test_show_json_is_the_serialised_framework_with_its_digest(tmp_path):
    framework = parse_table(write(tmp_path, RICH), META).framework
    data = json.loads(tree_json(framework))
    assert data.pop("digest") == content_digest(framework)
    assert data == to_dict(framework)


# the documentation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "FRAMEWORKS.md"


def test_every_error_code_is_documented():
    from domain.framework.problems import MESSAGES as MODEL
    from interfaces.framework_io.problems import MESSAGES as FILES

    text = DOCS.read_text(encoding="utf-8")
    assert [c for c in [*MODEL, *FILES] if f"| `{c}` |" not in text] == []


def test_the_documented_example_tables_import(tmp_path):
    blocks = DOCS.read_text(encoding="utf-8").split("```csv\n")[1:]
    example, result_table = blocks[0].split("```")[0], blocks[2].split("```")[0]
    framework = parse_table(write(tmp_path, example), META).framework
    assert framework.max_total == D("10") and len(framework.leaves) == 6
    report = check_table(write(tmp_path, result_table, "results.csv"))
    assert len(report.mismatches) == 2
