"""Real published tables read as they are printed (issue 10, part 6): an STT
column, title lines above the header, a header on two rows, the header
repeated at every page break with the "(1) (2) (3)" row under it, score
columns named by year or kind, partial tables, rounding told from real errors,
totals at the table's own precision. The forms are built here to look like the
Decision's Appendix I and a commune plan's appendix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import ValidationFailed
from interfaces.bundled import load_bundled
from interfaces.cli.main import main
from interfaces.framework_io.check import CheckReport, check_table, format_text
from interfaces.framework_io.partial import PartialReport

PRINTED = """PHỤ LỤC
KẾT QUẢ CHỈ SỐ CCHC NĂM 2021 CỦA UBND XÃ
STT;Lĩnh vực/Tiêu chí/Tiêu chí thành phần;Điểm tối đa;Điểm 2021 đạt được;Điểm phấn đấu;Điểm bị mất
(1);(2);(3);(4);(5);(6)
I;Công tác chỉ đạo;3;2,333;3;0,667
1.1;Kế hoạch;2;1,333;2;0,667
1.1.1;Ban hành;1;0,5;1;0,5
1.1.2;Thực hiện;1;0,833;1;0,2
STT;Lĩnh vực/Tiêu chí/Tiêu chí thành phần;Điểm tối đa;Điểm 2021 đạt được;Điểm phấn đấu;Điểm bị mất
(1);(2);(3);(4);(5);(6)
1,2;Báo cáo;1;1;1;0
II;Cải cách;2;1,6667;2;0,3333
2.1;Văn bản;2;1,667;2;0,333
Tổng cộng;;5;4,00;;
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_printed_table_is_read_as_printed(tmp_path):
    report = check_table(_write(tmp_path, "bang.csv", PRINTED))
    assert isinstance(report, CheckReport)
    assert (report.nodes, report.leaves) == (7, 4)
    assert report.score_columns == ("achieved_2021",)  # target and lost are per row
    assert report.totals["achieved_2021"] == Decimal("4.000")
    skipped = [w.row for w in report.warnings if w.code == "header_row_skipped"]
    assert skipped == [4, 9, 10]
    found = {(m.row, m.code, m.column): m for m in report.mismatches}
    lost = found[(8, "1.1.2", "lost")]  # 1 - 0.833 is 0.167, not 0.2: a real error
    assert (lost.typed, lost.computed, lost.rounding) == (Decimal("0.2"), Decimal("0.167"), False)
    area = found[(12, "2", "achieved_2021")]  # 1.6667 typed over a leaf of 1.667
    assert area.rounding and area.difference == Decimal("-0.0003")
    assert len(found) == 2
    text = format_text(report)
    real, rounding = text.index("Sai thật sự"), text.index("Chỉ do làm tròn")
    assert real < text.index("dòng 8, 1.1.2") < rounding < text.index("dòng 12, 2")
    assert "tính được 0.167, lệch 0.033" in text


def test_totals_are_printed_at_the_precision_the_table_uses(tmp_path):
    table = (
        "TT,Nội dung,Điểm tối đa,Điểm thẩm định\n"
        "I,Lĩnh vực một,80,78.046\n"
        "1.1,Tiêu chí,80,78.046\n"
        "II,Lĩnh vực hai,20,10\n"
        "2.1,Tiêu chí,20,10\n"
    )
    report = check_table(_write(tmp_path, "b.csv", table))
    text = format_text(report)
    assert "78.046" in text and "78.05 " not in text and "88.046" in text


def test_the_decisions_appendix_form_with_its_two_header_rows(tmp_path):
    """Appendix I as the Decision prints it: a merged "Điểm số" above four score
    columns, a percentage and an evidence column the check does not need."""
    from openpyxl import Workbook

    framework = load_bundled("thai-nguyen-2021-commune")
    book = Workbook()
    sheet = book.active
    sheet.append(["PHỤ LỤC"])
    sheet.append(["CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CỦA UBND CẤP XÃ THUỘC TỈNH THÁI NGUYÊN"])
    sheet.append(
        ["STT", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "Điểm số", "Điểm số", "Điểm số"]
        + ["Điểm số", "Tài liệu kiểm chứng"]
    )
    sheet.append(
        ["", "", "Điểm tối đa", "Điểm tự đánh giá", "Điểm thẩm định", "Kết quả đạt được (%)", ""]
    )
    leaves = {leaf.code for leaf in framework.leaves}
    for node in framework.nodes:
        if node.code in leaves:
            self_, appraised = node.max_points, node.max_points / 2
        else:
            under = framework.leaves_under(node.code)
            self_ = sum(x.max_points for x in under)
            appraised = sum(x.max_points / 2 for x in under)
        if node.code == "2":
            appraised += Decimal("0.25")  # a typed area total that is not its leaves' sum
        sheet.append([node.label, node.title, node.max_points, self_, appraised, "", ""])
    path = tmp_path / "phu-luc-1.xlsx"
    book.save(path)
    report = check_table(path)
    assert (report.nodes, report.leaves) == (155, 119)
    assert report.score_columns == ("self_score", "appraised_score")
    assert report.totals == {"self_score": Decimal(100), "appraised_score": Decimal(50)}
    (wrong,) = report.mismatches
    assert (wrong.code, wrong.column, wrong.difference, wrong.rounding) == (
        "2",
        "appraised_score",
        Decimal("0.25"),
        False,
    )
    ignored = [w.message_en for w in report.warnings if w.code == "unknown_column_ignored"]
    assert len(ignored) == 2
    assert "'Kết quả đạt được (%)'" in ignored[0] and "'Tài liệu kiểm chứng'" in ignored[1]


PLAN = """KẾ HOẠCH NÂNG CAO CHỈ SỐ CCHC NĂM 2023
\tSTT\tTiêu chí\tĐiểm tối đa\tĐiểm thẩm định năm 2022\tĐiểm bị mất\tĐiểm phấn đấu\tNhiệm vụ
\t1.1.2\tKết quả thực hiện Kế hoạch CCHC\t1\t0,5\t0,5\t1\tĐôn đốc thực hiện
\t2.3.1\tKế hoạch rà soát văn bản\t0,5\t0,25\t0,5\t0,5\tBan hành đúng hạn
\t5.2\tThực hiện cơ chế một cửa\t3\t2,935\t0,065\t3,5\tTăng tỷ lệ đúng hạn
"""


def test_an_improvement_plan_is_checked_row_by_row(tmp_path):
    """A plan lists only the criteria that lost points: no tree to build, but
    each row's points lost must be its maximum minus the appraised points."""
    report = check_table(_write(tmp_path, "ke-hoach.csv", PLAN))
    assert isinstance(report, PartialReport)
    assert [r.code for r in report.rows] == ["1.1.2", "2.3.1", "5.2"]
    (lost,) = report.mismatches
    assert (lost.row, lost.code, lost.typed, lost.computed) == (
        4,
        "2.3.1",
        Decimal("0.5"),
        Decimal("0.25"),
    )
    (above,) = report.problems  # a target of 3.5 on a 3-point criterion
    assert (above.code, above.row, above.column) == ("points_above_max", 5, "target")
    assert not report.ok
    assert "Bảng một phần (3 dòng)" in format_text(report)


def test_a_plan_without_points_is_not_a_criteria_table(tmp_path):
    """A commune plan's task appendix (TT, task, product, lead, partners, when)
    has no maximum: the check says so, naming the row it read as the header."""
    table = (
        "PHỤ LỤC\n"
        "TRIỂN KHAI CÁC NHIỆM VỤ CCHC NĂM 2023\n"
        "TT\tNhiệm vụ cụ thể\tSản phẩm\tNgành chủ trì\tNgành phối hợp\tThời gian hoàn thành\n"
        "I.\tCẢI CÁCH THỂ CHẾ\t\t\t\t\n"
        "1.\tRà soát văn bản\tKế hoạch\tTư pháp\tCác ngành\tTháng 01/2023\n"
        "2..\tXử lý văn bản sau rà soát\tQuyết định\tVăn phòng\tTư pháp\tNăm 2023\n"
    )
    with pytest.raises(ValidationFailed) as e:
        check_table(_write(tmp_path, "phu-luc.csv", table))
    codes = {(p.code, p.column) for p in e.value.problems}
    assert ("missing_column", "max_points") in codes


def test_framework_check_cli_reads_a_partial_table_and_exits_1(tmp_path, capsys):
    path = _write(tmp_path, "ke-hoach.csv", PLAN)
    assert main(["framework", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "dòng 4, 2.3.1, cột Bị mất: nhập 0.5, tính được 0.25, lệch 0.25" in out
    assert main(["framework", "check", str(path), "--json"]) == 1
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["partial"] and data["mismatches"][0]["rounding"] is False


def test_a_whole_table_with_a_wrong_maximum_is_refused_not_read_as_partial(tmp_path):
    """A points-lost column does not make a whole table partial: a typed area
    maximum that is not its leaves' sum, or a blank score, is refused as an
    import refuses it."""
    wrong_max = (
        "STT,Tiêu chí,Điểm tối đa,Điểm thẩm định,Điểm bị mất\n"
        "I,Lĩnh vực,5,2,3\n"
        "1.1,Tiêu chí,3,2,1\n"
    )
    with pytest.raises(ValidationFailed) as e:
        check_table(_write(tmp_path, "a.csv", wrong_max))
    assert "parent_sum_mismatch" in {p.code for p in e.value.problems}
    blank = (
        "STT,Tiêu chí,Điểm tối đa,Điểm thẩm định,Điểm bị mất\n"
        "I,Lĩnh vực,3,1,2\n"
        "1.1,Tiêu chí,1,1,0\n"
        "1.2,Tiêu chí,2,,2\n"
    )
    with pytest.raises(ValidationFailed) as e:
        check_table(_write(tmp_path, "b.csv", blank))
    assert "missing_score" in {p.code for p in e.value.problems}


def test_a_plan_read_as_partial_says_why_it_is_no_whole_table(tmp_path):
    text = format_text(check_table(_write(tmp_path, "ke-hoach.csv", PLAN)))
    assert "Không phải bảng đầy đủ nên không nhập được (4 lỗi" in text
    assert "3 dòng không có mục cha trong bảng (từ dòng 3)" in text
    assert "[parent_missing]" not in text  # said once, not a line per row
    assert "[points_above_max]" in text  # what else keeps it from being whole, each


def test_a_year_heading_without_a_kind_is_not_a_score_column(tmp_path):
    table = (
        "STT,Tiêu chí,Điểm tối đa,Điểm tối đa năm 2021,Điểm trừ 2022,Điểm TĐG 2022\n"
        "I,Lĩnh vực,1,1,-0.5,1\n"
        "1.1,Tiêu chí,1,1,-0.5,1\n"
    )
    report = check_table(_write(tmp_path, "b.csv", table))
    assert report.score_columns == ("self_score_2022",)
    ignored = [w for w in report.warnings if w.code == "unknown_column_ignored"]
    assert len(ignored) == 2
