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
    "missing_score": (
        "Mã {code} chưa có giá trị ở cột {column}.",
        "Code {code} has no value in column {column}.",
    ),
    # warnings: the import goes ahead
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
