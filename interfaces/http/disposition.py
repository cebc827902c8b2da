"""The `Content-Disposition` of a download (RFC 6266, names per RFC 8187).

The stored name may predate the file-name rules, so it is first made safe
(application.file_names.display_filename). The header always carries an ASCII
`filename=` that every browser understands, and `filename*=UTF-8''...` with the
full name when it is not plain ASCII; neither can hold a quote, a control
character or a separator, so no stored name can break or extend the header.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from application.file_names import display_filename

# RFC 8187 attr-char, less the ones a percent-encoder must escape
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,-]")
# Vietnamese letters NFKD does not decompose
_ASCII_LETTERS = str.maketrans({"đ": "d", "Đ": "D"})


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.translate(_ASCII_LETTERS))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    return _ASCII_UNSAFE.sub("_", plain).strip(" .")


def content_disposition(stored_name: object, fallback: str) -> str:
    """`attachment` with the stored name, or `fallback` (plain ASCII) if none is usable."""
    name = display_filename(stored_name) or fallback
    plain = _ascii(name) or fallback
    value = f'attachment; filename="{plain}"'
    if plain != name:
        value += f"; filename*=UTF-8''{quote(name, safe=_ATTR_CHAR_SAFE)}"
    return value
