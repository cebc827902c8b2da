"""A leaf's originator id bytes: the shortcut for 32 hex digits gives what UUID gives."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.transparency.leaf import _id_bytes

HEXISH = st.text(alphabet="0123456789abcdefABCDEF-_+ xg{}", min_size=30, max_size=36)


def by_uuid(value):
    try:
        return uuid.UUID(str(value)).bytes
    except (ValueError, TypeError):
        return None


@given(st.one_of(HEXISH, st.uuids().map(lambda u: u.hex), st.uuids().map(str), st.text()))
def test_an_id_gives_the_bytes_of_its_uuid_or_the_same_refusal(value):
    expected = by_uuid(value)
    if expected is None:
        with pytest.raises(ValueError):
            _id_bytes(value)
    else:
        assert _id_bytes(value) == expected


def test_uuid_objects_and_odd_but_valid_spellings():
    u = uuid.uuid4()
    assert _id_bytes(u) == u.bytes
    assert _id_bytes(u.hex.upper()) == u.bytes
    assert _id_bytes("0x" + u.hex[2:]) == uuid.UUID("0x" + u.hex[2:]).bytes
