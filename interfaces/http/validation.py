"""Request validation messages (marshmallow/webargs) as problem `errors` entries."""

from __future__ import annotations

# marshmallow's English message -> (code, Vietnamese)
_KNOWN: dict[str, tuple[str, str]] = {
    "Missing data for required field.": ("required", "Thiếu trường bắt buộc."),
    "Unknown field.": ("unknown_field", "Trường không được hỗ trợ."),
    "Not a valid integer.": ("invalid_integer", "Không phải số nguyên hợp lệ."),
    "Not a valid string.": ("invalid_string", "Không phải chuỗi ký tự hợp lệ."),
    "Not a valid mapping type.": ("invalid_object", "Phải là đối tượng JSON."),
    "Not a valid list.": ("invalid_list", "Phải là danh sách."),
    "Not a valid boolean.": ("invalid_boolean", "Phải là true hoặc false."),
    "Field may not be null.": ("null_not_allowed", "Không được để trống (null)."),
    "Invalid input type.": ("invalid_type", "Sai kiểu dữ liệu."),
    "Invalid JSON body.": ("invalid_json", "Nội dung không phải JSON hợp lệ."),
    "Invalid value.": ("invalid_value", "Giá trị không hợp lệ."),
}


def _message(text: str, lang: str) -> tuple[str, str]:
    known = _KNOWN.get(text)
    if known:
        return known[0], (text if lang == "en" else known[1])
    if text.startswith(("Must be greater", "Must be less", "Must be at least")):
        return "out_of_range", text if lang == "en" else f"Giá trị ngoài phạm vi ({text})"
    if text.startswith("Length must"):
        return "invalid_length", text if lang == "en" else f"Độ dài không hợp lệ ({text})"
    if text.startswith(("String does not match", "Must be one of")):
        return "invalid_format", text if lang == "en" else f"Sai định dạng ({text})"
    return "invalid_value", text if lang == "en" else f"Giá trị không hợp lệ ({text})"


def validation_errors(messages: object, lang: str) -> list[dict]:
    """Flattens {location: {field: [msg] | {sub: ...}}} to [{code, message, field}]."""
    out: list[dict] = []

    def walk(node: object, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [str(key)])
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item, path)
        else:
            code, message = _message(str(node), lang)
            entry: dict = {"code": code, "message": message}
            where = [p for p in path[1:] if p != "_schema"]  # path[0] is the location
            entry["field"] = ".".join(where) if where else (path[0] if path else "body")
            out.append(entry)

    walk(messages, [])
    return out
