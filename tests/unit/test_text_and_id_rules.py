"""Signed text is bounded, printable, NFC; ids are bounded ASCII slugs matched whole."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.ids import CODE, EVIDENCE_ID, KEY_ID, LEAF, check_id
from domain.text import (
    NAME,
    NOTE,
    TextRule,
    check_text,
    first_forbidden,
    forbidden,
    text_problems,
)

FORBIDDEN = (
    [chr(c) for c in range(0x20) if c != 0x0A]
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + list("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def codes(value, rule, **kw):
    return [p.code for p in text_problems(value, "reason", rule, **kw)]


@given(st.text(max_size=30), st.sampled_from(FORBIDDEN), st.text(max_size=30))
def test_any_text_with_a_control_or_bidi_character_is_refused(before, bad, after):
    for rule in (NAME, NOTE):
        assert "control_character" in codes(before + bad + after, rule)


# Characters near every edge of the refused set, and any other character at all.
NEAR_EDGES = st.sampled_from(
    [chr(c) for c in (*range(0x00, 0x22), *range(0x7D, 0xA2))]
    + [chr(c) for c in range(0x2026, 0x2030)]
    + [chr(c) for c in range(0x2064, 0x206B)]
    + ["\ud800", "\udfff", "\ufeff", "\U0010ffff", "\U0001f600"]
)


@given(st.text(st.one_of(NEAR_EDGES, st.characters()), max_size=40))
def test_the_fast_scan_refuses_exactly_what_the_per_character_rule_refuses(text):
    for rule in (NAME, NOTE):
        expected = next((i for i, c in enumerate(text) if forbidden(c, rule)), None)
        assert first_forbidden(text, rule) == expected


def test_the_fast_scan_and_the_rule_agree_on_every_code_point():
    for rule in (NAME, NOTE):
        refused = [c for c in range(0x110000) if forbidden(chr(c), rule)]
        scanned = [c for c in range(0x110000) if first_forbidden(chr(c), rule) == 0]
        assert scanned == refused


def test_a_line_feed_is_allowed_only_in_multi_line_text():
    assert codes("dòng một\ndòng hai", NOTE) == []
    assert codes("dòng một\ndòng hai", NAME) == ["control_character"]
    assert codes("dòng một\r\ndòng hai", NOTE) == ["control_character"]


def test_the_refusal_names_the_character_and_where_it_is():
    [problem] = text_problems("ab\u202ecd", "document.issuer", NAME)
    assert problem.field == "document.issuer"
    assert "U+202E" in problem.message_vi and "vị trí 3" in problem.message_vi
    assert "U+202E" in problem.message_en and "position 3" in problem.message_en


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=50,
    )
)
def test_printable_nfc_text_within_its_length_is_accepted(text):
    text = unicodedata.normalize("NFC", text)
    if text.strip() and not any(c in text for c in FORBIDDEN) and len(text) <= NAME.max_chars:
        assert codes(text, NAME) == []


def test_text_not_in_nfc_is_refused_not_rewritten():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hoa")
    assert decomposed != "Nguyễn Thị Hoa"
    assert codes(decomposed, NAME) == ["text_not_nfc"]
    assert codes("Nguyễn Thị Hoa", NAME) == []


def test_text_over_its_length_is_refused_at_the_first_extra_character():
    rule = TextRule(10)
    assert codes("x" * 10, rule) == []
    assert codes("x" * 11, rule) == ["text_too_long"]
    assert codes("ễ" * 11, rule) == ["text_too_long"]


def test_a_ten_mebibyte_note_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        check_text("x" * (10 << 20), "note", NOTE)
    assert [p.code for p in caught.value.problems] == ["text_too_long"]
    assert [p.field for p in caught.value.problems] == ["note"]


def test_required_text_must_hold_more_than_spaces_and_optional_text_may_be_absent():
    assert codes("   \n ", NOTE, empty_code="reason_required") == ["reason_required"]
    assert codes(None, NOTE, required=False) == []
    assert codes(None, NOTE) == ["text_required"]
    assert codes(5, NOTE, required=False) == ["invalid_text"]


# -- ids --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (
            CODE,
            ["xa-01", "tn-2025", "a", "a" * 64],
            ["Xa-01", "xa 01", "-xa", "a" * 65, "xa-01\n", "", "xã-01", "xa/01", "..", "xa-٠١"],
        ),
        (
            EVIDENCE_ID,
            ["ev-1a2b", "EV.2025:1"],
            ["ev 1", "../x", "ev/1", "e" * 65, "ev-1\n", "", "ev\x00"],
        ),
        (
            LEAF,
            ["1", "1.1.1", "7.2.4.1"],
            ["0", "1.", ".1", "1..1", "01.1", "I", "1.1\n", "١.١", "1" * 5],
        ),
        (KEY_ID, ["pk_" + "a" * 32], ["pk_" + "a" * 31, "pk_" + "A" * 32, "pk_" + "1" * 32]),
    ],
)
def test_ids_match_their_pattern_whole(rule, good, bad):
    for value in good:
        assert check_id(value, "f", rule) == value
    for value in bad:
        with pytest.raises(ValidationFailed) as caught:
            check_id(value, "units[3].code", rule)
        [problem] = caught.value.problems
        assert problem.code == f"invalid_{rule.name}"
        assert problem.field == "units[3].code"


def test_an_id_error_never_echoes_a_huge_value():
    with pytest.raises(ValidationFailed) as caught:
        check_id("x" * 100_000, "evidence_id", EVIDENCE_ID)
    assert len(caught.value.problems[0].message_vi) < 300


@given(st.text(min_size=1, max_size=80))
def test_an_accepted_code_is_short_lowercase_ascii(text):
    try:
        check_id(text, "cycle", CODE)
    except ValidationFailed:
        return
    assert text.isascii() and text == text.lower() and len(text) <= 64
    assert "\n" not in text and "/" not in text
