"""Replay's comparison of a derived event with the stored one: the faster code
must say exactly what the plain definition says, for any JSON-like values."""

import math

from hypothesis import given
from hypothesis import strategies as st

from application.audit.replay import differing_member, same


def plain_same(a, b):
    """The definition: JSON equality with types kept apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(plain_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(plain_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def plain_differing_member(derived, stored, ignored):
    values = {k: v for k, v in derived.items() if k not in ignored}
    for name, value in values.items():
        if name not in stored or not plain_same(value, stored[name]):
            return name
    for name in stored:
        if name not in values and name != "timestamp":
            return name
    return None


NAMES = st.sampled_from(["leaf", "points", "note", "signed", "timestamp", "originator_id", "a"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 0.0, 1.0, -0.0, math.nan, "", "1", "true"]),
    st.integers(),
    st.text(max_size=3),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=8,
)
OBJECTS = st.dictionaries(NAMES, VALUES, max_size=6)
IGNORED = st.sampled_from([(), ("originator_id", "originator_version", "timestamp"), ("a",)])


@given(VALUES, VALUES)
def test_same_is_the_typed_json_equality(a, b):
    assert same(a, b) == plain_same(a, b)
    assert same(a, a) == plain_same(a, a)


@given(OBJECTS, OBJECTS, IGNORED)
def test_the_first_differing_member_is_the_one_the_definition_names(derived, stored, ignored):
    assert differing_member(derived, stored, ignored) == plain_differing_member(
        derived, stored, ignored
    )
    # Mostly-equal pairs, where the shortcuts are taken.
    both = {**stored, **derived}
    assert differing_member(derived, both, ignored) == plain_differing_member(
        derived, both, ignored
    )
    assert differing_member(both, both, ignored) == plain_differing_member(both, both, ignored)
