"""Properties over random frameworks: invariants hold, totals add up, breakages are reported."""

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.framework import (
    Framework,
    FrameworkMeta,
    LeafInput,
    Level,
    Node,
    compute,
    content_digest,
    from_dict,
    to_dict,
)
from domain.framework.codes import code_key, parent_code
from domain.framework.decimals import canonical, divide
from interfaces.framework_io.exporter import table_rows
from interfaces.framework_io.importer import parse_table

META = FrameworkMeta(name="Bộ ngẫu nhiên", jurisdiction="Tỉnh Thử", level=Level.COMMUNE, year=2024)
PLACES = D("0.0001")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

points = st.integers(min_value=0, max_value=100_000).map(lambda n: n * PLACES)


@st.composite
def tables(draw) -> list[tuple[str, D]]:
    """A valid table as (code, max) rows in table order: 1-4 areas, up to 4 levels deep."""
    rows: list[tuple[str, D]] = []

    def subtree(code: str, depth: int) -> D:
        width = draw(st.integers(min_value=0, max_value=3 if depth < 4 else 0))
        if width == 0:
            rows.append((code, draw(points)))
            return rows[-1][1]
        at = len(rows)
        rows.append((code, D(0)))
        numbers = sorted(
            draw(st.lists(st.integers(1, 12), min_size=width, max_size=width, unique=True))
        )
        total = sum((subtree(f"{code}.{n}", depth + 1) for n in numbers), D(0))
        rows[at] = (code, total)
        return total

    for area in range(1, draw(st.integers(min_value=1, max_value=4)) + 1):
        subtree(str(area), 1)
    return rows


def nodes_of(rows: list[tuple[str, D]]) -> list[Node]:
    return [Node(code, f"Tiêu chí {code}", maximum) for code, maximum in rows]


def sheet(rows: list[tuple[str, D]]) -> list[list[str]]:
    return [
        ["code", "title", "max_points"],
        *([code, f"Tiêu chí {code}", canonical(m)] for code, m in rows),
    ]


@SETTINGS
@given(tables(), st.randoms())
def test_random_valid_trees_build_in_table_order_with_their_invariants(rows, random):
    shuffled = list(rows)
    random.shuffle(shuffled)
    framework = Framework.build(META, nodes_of(shuffled))
    assert [n.code for n in framework.nodes] == sorted((c for c, _ in rows), key=code_key)
    for node in framework.nodes:
        children = framework.children(node.code)
        if children:
            assert node.max_points == sum(c.max_points for c in children)
        assert node.max_points >= 0
    leaves_total = sum((leaf.max_points for leaf in framework.leaves), D(0))
    assert framework.max_total == leaves_total == sum(a.max_points for a in framework.areas)


@SETTINGS
@given(st.data())
def test_totals_from_leaves_equal_the_sum_of_areas_and_of_every_parents_children(data):
    framework = Framework.build(META, nodes_of(data.draw(tables())))
    given_points = {
        leaf.code: LeafInput(
            points=data.draw(
                st.integers(0, int(leaf.max_points / PLACES)).map(lambda n: n * PLACES)
            )
        )
        for leaf in framework.leaves
    }
    result = compute(framework, given_points)
    leaf_sum = sum((given_points[leaf.code].points for leaf in framework.leaves), D(0))
    assert result.total == leaf_sum == sum(a.score for a in result.areas)
    for node in framework.nodes:
        score = result.node(node.code)
        children = framework.children(node.code)
        if children:
            assert score.score == sum(result.node(c.code).score for c in children)
        assert score.points_lost == node.max_points - score.score >= 0
        assert 0 <= score.score <= node.max_points
    if framework.max_total:
        assert result.index == divide(result.total * 100, framework.max_total)


@SETTINGS
@given(tables())
def test_random_frameworks_round_trip_through_data_and_through_the_table_format(rows):
    framework = Framework.build(META, nodes_of(rows))
    data = to_dict(framework)
    assert from_dict(data) == framework
    again = parse_table(table_rows(framework), META).framework
    assert to_dict(again) == data
    assert content_digest(again) == content_digest(framework)


BREAKAGES = ("duplicate_code", "parent_missing", "parent_sum_mismatch", "negative_max")


def break_table(rows: list[tuple[str, D]], kind: str, pick: int) -> tuple[list, tuple]:
    """The rows with one fault, and the (row, column, code) it must be reported as."""
    rows = list(rows)
    if kind == "duplicate_code":
        rows.append(rows[pick % len(rows)])
        return rows, (len(rows) + 1, "code", kind)
    if kind == "parent_missing":
        areas = max(int(code) for code, _ in rows if "." not in code)
        rows.append((f"{areas + 1}.{pick % 9 + 1}", D(1)))
        return rows, (len(rows) + 1, "code", kind)
    codes = {code for code, _ in rows}
    parents = [i for i, (code, _) in enumerate(rows) if any(parent_code(c) == code for c in codes)]
    leaves = [i for i, (code, _) in enumerate(rows) if i not in parents]
    if kind == "parent_sum_mismatch" and parents:
        i = parents[pick % len(parents)]
        rows[i] = (rows[i][0], rows[i][1] + PLACES)
        return rows, (i + 2, "max_points", kind)
    i = leaves[pick % len(leaves)]
    rows[i] = (rows[i][0], -rows[i][1] - PLACES)
    return rows, (i + 2, "max_points", "negative_max")


@SETTINGS
@given(tables(), st.sampled_from(BREAKAGES), st.integers(min_value=0, max_value=10_000))
def test_a_random_breakage_is_reported_at_its_row_and_column(rows, kind, pick):
    broken, expected = break_table(rows, kind, pick)
    try:
        parse_table(sheet(broken), META)
    except ValidationFailed as failure:
        reported = {(p.row, p.column, p.code) for p in failure.problems}
    else:
        reported = set()
    assert expected in reported


@SETTINGS
@given(
    tables(),
    st.lists(st.tuples(st.sampled_from(BREAKAGES), st.integers(0, 10_000)), min_size=2, max_size=4),
)
def test_several_breakages_are_all_reported_at_once(rows, breakages):
    expected = []
    for kind, pick in breakages:
        rows, where = break_table(rows, kind, pick)
        expected.append(where)
    try:
        parse_table(sheet(rows), META)
    except ValidationFailed as failure:
        reported = {(p.row, p.column, p.code) for p in failure.problems}
    else:
        reported = set()
    # a later breakage may repair an earlier sum (or duplicate it), so check each kind
    # that cannot be undone: rows appended, and negative maxima
    for where in expected:
        if where[2] in ("duplicate_code", "parent_missing", "negative_max"):
            assert where in reported or _overwritten(rows, where)


def _overwritten(rows: list[tuple[str, D]], where: tuple) -> bool:
    row, _, code = where
    return code == "negative_max" and rows[row - 2][1] >= 0
