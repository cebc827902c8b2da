"""Problems only an imported file can have (the model's own are in domain.framework.problems)."""

from __future__ import annotations

from domain.errors import Problem
from domain.framework import problems as domain_problems

MESSAGES: dict[str, tuple[str, str]] = {
    "file_not_found": ("Không tìm thấy tệp {path}.", "File {path} was not found."),
    "unsupported_file_type": (
        "Chỉ nhận tệp .csv hoặc .xlsx, không nhận '{suffix}'.",
        "Only .csv and .xlsx files are accepted, not '{suffix}'.",
    ),
    "file_unreadable": (
        "Không đọc được tệp {path}: {detail}.",
        "File {path} could not be read: {detail}.",
    ),
    "file_not_utf8": (
        'Tệp CSV không ở mã UTF-8 (lỗi ở byte {position}); hãy lưu lại dạng "CSV UTF-8".',
        'The CSV file is not UTF-8 (bad byte at {position}); save it again as "CSV UTF-8".',
    ),
    "empty_file": ("Tệp không có dữ liệu.", "The file holds no data."),
    # limits (interfaces/framework_io/limits.py): checked before the table is parsed
    "file_too_large": (
        "Tệp nặng {size} byte, vượt giới hạn {limit} byte.",
        "The file is {size} bytes, over the limit of {limit} bytes.",
    ),
    "xlsx_too_many_members": (
        "Tệp .xlsx chứa {count} thành phần, vượt giới hạn {limit}.",
        "The .xlsx file holds {count} parts, over the limit of {limit}.",
    ),
    "xlsx_member_too_large": (
        "Phần '{member}' của tệp .xlsx giải nén ra {size} byte, vượt giới hạn {limit} byte.",
        "Part '{member}' of the .xlsx file inflates to {size} bytes, over the limit of {limit}.",
    ),
    "xlsx_too_large": (
        "Tệp .xlsx giải nén ra {size} byte, vượt giới hạn {limit} byte.",
        "The .xlsx file inflates to {size} bytes, over the limit of {limit} bytes.",
    ),
    "xlsx_compression_ratio": (
        "Phần '{member}' của tệp .xlsx nén {ratio} lần, vượt giới hạn {limit} lần "
        "(tệp có thể là bom nén).",
        "Part '{member}' of the .xlsx file is compressed {ratio} times, over the limit of "
        "{limit} (the file may be a zip bomb).",
    ),
    "xlsx_too_many_elements": (
        "Tệp .xlsx có hơn {limit} thẻ XML (vượt quá ở phần '{member}').",
        "The .xlsx file holds more than {limit} XML elements (passed in part '{member}').",
    ),
    "xlsx_odd_member": (
        "Tệp .xlsx có thành phần không được nhận '{member}' ({reason}).",
        "The .xlsx file holds a part that is not accepted: '{member}' ({reason}).",
    ),
    "too_many_rows": (
        "Bảng có hơn {limit} dòng.",
        "The table has more than {limit} rows.",
    ),
    "too_many_columns": (
        "Dòng có hơn {limit} ô.",
        "The row has more than {limit} cells.",
    ),
    "too_many_cells": (
        "Bảng có hơn {limit} ô.",
        "The table has more than {limit} cells.",
    ),
    "line_too_long": (
        "Dòng dài hơn {limit} ký tự.",
        "The line is longer than {limit} characters.",
    ),
    "missing_column": (
        "Thiếu cột {column} (tên được chấp nhận: {aliases}).",
        "Column {column} is missing (accepted names: {aliases}).",
    ),
    "duplicate_column": (
        "Cột {column} xuất hiện hai lần ('{first}' và '{second}').",
        "Column {column} appears twice ('{first}' and '{second}').",
    ),
    "missing_code": (
        "Dòng có số liệu nhưng không có mã tiêu chí.",
        "The row holds figures but no code.",
    ),
    "missing_max_points": (
        "Mã {code} chưa có điểm tối đa.",
        "Code {code} has no maximum.",
    ),
    "orphan_continuation": (
        "Dòng chỉ có chữ, không có mã, và không có tiêu chí nào phía trên để nối vào.",
        "The row holds only text, no code, and there is no criterion above to join it to.",
    ),
    "invalid_max_by_type": (
        "Mã {code}: '{value}' không đọc được như loại đơn vị = điểm tối đa "
        "(ví dụ: phường=2; thị trấn=2,5).",
        "Code {code}: '{value}' does not read as unit type = maximum "
        "(for example: phường=2; thị trấn=2.5).",
    ),
    "missing_score": (
        "Mã {code} chưa có giá trị ở cột {column}.",
        "Code {code} has no value in column {column}.",
    ),
    # warnings: the import goes ahead
    "header_row_skipped": (
        "Dòng {row} là tiêu đề cột lặp lại (sang trang) hoặc dòng số thứ tự cột (1), (2), ... "
        "nên đã bỏ qua.",
        "Row {row} repeats the header (a page break) or numbers the columns (1), (2), ...; "
        "it was skipped.",
    ),
    "title_continued": (
        "Chữ ở dòng {row} không có mã nên được nối vào tên của mã {code} (dòng {target}).",
        "Text on row {row} has no code, so it was joined to the title of {code} (row {target}).",
    ),
    "unknown_column_ignored": (
        "Cột '{header}' không thuộc mẫu nên đã bỏ qua.",
        "Column '{header}' is not part of the format and was ignored.",
    ),
}


def problem(code: str, /, **kwargs: object) -> Problem:
    """A Problem from the import catalogue, or from the model's if the code is a model one."""
    catalogue = MESSAGES if code in MESSAGES else domain_problems.MESSAGES
    return domain_problems.problem(code, catalogue=catalogue, **kwargs)  # type: ignore[arg-type]
