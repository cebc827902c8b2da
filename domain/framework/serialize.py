"""A framework as plain JSON data, and its content digest.

The dict is what a signed event carries, so it is deterministic: nodes in
table order, Decimals as canonical strings ("0.25", "10"), every key always
present (null when empty). `from_dict(to_dict(f)) == f` for every framework.
The digest is "sha256:" + hex of the RFC 8785 (JCS) canonical JSON of the dict.

Shape (format "parindex.framework/1"):

    {"format", "id": "slug@version", "slug", "version", "name", "jurisdiction",
     "level", "year", "source", "supersedes",
     "bands": [{"code", "minimum", "name_vi", "name_en"}, ...],
     "nodes": [{"code", "label", "title", "max_points", "note",
                "rule": null | {"kind", "step", "bands": [{"threshold", "points"}],
                                "gated_by": [...], "na_policy"}}, ...]}
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import rfc8785

from domain.errors import DomainError
from domain.framework.bands import Band, Bands
from domain.framework.decimals import canonical, parse_decimal
from domain.framework.meta import FrameworkMeta
from domain.framework.model import Framework, Node
from domain.framework.problems import failed, problem
from domain.framework.rules import NaPolicy, RatioBand, Rule, RuleKind

FORMAT = "parindex.framework/1"
# A framework with variations: /1 and three more node members, `component`
# and `cap` on bonus and penalty areas, `max_by_type` on leaves whose maximum
# depends on the unit's type, each present only where set (so a /1 framework
# serializes, and digests, as it always did).
FORMAT_2 = "parindex.framework/2"
FORMATS = (FORMAT, FORMAT_2)


def to_dict(framework: Framework) -> dict[str, Any]:
    """The framework as JSON-able data (no floats, no Decimals)."""
    meta = framework.meta
    return {
        "format": FORMAT_2 if framework.has_variations else FORMAT,
        "id": str(meta.id),
        "slug": meta.slug,
        "version": meta.version,
        "name": meta.name,
        "jurisdiction": meta.jurisdiction,
        "level": meta.level.value,
        "year": meta.year,
        "source": meta.source,
        "supersedes": meta.supersedes,
        "bands": [
            {
                "code": b.code,
                "minimum": canonical(b.minimum),
                "name_vi": b.name_vi,
                "name_en": b.name_en,
            }
            for b in meta.bands.items
        ],
        "nodes": [_node_dict(n) for n in framework.nodes],
    }


def _node_dict(node: Node) -> dict[str, Any]:
    rule = node.rule
    out = _plain_node_dict(node, rule)
    if node.component is not None:
        out["component"] = node.component
        out["cap"] = None if node.cap is None else canonical(node.cap)
    if node.max_by_type:
        out["max_by_type"] = {t: canonical(m) for t, m in sorted(node.max_by_type)}
    return out


def _plain_node_dict(node: Node, rule: Any) -> dict[str, Any]:
    return {
        "code": node.code,
        "label": node.label,
        "title": node.title,
        "max_points": canonical(node.max_points),
        "note": node.note,
        "rule": None
        if rule is None
        else {
            "kind": rule.kind.value,
            "step": None if rule.step is None else canonical(rule.step),
            "bands": [
                {"threshold": canonical(b.threshold), "points": canonical(b.points)}
                for b in rule.bands
            ],
            "gated_by": list(rule.gated_by),
            "na_policy": None if rule.na_policy is None else rule.na_policy.value,
        },
    }


def from_dict(data: Any) -> Framework:
    """The framework back from `to_dict` data; ValidationFailed if malformed or invalid."""
    try:
        if not isinstance(data, dict) or data.get("format") not in FORMATS:
            raise _Malformed(f"format must be {FORMAT} or {FORMAT_2}")
        bands = Bands(
            tuple(
                Band(_str(b, "code"), _dec(b, "minimum"), _str(b, "name_vi"), _str(b, "name_en"))
                for b in _list(data, "bands")
            )
        )
        meta = FrameworkMeta(
            name=_str(data, "name"),
            jurisdiction=_str(data, "jurisdiction"),
            level=_str(data, "level"),
            year=data.get("year"),
            source=_opt(data, "source"),
            bands=bands,
            supersedes=_opt(data, "supersedes"),
            slug=_str(data, "slug"),
            version=data.get("version"),
        )
        nodes = [_node(n) for n in _list(data, "nodes")]
    except _Malformed as exc:
        raise failed([problem("malformed_framework_data", detail=str(exc))]) from None
    framework = Framework.build(meta, nodes)
    if "id" in data and data["id"] != str(framework.id):
        raise failed([problem("malformed_framework_data", detail="id does not match slug@version")])
    return framework


def canonical_json(framework: Framework) -> bytes:
    """RFC 8785 canonical JSON bytes of `to_dict(framework)`."""
    return rfc8785.dumps(to_dict(framework))


def content_digest(framework: Framework) -> str:
    """ "sha256:<hex>" of the canonical JSON: equal frameworks, equal digests."""
    return "sha256:" + hashlib.sha256(canonical_json(framework)).hexdigest()


class _Malformed(Exception):
    pass


def _node(data: Any) -> Node:
    rule_data = data.get("rule") if isinstance(data, dict) else None
    rule = None
    if rule_data is not None:
        kind, policy = _str(rule_data, "kind"), _opt(rule_data, "na_policy")
        if kind not in _KINDS or (policy is not None and policy not in _POLICIES):
            raise _Malformed(f"unknown rule {kind!r} or na_policy {policy!r}")
        step = rule_data.get("step")
        rule = Rule(
            kind=RuleKind(kind),
            step=None if step is None else _dec(rule_data, "step"),
            bands=tuple(
                RatioBand(_dec(b, "threshold"), _dec(b, "points"))
                for b in _list(rule_data, "bands")
            ),
            gated_by=tuple(_str({"gate": g}, "gate") for g in _list(rule_data, "gated_by")),
            na_policy=None if policy is None else NaPolicy(policy),
        )
    return Node(
        code=_str(data, "code"),
        title=_str(data, "title"),
        max_points=_dec(data, "max_points"),
        label=_str(data, "label"),
        note=_opt(data, "note"),
        rule=rule,
        component=_opt(data, "component"),
        cap=None if data.get("cap") is None else _dec(data, "cap"),
        max_by_type=_by_type(data.get("max_by_type")),
    )


def _by_type(data: Any) -> tuple[tuple[str, Decimal], ...]:
    if data is None:
        return ()
    if not isinstance(data, dict) or not data:
        raise _Malformed("max_by_type must be an object of unit type -> decimal string")
    return tuple(sorted((str(t), _dec(data, t)) for t in data))


_KINDS = {k.value for k in RuleKind}
_POLICIES = {p.value for p in NaPolicy}


def _list(data: Any, key: str) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise _Malformed(f"{key} must be a list")
    return value


def _str(data: Any, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise _Malformed(f"{key} must be a string")
    return value


def _opt(data: Any, key: str) -> str | None:
    return None if not isinstance(data, dict) or data.get(key) is None else _str(data, key)


def _dec(data: Any, key: str) -> Decimal:
    try:
        return parse_decimal(_str(data, key))
    except DomainError:
        raise _Malformed(f"{key} must be a decimal string") from None
