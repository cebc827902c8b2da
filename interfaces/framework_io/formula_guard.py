"""Text that a spreadsheet must show as text, never run as a formula.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`,
`+`, `-` or `@` (and treat a leading tab or carriage return the same way);
some also accept the full-width forms an East Asian input method types. A
title such as `=HYPERLINK("http://…")` in an exported table would then run on
the appraiser's machine (CSV injection, OWASP). The exporter writes such text
protected; plain decimal numbers (`-0.5`) are numbers and stay as they are.

In a .csv the protection is the OWASP one: a single apostrophe in front. The
importer removes exactly that apostrophe again, so an export imports back
identical; one more apostrophe is added in front of text that already starts
with apostrophes before a trigger, so the mapping is reversible. In an .xlsx
the cell's type is set to text, which needs no change to the text itself.
"""

from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"  # = + - @ TAB CR and full-width ＝＋－＠
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_PROTECTED = re.compile(f"'+[{re.escape(TRIGGERS)}]")


def is_formula_like(text: str) -> bool:
    """True for text a spreadsheet would evaluate, false for a plain decimal number."""
    return bool(text) and text[0] in TRIGGERS and not _NUMBER.fullmatch(text)


def csv_cell(text: str) -> str:
    """The text to write in a .csv cell: formula-like text behind one apostrophe."""
    if is_formula_like(text) or _PROTECTED.match(text):
        return "'" + text
    return text


def csv_cell_text(cell: str) -> str:
    """The text a .csv cell stands for: csv_cell's inverse."""
    return cell[1:] if _PROTECTED.match(cell) else cell
