"""The shapes of what assessment commands carry besides scores: document references,
evidence ids and lists of leaves or evidence, each fault named by its field path."""

from __future__ import annotations

import re
from datetime import date

from domain.errors import DomainError, Problems
from domain.framework.decimals import parse_exact
from domain.ids import EVIDENCE_ID, LEAF, check_id, id_problem
from domain.text import NAME, NOTE, TITLE, TextRule, add_text_problems

# A document reference (văn bản): its members and the text rule of each.
DOCUMENT_FIELDS: dict[str, TextRule] = {
    "number": TextRule(100),  # số, ký hiệu: "15/KH-UBND"
    "issuer": NAME,
    "section": NAME,
    "title": TITLE,
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_LIST = 200  # leaves of one evidence item, evidence ids of one adjustment


def check_score_input(leaf: object, given: dict) -> None:
    """A score's leaf code and inputs in their signed form: decimals exact, flags booleans.

    Raises DomainError; the rule of the leaf is checked after (`check_leaf`)."""
    check_id(leaf, "leaf", LEAF)
    for name in ("points", "numerator", "denominator"):
        if given.get(name) is not None:
            parse_exact(given[name], field=name)  # signed decimals have one exact text
    for name in ("done", "not_applicable"):
        # "false" is truthy: only a JSON boolean may say yes or no
        if given.get(name) is not None and not isinstance(given[name], bool):
            raise DomainError(
                "invalid_field",
                f"'{name}' phải là true/false.",
                f"'{name}' must be true or false.",
                field=name,
            )


def document_problems(document: object, problems: Problems, field: str = "document") -> None:
    if not isinstance(document, dict) or set(document) - {*DOCUMENT_FIELDS, "date"}:
        problems.add(
            "invalid_document",
            "'document' gồm number (số, ký hiệu), date, issuer, section, title.",
            "'document' holds number, date, issuer, section, title.",
            field=field,
        )
        return
    for name, rule in DOCUMENT_FIELDS.items():
        add_text_problems(
            problems, document.get(name), f"{field}.{name}", rule, required=name == "number"
        )
    when = document.get("date")
    if when is not None and not _is_date(when):
        problems.add(
            "invalid_date",
            "Ngày văn bản là ngày có thật, dạng YYYY-MM-DD.",
            "The document date must be a real date written YYYY-MM-DD.",
            field=f"{field}.date",
        )


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def description_problems(description: object, problems: Problems) -> None:
    add_text_problems(problems, description, "description", NOTE, required=False)


def id_list_problems(
    values: object, field: str, problems: Problems, *, evidence: bool = False
) -> None:
    """A list of leaf codes (at least one) or of evidence ids (maybe none): each well
    formed, none twice, at most 200."""
    least = 0 if evidence else 1
    if not isinstance(values, list) or not least <= len(values) <= MAX_LIST:
        problems.add(
            f"invalid_{field}",
            f"'{field}' là danh sách từ {least} đến {MAX_LIST} mã.",
            f"'{field}' must be a list of {least} to {MAX_LIST} codes.",
            field=field,
        )
        return
    seen: set[str] = set()
    for i, value in enumerate(values):
        where = f"{field}[{i}]"
        found = id_problem(value, where, EVIDENCE_ID if evidence else LEAF)
        if found is not None:
            problems.items.append(found)
        elif value in seen:
            kind = "evidence" if evidence else "leaf"
            problems.add(
                f"duplicate_{kind}",
                f"'{value}' có hai lần trong '{field}'.",
                f"'{value}' appears twice in '{field}'.",
                field=where,
            )
        else:
            seen.add(value)
