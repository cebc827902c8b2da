"""Decimals in signed data have one ASCII text; every other spelling is refused with
the accepted form shown, never read as a number."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.framework.decimals import canonical, parse_exact

exact_values = st.integers(min_value=-(10**19) + 1, max_value=10**19 - 1).map(
    lambda n: D(n).scaleb(-4)
)


@given(exact_values)
def test_every_canonical_decimal_round_trips(value):
    text = canonical(value)
    assert parse_exact(text) == value
    assert canonical(parse_exact(text)) == text


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("٠.٥", "0.5"),  # Arabic-Indic digits
        ("０.５", "0.5"),  # fullwidth digits
        ("-0", "0"),
        (".5", "0.5"),
        ("1.", "1"),
        ("+1", "1"),
        ("1e0", "1"),
        (" 1", "1"),
        ("1 ", "1"),
        ("01", "1"),
        ("0.50", "0.5"),
        ("2.000", "2"),
        ("0,5", "0.5"),
        ("1\u00a0", "1"),
        ("१२", "12"),  # Devanagari digits
    ],
)
def test_a_non_canonical_decimal_is_refused_showing_the_accepted_form(text, accepted):
    with pytest.raises(DomainError) as caught:
        parse_exact(text, field="points")
    error = caught.value
    assert error.code == "decimal_not_canonical"
    assert error.message_vi.endswith(f"dạng đúng: {accepted}")
    assert error.message_en.endswith(f"write {accepted}")
    assert error.field == "points"
    assert error.problems[0].field == "points"


@pytest.mark.parametrize(
    "value",
    ["", "abc", "NaN", "Infinity", "1/2", "1..2", "--1", None, 1, True, [], "0x10", "1_000"],
)
def test_what_is_no_number_at_all_is_refused_with_an_example(value):
    with pytest.raises(DomainError) as caught:
        parse_exact(value, field="numerator")
    assert caught.value.code == "invalid_decimal"
    assert "0.5" in caught.value.message_vi


def test_more_than_four_places_is_refused_even_when_canonical():
    with pytest.raises(DomainError) as caught:
        parse_exact("0.12345")
    assert caught.value.code == "too_many_decimals"


def test_more_than_fifteen_integer_digits_is_refused():
    assert parse_exact("999999999999999") == D("999999999999999")
    with pytest.raises(DomainError) as caught:
        parse_exact("1000000000000000")
    assert caught.value.code == "decimal_too_large"


def test_a_huge_input_is_refused_without_echoing_it_whole():
    with pytest.raises(DomainError) as caught:
        parse_exact("1" * 100_000)
    assert len(caught.value.message_vi) < 300


@given(st.text(min_size=1, max_size=12))
def test_any_text_is_either_its_own_canonical_form_or_refused(text):
    try:
        value = parse_exact(text)
    except DomainError:
        return
    assert canonical(value) == text
    assert text.isascii()


@given(exact_values, st.sampled_from(["+", " ", "0", "\n"]))
def test_decorating_a_canonical_decimal_makes_it_refused(value, extra):
    text = canonical(value)
    decorated = extra + text if extra != "\n" else text + extra
    if extra == "0" and (text.startswith("-") or text == "0"):
        decorated = text + ("0" if "." in text else ".0")
    with pytest.raises(DomainError):
        parse_exact(decorated)
