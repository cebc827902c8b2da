"""A command is bounded before it is read: 32 levels of nesting, 64 KiB of canonical
JSON (1 MiB for a framework or a cycle's unit list), with room for the real ones."""

from __future__ import annotations

import pytest

from application.commands import (
    LARGE_COMMAND_BYTES,
    MAX_COMMAND_BYTES,
    MAX_DEPTH,
    parse_envelope,
    sign_command,
)
from application.errors import CommandRejected
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.support import command, new_key

KEY = new_key()


def nested(levels: int) -> object:
    """`levels` arrays inside each other, built without recursion."""
    value: object = "đáy"
    for _ in range(levels):
        value = [value]
    return value


def envelope(type_: str, **fields) -> dict:
    return sign_command(command(KEY, type_, **fields), KEY.private)


def test_the_real_thai_nguyen_framework_fits_with_thirty_times_headroom():
    signed = parse_envelope(
        envelope("publish_framework", framework=to_dict(load_bundled("thai-nguyen-2021-commune")))
    )
    assert len(signed.canonical) * 30 < LARGE_COMMAND_BYTES["publish_framework"]


def test_a_cycle_of_every_commune_of_vietnam_fits_with_three_times_headroom():
    units = [
        {"code": f"tinh-{i // 100:02d}.phuong-{i:05d}", "name": f"Phường Nguyễn Thị Minh Khai {i}"}
        for i in range(3321)
    ]
    signed = parse_envelope(
        envelope(
            "open_cycle",
            cycle="vn-2026",
            name="Kỳ đánh giá 2026",
            framework="thai-nguyen-2021-commune@1",
            year=2026,
            authority="bo-noi-vu",
            province="vn",
            units=units,
        )
    )
    assert len(signed.canonical) * 3 < LARGE_COMMAND_BYTES["open_cycle"]


def test_an_ordinary_command_above_64_kib_is_refused_413():
    padding = MAX_COMMAND_BYTES  # the note alone fills the limit
    with pytest.raises(CommandRejected) as caught:
        parse_envelope(
            envelope(
                "record_self_score", cycle="c", unit="u", leaf="1", points="1", note="x" * padding
            )
        )
    assert caught.value.code == "command_too_large"
    assert caught.value.status == 413
    assert str(MAX_COMMAND_BYTES) in caught.value.message_vi


def test_a_framework_above_1_mib_is_refused_but_one_just_under_passes():
    limit = LARGE_COMMAND_BYTES["publish_framework"]
    base = len(parse_envelope(envelope("publish_framework", framework={"x": ""})).canonical)
    fits = envelope("publish_framework", framework={"x": "a" * (limit - base)})
    assert len(parse_envelope(fits).canonical) == limit
    with pytest.raises(CommandRejected) as caught:
        parse_envelope(envelope("publish_framework", framework={"x": "a" * (limit - base + 1)}))
    assert caught.value.code == "command_too_large"


def test_nesting_is_bounded_at_32_levels_counting_the_envelope():
    # envelope (1) > command (2) > note list: MAX_DEPTH - 2 arrays still fit
    fits = envelope("record_self_score", note=nested(MAX_DEPTH - 2))
    assert parse_envelope(fits).type == "record_self_score"
    with pytest.raises(CommandRejected) as caught:
        parse_envelope(envelope("record_self_score", note=nested(MAX_DEPTH - 1)))
    assert caught.value.code == "json_too_deep"
    assert caught.value.status == 400


def test_a_hundred_thousand_levels_are_refused_without_recursing():
    with pytest.raises(CommandRejected) as caught:
        parse_envelope({"command": {"type": "x", "deep": nested(100_000)}, "signature": ""})
    assert caught.value.code == "json_too_deep"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "Record_Self_Score"),
        ("type", "x" * 65),
        ("type", "record self score"),
        ("actor", "pk_" + "a" * 31),
        ("actor", "admin"),
        ("actor", "pk_" + "a" * 32 + "\n"),
        ("issued_at", "２０２６-01-01T00:00:00Z"),
        ("issued_at", "2026-13-45T99:99:99Z"),
    ],
)
def test_common_fields_are_bounded_and_ascii(field, value):
    cmd = command(KEY, "record_self_score")
    cmd[field] = value
    with pytest.raises(CommandRejected) as caught:
        parse_envelope(sign_command(cmd, KEY.private))
    assert caught.value.code == "malformed_command"
    assert caught.value.field == field
