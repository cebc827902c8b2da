"""Evidence file names: what a client may call a file, and how a stored one is shown.

A file name travels into a signed, permanent event and from there into download
headers, terminals and the folders people save files to. A new name is refused
(`filename_problem`) when it holds a control or format character, a path
separator, or is a directory name once Unicode look-alikes are folded; names
stored before these rules are made harmless for display (`display_filename`).
"""

from __future__ import annotations

import unicodedata

MAX_FILENAME_BYTES = 255  # the usual file-system limit on one name, in UTF-8 bytes

# Cc: C0/C1 controls and DEL (CR, LF, NUL, ESC...); Cf: invisible formatting such
# as right-to-left overrides that disguise an extension; Cs: lone surrogates, which
# cannot be encoded; Zl/Zp: Unicode line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SEPARATORS = ("/", "\\")


def _refused_char(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES


def filename_problem(name: object) -> tuple[str, str] | None:
    """None if `name` may be stored as a file name, else (Vietnamese, English) why not."""
    if not isinstance(name, str):
        return "Tên tệp phải là chuỗi.", "The file name must be text."
    if not name or len(name.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        return (
            f"Tên tệp dài từ 1 đến {MAX_FILENAME_BYTES} byte (UTF-8).",
            f"The file name must be 1 to {MAX_FILENAME_BYTES} bytes (UTF-8).",
        )
    if any(_refused_char(ch) for ch in name):
        return (
            "Tên tệp không được chứa ký tự điều khiển (xuống dòng, NUL...).",
            "The file name must not hold control characters (line breaks, NUL...).",
        )
    # Clients and file systems that fold look-alikes (U+FF0F, U+2024...) must not
    # see a separator or a directory name either.
    folded = unicodedata.normalize("NFKC", name)
    if any(sep in text for text in (name, folded) for sep in _SEPARATORS):
        return ("Tên tệp không được chứa / hoặc \\.", "The file name must not hold / or \\.")
    if folded.strip() in (".", "..") or name.strip() in (".", ".."):
        return "Tên tệp không được là . hoặc ..", "The file name must not be . or .."
    return None


def display_filename(name: object) -> str | None:
    """A stored name made safe to show or save: refused characters dropped, any
    separator replaced by '_', cut to the byte limit; None when nothing is left."""
    if not isinstance(name, str):
        return None
    out = []
    for ch in name:
        if _refused_char(ch):
            continue
        folded = unicodedata.normalize("NFKC", ch)
        out.append("_" if any(sep in folded for sep in _SEPARATORS) else ch)
    text = "".join(out).strip()
    while len(text.encode("utf-8")) > MAX_FILENAME_BYTES:
        text = text[:-1]
    if unicodedata.normalize("NFKC", text).strip(". ") == "":
        return None
    return text
