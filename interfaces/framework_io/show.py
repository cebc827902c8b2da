"""The framework as people read it: an indented tree with maxima and rules, or JSON."""

from __future__ import annotations

import json

from domain.framework.codes import depth
from domain.framework.decimals import canonical
from domain.framework.model import Framework
from domain.framework.serialize import content_digest, to_dict

_LEVEL_VI = {"commune": "cấp xã", "district": "cấp huyện", "province": "cấp tỉnh"}
_HEAD = {
    "vi": (
        "Mã",
        "Tiêu chí",
        "Tối đa",
        "Cách chấm",
        "Phân loại",
        "Nguồn",
        "lĩnh vực",
        "tiêu chí thành phần",
        "Tổng điểm",
    ),
    "en": ("Code", "Criterion", "Max", "Rule", "Bands", "Source", "areas", "leaves", "Total"),
}


def format_tree(framework: Framework, lang: str = "vi") -> str:
    """Text listing: one line per node: maximum, then label and title indented by depth,
    then the rule of a leaf after a "|"."""
    meta = framework.meta
    head = _HEAD["en" if lang == "en" else "vi"]
    level = meta.level.value if lang == "en" else _LEVEL_VI.get(meta.level.value, "")
    bands = "; ".join(
        f"{b.name_en if lang == 'en' else b.name_vi} >= {canonical(b.minimum)}"
        for b in meta.bands.items
    )
    lines = [
        f"{meta.name} ({meta.id})",
        f"{meta.jurisdiction} · {level} · {meta.year}"
        + (f" · {head[5]}: {meta.source}" if meta.source else ""),
        f"{head[4]}: {bands}",
        f"{len(framework.areas)} {head[6]}, {len(framework.leaves)} {head[7]}, "
        f"{head[8]} {canonical(framework.max_total)} · {content_digest(framework)}",
        "",
    ]
    lines.append(f"{head[2]:>7}  {head[0]} {head[1]} | {head[3]}")
    for node in framework.nodes:
        indent = "  " * (depth(node.code) - 1)
        rule = f" | {node.rule.describe()}" if node.rule is not None else ""
        lines.append(f"{canonical(node.max_points):>7}  {indent}{node.label} {node.title}{rule}")
    return "\n".join(lines) + "\n"


def tree_json(framework: Framework) -> str:
    """The serialised framework (see domain.framework.serialize) with its digest."""
    data = {**to_dict(framework), "digest": content_digest(framework)}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
