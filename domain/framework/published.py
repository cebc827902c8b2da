"""A framework as a `publish_framework` command carries it: already in its final form.

The signed data is stored as signed, and readers rebuild the framework from it,
so it must be exactly what `to_dict` writes for the framework it describes: text
that obeys the signed-text rule (domain/text.py) and is already cleaned (NFC,
single spaces), decimals in their one canonical text, members in their order.
Anything else is refused with the path of the fault ("framework.nodes[3].title");
nothing is rewritten.
"""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError, Problem, ValidationFailed
from domain.framework.decimals import parse_exact
from domain.framework.model import Framework
from domain.framework.serialize import from_dict, to_dict
from domain.ids import BAND_CODE, FRAMEWORK_ID, LEAF, SLUG, IdRule, id_problem
from domain.text import CODE_TEXT, FRAMEWORK_NOTE, NAME, TITLE, TextRule, text_problems

ROOT = "framework"
# Top-level text members and their rules; `required` is False for optional ones.
_META_TEXT: tuple[tuple[str, TextRule, bool], ...] = (
    ("name", TITLE, True),
    ("jurisdiction", NAME, True),
    ("source", TITLE, False),
)
_BAND_TEXT = (("name_vi", NAME, True), ("name_en", NAME, True))
_NODE_TEXT = (("title", TITLE, True), ("label", CODE_TEXT, True), ("note", FRAMEWORK_NOTE, False))


def check_published(data: Any) -> Framework:
    """The framework `data` describes, if `data` is its exact canonical form.

    Raises ValidationFailed listing every fault with its path.
    """
    problems = _field_problems(data)
    if problems:
        raise ValidationFailed(problems)
    framework = from_dict(data)
    difference = _first_difference(to_dict(framework), data, ROOT)
    if difference is not None:
        path, vi, en = difference
        raise ValidationFailed(
            [
                Problem(
                    "framework_not_canonical",
                    f"'{path}' khác dạng chuẩn của bộ tiêu chí; dạng đúng: {vi}.",
                    f"'{path}' differs from the framework's canonical form; expected {en}.",
                    field=path,
                )
            ]
        )
    return framework


def _field_problems(data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return []  # from_dict reports the shape
    out: list[Problem] = []
    _texts(out, data, ROOT, _META_TEXT)
    _id(out, data, "slug", ROOT, SLUG)
    _id(out, data, "id", ROOT, FRAMEWORK_ID)
    if data.get("supersedes") is not None:
        _id(out, data, "supersedes", ROOT, FRAMEWORK_ID)
    for i, band in enumerate(_items(data, "bands")):
        where = f"{ROOT}.bands[{i}]"
        _texts(out, band, where, _BAND_TEXT)
        _id(out, band, "code", where, BAND_CODE)
        _decimal(out, band, "minimum", where)
    for i, node in enumerate(_items(data, "nodes")):
        where = f"{ROOT}.nodes[{i}]"
        _texts(out, node, where, _NODE_TEXT)
        _id(out, node, "code", where, LEAF)
        _decimal(out, node, "max_points", where)
        rule = node.get("rule") if isinstance(node, dict) else None
        if isinstance(rule, dict):
            if rule.get("step") is not None:
                _decimal(out, rule, "step", f"{where}.rule")
            for j, band in enumerate(_items(rule, "bands")):
                for name in ("threshold", "points"):
                    _decimal(out, band, name, f"{where}.rule.bands[{j}]")
            for j, gate in enumerate(_items(rule, "gated_by")):
                found = id_problem(gate, f"{where}.rule.gated_by[{j}]", LEAF)
                if found is not None:
                    out.append(found)
    return out


def _items(data: Any, key: str) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _texts(out: list[Problem], data: Any, where: str, rules) -> None:
    if not isinstance(data, dict):
        return
    for name, rule, required in rules:
        if name in data and (data[name] is not None or required):
            out.extend(text_problems(data[name], f"{where}.{name}", rule, required=required))


def _id(out: list[Problem], data: Any, name: str, where: str, rule: IdRule) -> None:
    if isinstance(data, dict):
        found = id_problem(data.get(name), f"{where}.{name}", rule)
        if found is not None:
            out.append(found)


def _decimal(out: list[Problem], data: Any, name: str, where: str) -> None:
    if not isinstance(data, dict) or name not in data:
        return
    try:
        parse_exact(data[name], field=f"{where}.{name}")
    except DomainError as e:
        out.extend(e.problems)


def _first_difference(expected: Any, given: Any, path: str) -> tuple[str, str, str] | None:
    """The first place `given` differs from `expected` (types compared too: 1 is not true):
    its path and the expected value, in Vietnamese and English."""
    if type(expected) is not type(given):
        return path, _shown(expected), _shown(expected)
    if isinstance(expected, dict):
        if set(expected) != set(given):
            extra = sorted(set(given) - set(expected))
            if extra:
                return f"{path}.{extra[0]}", "không có trường này", "no such member"
            key = sorted(set(expected) - set(given))[0]
            return f"{path}.{key}", _shown(expected[key]), _shown(expected[key])
        for key in expected:
            found = _first_difference(expected[key], given[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(expected, list):
        for i, (e, g) in enumerate(zip(expected, given, strict=False)):
            found = _first_difference(e, g, f"{path}[{i}]")
            if found is not None:
                return found
        if len(expected) != len(given):
            n = len(expected)
            return f"{path}[{min(n, len(given))}]", f"{n} phần tử", f"{n} items"
        return None
    if expected == given:
        return None
    return path, _shown(expected), _shown(expected)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:60] + "…"
