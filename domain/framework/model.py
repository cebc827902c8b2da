"""The criteria framework (bộ tiêu chí): a versioned tree of scored nodes.

Areas (lĩnh vực, I..VIII) hold criteria (1.1), which hold sub-criteria (1.1.1),
to any depth. Only leaves are scored; a parent's maximum is exactly the sum of
its children's. Build one with `Framework.build`, which checks every invariant
and reports every fault at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from domain.framework.codes import code_key, default_label, parent_code
from domain.framework.decimals import ARITHMETIC, canonical
from domain.framework.invariants import tree_problems
from domain.framework.meta import FrameworkId, FrameworkMeta
from domain.framework.problems import error, failed
from domain.framework.rules import Rule
from domain.framework.text import clean

# What an area adds to the total (docs/FRAMEWORKS.md, "Variations"): None, the
# criteria scored against the maximum; "survey" (khảo sát, SIPAS), scored
# against the maximum but entered by the survey's own source, never by the
# commune or the appraisers; "bonus" (điểm thưởng) adds its points, at most
# `cap`; "penalty" (điểm trừ) takes its points off, at most `cap`. Bonus and
# penalty areas are outside the maximum (100 stays 100).
COMPONENTS = ("survey", "bonus", "penalty")
ADJUSTMENTS = ("bonus", "penalty")


@dataclass(frozen=True)
class Node:
    """One row of the table. `label` is the code as printed ("I", "1.1").

    `rule` is None for parents; a leaf without one is scored manually.
    `component` and `cap` are set on bonus and penalty areas only.
    """

    code: str
    title: str
    max_points: Decimal
    label: str = ""
    note: str | None = None
    rule: Rule | None = None
    component: str | None = None
    cap: Decimal | None = None
    # A leaf's maximum for a type of unit where it differs ((("phuong", 2),)):
    # 0 means the criterion is not assessed for that type (docs/FRAMEWORKS.md).
    max_by_type: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class Framework:
    """A valid framework: metadata and nodes in table order (by code)."""

    meta: FrameworkMeta
    nodes: tuple[Node, ...]
    _by_code: dict[str, Node] = field(init=False, repr=False, compare=False)
    _children: dict[str | None, tuple[Node, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {n.code: n for n in self.nodes}
        children: dict[str | None, list[Node]] = {}
        for node in self.nodes:
            children.setdefault(parent_code(node.code), []).append(node)
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})
        # Asked for every node of every unit scored: kept, not rebuilt each time.
        leaves = tuple(n for n in self.nodes if n.code not in self._children)
        object.__setattr__(self, "_leaves", leaves)
        object.__setattr__(self, "_leaves_under", {})
        object.__setattr__(self, "scored", {})  # compute's memo of leaf results
        object.__setattr__(self, "_views", {})  # unit type -> the framework for it

    @classmethod
    def build(
        cls, meta: FrameworkMeta, nodes: Iterable[Node], rows: Sequence[int | None] | None = None
    ) -> Framework:
        """A Framework from nodes in any order, or ValidationFailed listing every fault.

        `rows` (parallel to `nodes`) are the spreadsheet rows the nodes came
        from; when given, each problem names its row. Text is stored NFC,
        leaves without a rule get the manual rule, missing labels get the
        printed form (Roman numerals for areas).
        """
        given = [_normalised(n) for n in nodes]
        row_of = list(rows) if rows is not None else [None] * len(given)
        problems = meta.problems() + tree_problems(given, row_of)
        if problems:
            raise failed(problems)
        parents = {parent_code(n.code) for n in given}
        completed = [
            dataclasses.replace(n, rule=n.rule or Rule()) if n.code not in parents else n
            for n in given
        ]
        built = cls(meta, tuple(sorted(completed, key=lambda n: code_key(n.code))))
        rows_by_code = dict(zip((n.code for n in given), row_of, strict=True))
        problems = []
        for unit_type in built.unit_types:
            view = built._view(unit_type)
            if view.max_total != built.max_total:
                problems.append(
                    error(
                        "type_total_differs",
                        unit_type=unit_type,
                        typed=canonical(view.max_total),
                        total=canonical(built.max_total),
                    ).problems[0]
                )
            for p in tree_problems(view.nodes, [rows_by_code.get(n.code) for n in view.nodes]):
                problems.append(
                    dataclasses.replace(
                        p,
                        message_vi=f"{p.message_vi} (với loại đơn vị {unit_type})",
                        message_en=f"{p.message_en} (for unit type {unit_type})",
                    )
                )
        if problems:
            raise failed(problems)
        return built

    @property
    def id(self) -> FrameworkId:
        return self.meta.id

    def node(self, code: str) -> Node:
        """The node with this code; DomainError `unknown_node` (404) if none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise error("unknown_node", field="code", code=code) from None

    def has(self, code: str) -> bool:
        return code in self._by_code

    def children(self, code: str | None) -> tuple[Node, ...]:
        """Direct children in table order; `children(None)` are the areas."""
        return self._children.get(code, ())

    def is_leaf(self, code: str) -> bool:
        return code in self._by_code and code not in self._children

    @property
    def areas(self) -> tuple[Node, ...]:
        return self.children(None)

    @property
    def leaves(self) -> tuple[Node, ...]:
        return self._leaves  # type: ignore[attr-defined]

    def leaves_under(self, code: str) -> tuple[Node, ...]:
        """The leaves of the subtree at `code` (the node itself if it is a leaf)."""
        memo = self._leaves_under  # type: ignore[attr-defined]
        found = memo.get(code)
        if found is None:
            prefix = code + "."
            found = memo[code] = tuple(
                n for n in self.leaves if n.code == code or n.code.startswith(prefix)
            )
        return found

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Codes from the parent up to the area: "1.2.3" -> ("1.2", "1")."""
        out, current = [], parent_code(code)
        while current is not None:
            out.append(current)
            current = parent_code(current)
        return tuple(out)

    @property
    def counted_areas(self) -> tuple[Node, ...]:
        """The areas scored against the maximum (not bonus or penalty)."""
        return tuple(a for a in self.areas if a.component not in ADJUSTMENTS)

    def component_of(self, code: str) -> str | None:
        """The component of the area `code` is in (None: a scored criterion)."""
        area = self._by_code.get(code.split(".", 1)[0])
        return None if area is None else area.component

    @property
    def has_variations(self) -> bool:
        return self.typed or any(a.component is not None for a in self.areas)

    @property
    def survey_leaves(self) -> frozenset[str]:
        """The leaves whose values the survey's source enters (a survey area's)."""
        memo = self.__dict__.get("_survey_leaves")
        if memo is None:
            memo = self.__dict__["_survey_leaves"] = frozenset(
                leaf.code for leaf in self.leaves if self.component_of(leaf.code) == "survey"
            )
        return memo

    @property
    def typed(self) -> bool:
        """True when some leaf's maximum depends on the unit's type."""
        return any(leaf.max_by_type for leaf in self.leaves)

    @property
    def unit_types(self) -> tuple[str, ...]:
        return tuple(sorted({t for leaf in self.leaves for t, _m in leaf.max_by_type}))

    def for_type(self, unit_type: str | None) -> Framework:
        """The table a unit of that type is scored against: each leaf at its
        maximum for the type, a leaf whose maximum for it is 0 left out (with
        the parents left empty, and any gate on it), parents summed again.
        The framework itself for a type it does not name, or no type."""
        if unit_type is None or unit_type not in self.unit_types:
            return self
        views = self._views  # type: ignore[attr-defined]
        found = views.get(unit_type)
        if found is None:
            found = views[unit_type] = self._view(unit_type)
        return found

    def _view(self, unit_type: str) -> Framework:
        maxima = {
            leaf.code: dict(leaf.max_by_type).get(unit_type, leaf.max_points)
            for leaf in self.leaves
        }
        dropped = {
            code
            for code, m in maxima.items()
            if m == 0 and any(t == unit_type for t, _m in self.node(code).max_by_type)
        }
        sums: dict[str, Decimal] = {}
        with localcontext(ARITHMETIC):
            for code, m in maxima.items():
                if code in dropped:
                    continue
                for up in (code, *self.ancestors(code)):
                    sums[up] = sums.get(up, Decimal(0)) + m
        nodes = []
        for node in self.nodes:
            if node.code not in sums:
                continue  # a dropped leaf, or a parent with none of its leaves left
            changes: dict = {"max_points": sums[node.code], "max_by_type": ()}
            if node.rule is not None and set(node.rule.gated_by) & dropped:
                gates = tuple(g for g in node.rule.gated_by if g not in dropped)
                changes["rule"] = dataclasses.replace(node.rule, gated_by=gates)
            if node.cap is not None and node.cap > sums[node.code]:
                changes["cap"] = sums[node.code]
            nodes.append(dataclasses.replace(node, **changes))
        return type(self)(self.meta, tuple(nodes))

    @property
    def max_total(self) -> Decimal:
        """The sum of the scored areas' maxima (100 for Thái Nguyên 2021); bonus
        and penalty areas are outside it."""
        with localcontext(ARITHMETIC):
            return sum((a.max_points for a in self.counted_areas), Decimal(0))

    def as_version(self, version: int, supersedes: str | None) -> Framework:
        """The same table as another version (a revision names what it supersedes)."""
        meta = dataclasses.replace(self.meta, version=version, supersedes=supersedes)
        return Framework.build(meta, self.nodes)


def _normalised(node: Node) -> Node:
    note = clean(node.note) or None
    label = clean(node.label)
    if not label:
        try:
            label = default_label(node.code)
        except ValueError:
            label = node.code
    return dataclasses.replace(node, title=clean(node.title), label=label, note=note)
