"""Evidence file names: which a client may store, and how a stored one is shown and
put in a download's Content-Disposition."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import parse_options_header

from application.file_names import MAX_FILENAME_BYTES, display_filename, filename_problem
from interfaces.http.disposition import content_disposition

SHA = "ab" * 32


@pytest.mark.parametrize(
    "name",
    [
        "Kế hoạch CCHC 2025.pdf",
        "bao-cao.PDF",
        "ảnh hiện trường (1).jpg",
        "a" * 255,
        "ả" * 85,
        "x.tar.gz",
        ".hidden",
        "...pdf",
        "C:file.pdf",
        'báo cáo; "số 2".pdf',
    ],
)
def test_an_ordinary_name_is_accepted(name):
    assert filename_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 256,
        "ả" * 85 + "a",
        "a\nb",
        "a\rb",
        "a\x00b",
        "a\tb",
        "\x1b[2J",
        "a\x7f",
        "a\x85b",
        "a\u2028b",
        "a\u2029b",
        "a\u202eb",
        "a\u200bb",
        "a\ufeffb",
        "a\ud800b",
        "a/b",
        "/etc/passwd",
        "a\\b",
        "a\uff0fb",
        "a\uff3cb",
        ".",
        "..",
        " .. ",
        "\u2024\u2024",
        "\uff0e\uff0e",
        "\u2025",
        None,
        5,
        ["a"],
        {"a": 1},
    ],
)
def test_a_name_with_controls_separators_or_a_directory_meaning_is_refused(name):
    assert filename_problem(name) is not None


def test_the_limit_is_255_utf8_bytes():
    assert MAX_FILENAME_BYTES == 255
    assert filename_problem("ế" * 85) is None  # 255 bytes
    assert filename_problem("ế" * 85 + "a") is not None


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Kế hoạch.pdf", "Kế hoạch.pdf"),
        ("a\r\nb\x00c.pdf", "abc.pdf"),
        ("../../keys/log.key", ".._.._keys_log.key"),
        ("a\uff0fb\\c", "a_b_c"),
        ("\x1b[31mred", "[31mred"),
        ("..", None),
        ("\u2024\u2024", None),
        ("\r\n", None),
        (None, None),
        (7, None),
    ],
)
def test_a_stored_name_is_shown_without_controls_or_separators(stored, shown):
    assert display_filename(stored) == shown


def test_a_stored_name_over_the_limit_is_cut_on_a_character_boundary():
    shown = display_filename("ế" * 100)
    assert shown == "ế" * 85


def test_a_plain_ascii_name_has_only_filename():
    assert content_disposition("ke-hoach.pdf", SHA) == 'attachment; filename="ke-hoach.pdf"'


def test_a_vietnamese_name_has_an_ascii_fallback_and_the_utf8_name():
    header = content_disposition("Đồng Hỷ báo cáo.pdf", SHA)
    assert header == (
        'attachment; filename="Dong Hy bao cao.pdf"; '
        "filename*=UTF-8''%C4%90%E1%BB%93ng%20H%E1%BB%B7%20b%C3%A1o%20c%C3%A1o.pdf"
    )
    assert parse_options_header(header)[1]["filename"] == "Đồng Hỷ báo cáo.pdf"


def test_quotes_and_semicolons_cannot_add_parameters():
    header = content_disposition('a"; filename="evil.exe', SHA)
    _kind, options = parse_options_header(header)
    assert options["filename"] == 'a"; filename="evil.exe'
    assert header.startswith('attachment; filename="a__ filename__evil.exe"; filename*=')


def test_no_usable_name_falls_back_to_the_hash():
    for stored in (None, "", "\r\n", "..", "文件"):
        header = content_disposition(stored, SHA)
        assert 'filename="' in header
        if stored != "文件":
            assert header == f'attachment; filename="{SHA}"'
    assert content_disposition("文件", SHA) == (
        f"attachment; filename=\"{SHA}\"; filename*=UTF-8''%E6%96%87%E4%BB%B6"
    )


@given(st.text(max_size=300))
def test_no_stored_name_breaks_the_header(stored):
    header = content_disposition(stored, SHA)
    assert header.isascii() and header.isprintable()
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    shown = options["filename"]
    assert "/" not in shown and "\\" not in shown and filename_problem(shown) is None


def test_the_client_lists_a_stored_name_without_terminal_escapes_or_line_breaks():
    from interfaces.cli.client_views import evidence_text

    doc = {
        "cycle": "tn-2025",
        "unit": "xa-01",
        "items": [
            {
                "evidence_id": "ev-1",
                "status": "attached",
                "leaves": ["1.1.1"],
                "file": {"filename": "\x1b[2Jbao\r\ncao\x00.pdf", "size": 10, "sha256": SHA},
            }
        ],
    }
    text = evidence_text(doc)
    assert len(text.splitlines()) == 2
    assert "tệp [2Jbaocao.pdf (10 byte" in text
    assert not {"\x1b", "\r", "\x00"} & set(text)
