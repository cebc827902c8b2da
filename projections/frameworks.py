"""Published frameworks as the projections use them: parsed once, walks memoised.

`compute` asks every node for `leaves_under` and every leaf for `ancestors`;
the domain model answers those by scanning the table each time. A published
framework never changes, so here the answers are kept. The subclass changes
no result, only how often the same answer is worked out.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from domain.framework import Framework, from_dict, to_dict
from domain.framework.codes import parent_code
from projections.rows import dec_text, jdump


class CachedFramework(Framework):
    @cached_property
    def leaves(self) -> tuple:  # type: ignore[override]
        return Framework.leaves.fget(self)  # type: ignore[attr-defined]

    @cached_property
    def _walks(self) -> dict:
        return {}

    def leaves_under(self, code: str) -> tuple:
        key = ("under", code)
        found = self._walks.get(key)
        if found is None:
            found = self._walks[key] = Framework.leaves_under(self, code)
        return found

    def ancestors(self, code: str) -> tuple[str, ...]:
        key = ("up", code)
        found = self._walks.get(key)
        if found is None:
            found = self._walks[key] = Framework.ancestors(self, code)
        return found

    @cached_property
    def key(self) -> str:
        """slug@version plus content digest: what memo tables are keyed by."""
        return f"{self.meta.id}#{hash(self.nodes)}"

    @cached_property
    def leaf_codes(self) -> frozenset[str]:
        return frozenset(n.code for n in self.leaves)

    @cached_property
    def positions(self) -> dict[str, int]:
        return {n.code: i for i, n in enumerate(self.nodes)}


def cached(data: dict) -> CachedFramework:
    framework = from_dict(data)
    return CachedFramework(framework.meta, framework.nodes)


class FrameworkCache:
    """Framework id -> CachedFramework, filled from events or the read model."""

    def __init__(self) -> None:
        self._by_id: dict[str, CachedFramework] = {}

    def put(self, framework_id: str, data: dict) -> CachedFramework:
        found = self._by_id.get(framework_id)
        if found is None:
            found = self._by_id[framework_id] = cached(data)
        return found

    def get(self, framework_id: str, cur: Any) -> CachedFramework | None:
        found = self._by_id.get(framework_id)
        if found is None:
            cur.execute("SELECT data FROM frameworks WHERE id = ?", (framework_id,))
            row = cur.fetchone()
            if row is None:
                return None
            found = self.put(framework_id, json.loads(row["data"]))
        return found


def node_rows(framework_id: str, framework: Framework) -> list[tuple]:
    """framework_nodes rows in table order; each leaf's rule in its canonical form."""
    signed = {n["code"]: n for n in to_dict(framework)["nodes"]}
    rows = []
    for position, node in enumerate(framework.nodes):
        depth = len(framework.ancestors(node.code))
        rows.append(
            (
                framework_id,
                node.code,
                parent_code(node.code),
                depth,
                position,
                node.label,
                node.title,
                dec_text(node.max_points),
                node.note,
                jdump(signed[node.code]["rule"]),
                int(framework.is_leaf(node.code)),
                node.component,
                None if node.cap is None else dec_text(node.cap),
                jdump(signed[node.code].get("max_by_type")),
            )
        )
    return rows
