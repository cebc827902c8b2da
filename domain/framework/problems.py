"""The catalogue of framework problems: one stable code, a Vietnamese and an English text.

Every fault the framework model can report is listed here once, so the codes are
documented in one place (docs/FRAMEWORKS.md mirrors this table) and the messages
stay consistent wherever the fault is found.
"""

from __future__ import annotations

from domain.errors import DomainError, Problem, ValidationFailed

MESSAGES: dict[str, tuple[str, str]] = {
    # numbers and codes
    "not_a_number": (
        "'{value}' không phải là số (dùng dạng 0,5 hoặc 0.5).",
        "'{value}' is not a number (write 0,5 or 0.5).",
    ),
    "too_many_decimals": (
        "'{value}' có quá 4 chữ số thập phân.",
        "'{value}' has more than 4 decimal places.",
    ),
    "invalid_decimal": (
        "'{value}' không phải số thập phân; dạng đúng, ví dụ: 0.5 hoặc 12.",
        "'{value}' is not a decimal number; write it like 0.5 or 12.",
    ),
    "decimal_not_canonical": (
        "'{value}' chưa viết đúng dạng số thập phân chuẩn (chữ số ASCII, dấu chấm, không có "
        "số 0 hay dấu thừa); dạng đúng: {accepted}",
        "'{value}' is not written in the canonical decimal form (ASCII digits, a point, no "
        "extra zeros or signs); write {accepted}",
    ),
    "decimal_too_large": (
        "'{value}' có quá {digits} chữ số phần nguyên.",
        "'{value}' has more than {digits} digits before the point.",
    ),
    "invalid_code": (
        "Mã '{value}' không hợp lệ (dạng I, II… hoặc 1, 1.1, 1.1.1).",
        "Code '{value}' is not valid (expected I, II… or 1, 1.1, 1.1.1).",
    ),
    # the tree
    "empty_framework": (
        "Bộ tiêu chí không có tiêu chí nào.",
        "The framework has no criteria.",
    ),
    "duplicate_code": (
        "Mã {code} xuất hiện nhiều lần.",
        "Code {code} appears more than once.",
    ),
    "parent_missing": (
        "Mã {code} không có mục cha {parent} trong bảng.",
        "Code {code} has no parent {parent} in the table.",
    ),
    "parent_sum_mismatch": (
        "Điểm tối đa của {code} là {typed} nhưng tổng điểm tối đa các mục con là {computed}.",
        "The maximum of {code} is {typed} but its children's maxima sum to {computed}.",
    ),
    "invalid_component": (
        "Mục {code}: chỉ một lĩnh vực (cấp cao nhất) được là điểm thưởng (bonus) hoặc "
        "điểm trừ (penalty).",
        "Row {code}: only an area (top level) may be a bonus or a penalty area.",
    ),
    "survey_rule": (
        "Mục {code}: tiêu chí khảo sát nhận điểm số do đơn vị khảo sát nhập, nên chấm theo "
        "cách 'manual'.",
        "Row {code}: a survey leaf takes the points the survey enters, so its rule is manual.",
    ),
    "cap_without_component": (
        "Mục {code}: mức tối đa được cộng/trừ chỉ dùng cho lĩnh vực điểm thưởng hoặc điểm trừ.",
        "Row {code}: a cap applies to a bonus or penalty area only.",
    ),
    "invalid_cap": (
        "Mục {code}: mức tối đa được cộng/trừ {value} phải lớn hơn 0 và không quá {maximum}.",
        "Row {code}: the cap {value} must be above 0 and at most {maximum}.",
    ),
    "max_by_type_on_parent": (
        "Mục {code}: điểm tối đa theo loại đơn vị chỉ đặt ở tiêu chí thành phần.",
        "Row {code}: maxima by unit type are set on leaves only.",
    ),
    "unknown_unit_type": (
        "Mục {code}: loại đơn vị '{value}' không có (một trong: {types}).",
        "Row {code}: no unit type '{value}' (one of: {types}).",
    ),
    "invalid_type_max": (
        "Mục {code}: điểm tối đa '{value}' cho loại {unit_type} phải là số không âm, tối đa 4 "
        "chữ số thập phân.",
        "Row {code}: the maximum '{value}' for type {unit_type} must be a number >= 0 with at "
        "most 4 decimal places.",
    ),
    "type_total_differs": (
        "Điểm tối đa của bảng cho loại {unit_type} cộng lại là {typed}, phải bằng {total} như "
        "bảng chung (các đơn vị được xếp hạng theo tổng điểm).",
        "The table for type {unit_type} sums to {typed}; it must sum to {total} as the table "
        "does (units are ranked by their totals).",
    ),
    "negative_max": (
        "Điểm tối đa của {code} không được âm ({value}).",
        "The maximum of {code} must not be negative ({value}).",
    ),
    "missing_title": (
        "Mã {code} chưa có tên tiêu chí.",
        "Code {code} has no title.",
    ),
    # rules
    "unknown_rule": (
        "Cách chấm '{value}' không được hỗ trợ (manual, yes_no, ratio_proportional, ratio_bands).",
        "Rule '{value}' is not supported (manual, yes_no, ratio_proportional, ratio_bands).",
    ),
    "unknown_na_policy": (
        "Cách xử lý khi không phát sinh '{value}' không hợp lệ (full_points, excluded).",
        "Not-applicable policy '{value}' is not valid (full_points, excluded).",
    ),
    "rule_on_parent": (
        "{code} có mục con nên không có cách chấm riêng; điểm của nó là tổng các mục con.",
        "{code} has children, so it takes no rule; its score is the sum of its children.",
    ),
    "unexpected_rule_parameter": (
        "Tham số {parameter} không dùng cho cách chấm {rule} (mã {code}).",
        "Parameter {parameter} does not apply to rule {rule} (code {code}).",
    ),
    "invalid_step": (
        "Bước điểm của {code} phải lớn hơn 0 và không vượt điểm tối đa ({value}).",
        "The step of {code} must be above 0 and not above the maximum ({value}).",
    ),
    "missing_ratio_bands": (
        "{code} chấm theo mức tỷ lệ nhưng chưa khai báo các mức (ví dụ 100:1;80:0,5;0:0).",
        "{code} uses ratio_bands but declares no bands (e.g. 100:1;80:0.5;0:0).",
    ),
    "invalid_ratio_bands": (
        "Các mức tỷ lệ của {code} không hợp lệ: {reason_vi}.",
        "The ratio bands of {code} are not valid: {reason_en}.",
    ),
    "unknown_gate": (
        "{code} phụ thuộc vào {gate} nhưng mã này không có trong bộ tiêu chí.",
        "{code} is gated by {gate}, which is not in the framework.",
    ),
    "gate_not_leaf": (
        "{gate} có mục con nên không thể làm điều kiện cho {code}; hãy dùng tiêu chí thành phần.",
        "{gate} has children, so it cannot gate {code}; use a sub-criterion.",
    ),
    "gate_cycle": (
        "Các tiêu chí phụ thuộc vòng tròn vào nhau: {cycle}.",
        "Gates form a cycle: {cycle}.",
    ),
    "invalid_classification_bands": (
        "Thang phân loại không hợp lệ: {reason_vi}.",
        "The classification bands are not valid: {reason_en}.",
    ),
    # metadata
    "missing_name": ("Chưa có tên bộ tiêu chí.", "The framework has no name."),
    "missing_jurisdiction": (
        "Chưa có địa phương ban hành bộ tiêu chí.",
        "The framework has no jurisdiction.",
    ),
    "invalid_level": (
        "Cấp '{value}' không hợp lệ (commune/xã, district/huyện, province/tỉnh).",
        "Level '{value}' is not valid (commune, district, province).",
    ),
    "invalid_year": (
        "Năm '{value}' không hợp lệ.",
        "Year '{value}' is not valid.",
    ),
    "invalid_slug": (
        "Mã định danh '{value}' chỉ gồm chữ thường không dấu, số và dấu gạch ngang.",
        "Slug '{value}' may hold only lowercase ASCII letters, digits and hyphens.",
    ),
    "invalid_version": (
        "Phiên bản '{value}' phải là số nguyên từ 1 trở lên.",
        "Version '{value}' must be a whole number from 1.",
    ),
    "invalid_framework_id": (
        "Mã bộ tiêu chí '{value}' không hợp lệ (dạng ten-bo-tieu-chi@1).",
        "Framework id '{value}' is not valid (expected some-slug@1).",
    ),
    "malformed_framework_data": (
        "Dữ liệu bộ tiêu chí không đúng định dạng: {detail}.",
        "Framework data is malformed: {detail}.",
    ),
    "unknown_node": (
        "Không có mã {code} trong bộ tiêu chí.",
        "There is no code {code} in the framework.",
    ),
    # scoring a leaf
    "unknown_leaf": (
        "{code} không phải tiêu chí thành phần được chấm điểm của bộ tiêu chí.",
        "{code} is not a scored leaf of the framework.",
    ),
    "missing_input": (
        "Chưa có dữ liệu chấm cho {code} (cần {needed}).",
        "No input for {code} (needs {needed}).",
    ),
    "unexpected_input": (
        "Dữ liệu {given} không dùng cho cách chấm {rule} của {code}.",
        "Input {given} does not apply to rule {rule} of {code}.",
    ),
    "negative_points": (
        "Điểm {value} của {code} không được âm.",
        "Points {value} for {code} must not be negative.",
    ),
    "points_above_max": (
        "Điểm {value} của {code} vượt điểm tối đa {max}.",
        "Points {value} for {code} exceed the maximum {max}.",
    ),
    "points_off_step": (
        "Điểm {value} của {code} không theo bước {step}.",
        "Points {value} for {code} are not a multiple of the step {step}.",
    ),
    "negative_input": (
        "Số liệu {value} của {code} không được âm.",
        "Figure {value} for {code} must not be negative.",
    ),
    "denominator_zero": (
        "Mẫu số của {code} bằng 0 nên không tính được tỷ lệ.",
        "The denominator of {code} is 0, so no ratio can be computed.",
    ),
    "numerator_above_denominator": (
        "Tử số {numerator} lớn hơn mẫu số {denominator} ở {code}.",
        "Numerator {numerator} exceeds denominator {denominator} for {code}.",
    ),
    "not_applicable_not_allowed": (
        '{code} không phải tiêu chí "nếu có" nên không thể đánh dấu không phát sinh.',
        "{code} is not optional, so it cannot be marked not applicable.",
    ),
}


def problem(
    code: str,
    /,
    *,
    row: int | None = None,
    column: str | None = None,
    field: str | None = None,
    catalogue: dict[str, tuple[str, str]] | None = None,
    **params: object,
) -> Problem:
    """One Problem from the catalogue, its texts filled with `params` and its location."""
    vi, en = (catalogue or MESSAGES)[code]
    given = {"row": row, "column": column, "field": field, **params}
    text = {k: ("" if v is None else v) for k, v in given.items()}
    return Problem(code, vi.format(**text), en.format(**text), field=field, row=row, column=column)


def error(code: str, /, *, field: str | None = None, **params: object) -> DomainError:
    """A single-problem DomainError from the catalogue, ready to raise."""
    p = problem(code, field=field, **params)
    return DomainError(code, p.message_vi, p.message_en, problems=[p], field=field)


def failed(problems: list[Problem]) -> ValidationFailed:
    """All problems at once: the framework (or input) is refused as a whole."""
    return ValidationFailed(list(problems))
