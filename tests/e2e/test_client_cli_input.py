"""The `parindex` client checks typed decimals as the server would, before signing:
a typo is refused with the accepted form and nothing is sent."""

from __future__ import annotations

import pytest

from tests.e2e.http_support import run_cli

# Nothing listens here: a command that got as far as sending would fail differently.
NOWHERE = ["--url", "http://127.0.0.1:9", "--cycle", "tn-2025", "--unit", "xa-01"]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("0,5", "0.5"),
        ("٠.٥", "0.5"),
        ("０.５", "0.5"),
        (".5", "0.5"),
        ("0.50", "0.5"),
        ("+1", "1"),
        ("01", "1"),
        ("-0", "0"),
    ],
)
def test_typed_points_in_another_form_are_refused_showing_the_accepted_one(capsys, value, accepted):
    code = run_cli(["score", "set", *NOWHERE, "--leaf", "1.1.1", "--points", value])
    err = capsys.readouterr().err
    assert code == 1
    assert "[decimal_not_canonical]" in err
    assert f"dạng đúng: {accepted}" in err
    assert "field=points" in err


def test_a_typed_ratio_is_checked_on_both_sides(capsys):
    code = run_cli(
        ["appraise", *NOWHERE, "--leaf", "1.2", "--ratio", "978/1000.0", "--reason", "r"]
    )
    err = capsys.readouterr().err
    assert code == 1 and "dạng đúng: 1000" in err and "field=ratio" in err
    code = run_cli(["score", "set", *NOWHERE, "--leaf", "1.2", "--ratio", "٩٧٨/1000"])
    err = capsys.readouterr().err
    assert code == 1 and "dạng đúng: 978" in err


def test_english_on_request(capsys, monkeypatch):
    monkeypatch.setenv("PARINDEX_LANG", "en")
    code = run_cli(["score", "set", *NOWHERE, "--leaf", "1.1.1", "--points", "0,5"])
    assert code == 1 and "write 0.5" in capsys.readouterr().err
