"""A document as figures: title lines, named columns, keyed rows, and its proof.

The same shape comes from two places. `scoring_sheet` and `ranking_table` make
it from the log (aggregates folded from the log's own events up to a signed
checkpoint); interfaces/documents reads it back from an .xlsx or .docx that
someone was handed. `differences` lists every cell where the two disagree, so
`parindex verify-document` can say "row 1.2.1, column Điểm thẩm định: the
file says 1, the log says 0.75".

A cell is a Decimal (points, a percentage, a rank), a text, or None (empty).
Text is kept as a spreadsheet can hold it (`cell_text`): control characters a
cell cannot carry are dropped, on both sides of the comparison alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

Cell = Decimal | str | None

# What an .xlsx or .docx cell cannot hold (XML 1.0; openpyxl's
# ILLEGAL_CHARACTERS_RE): the C0 controls but tab, line feed and carriage
# return, lone surrogates, U+FFFE and U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

KINDS = ("scoring_sheet", "ranking_table", "improvement_plan")
# The column whose text names a row (else the second column's): a leaf's STT,
# a unit's code. A reader keys the rows it reads back the same way.
KEY_COLUMNS = {
    "scoring_sheet": ("stt", "title"),
    "ranking_table": ("unit", "name"),
    "improvement_plan": ("stt", "title"),
}


def cell_text(text: str | None) -> str | None:
    """The text as a document cell keeps it: NFC, no control characters but line
    breaks, line breaks as \\n, no trailing blanks; None for empty."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = _ILLEGAL.sub("", text.replace("\t", " ")).strip()
    return text or None


@dataclass(frozen=True)
class Column:
    id: str  # stable English id (for --json and the comparison)
    heading: str  # the Vietnamese heading printed
    number: bool = False  # a number (points, a percentage, a rank) or text
    places: int | None = None  # a number written at fixed places (percentages: 2)


@dataclass(frozen=True)
class Proof:
    """What a document carries to be checked: which log, which signed tree head,
    and what it shows (kind, cycle, unit or ranking version)."""

    kind: str
    cycle: str
    subject: str  # the unit code, or the ranking version number
    origin: str
    size: int
    root: str  # base64, as in the checkpoint body
    note: str  # the signed checkpoint note, signature lines included
    made_at: str  # UTC, RFC 3339 (as the file says: not part of what is signed)


@dataclass
class Document:
    kind: str
    title: list[str]
    columns: list[Column]
    rows: list[tuple[str, dict[str, Cell]]]  # (row key, {column id: cell}), in order
    proof: Proof | None = None
    # row key -> depth in the table (0 for an area, -1 for a total or a heading
    # line): how a writer sets a row in bold; not compared
    levels: dict[str, int] = field(default_factory=dict)

    def column(self, column_id: str) -> Column:
        return next(c for c in self.columns if c.id == column_id)


@dataclass(frozen=True)
class Difference:
    row: str | None  # the row key (a leaf code, TOTAL, a rank line) or None for the title
    column: str | None  # the column heading
    document: str | None
    log: str | None

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "document": self.document, "log": self.log}


def key_of(kind: str, cells: dict[str, Cell]) -> str:
    first, second = KEY_COLUMNS[kind]
    return str(shown(cells.get(first)) or shown(cells.get(second)) or "")


def shown(value: Cell) -> str | None:
    """A cell as text for a message: numbers exactly, without exponent."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "+0") else text
    return value


def same(a: Cell, b: Cell) -> bool:
    """Numbers equal as decimals (the file's 25.0 is the log's 25.00; 24.995 is
    not 25.00), text equal as a cell keeps it."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return cell_text(shown(a)) == cell_text(shown(b))
    return a == b


NOT_IN_LOG = "dòng không có trong nhật ký / row not in the log"
NOT_IN_FILE = "dòng có trong nhật ký / row in the log"


def differences(found: Document, expected: Document) -> list[Difference]:
    """Every place where `found` (the file) differs from `expected` (the log).
    Rows are paired in order (two rows may share a label); a row whose key
    differs at its place is named with both keys."""
    out: list[Difference] = []
    for i in range(max(len(found.title), len(expected.title))):
        a = found.title[i] if i < len(found.title) else None
        b = expected.title[i] if i < len(expected.title) else None
        if cell_text(a) != cell_text(b):
            out.append(Difference(None, f"tiêu đề dòng {i + 1}", a, b))
    headings = [c.heading for c in found.columns]
    wanted = [c.heading for c in expected.columns]
    if headings != wanted:
        out.append(Difference(None, "tiêu đề cột", " | ".join(headings), " | ".join(wanted)))
        return out  # the cells cannot be paired column by column
    for place in range(max(len(found.rows), len(expected.rows))):
        if place >= len(expected.rows):
            out.append(Difference(found.rows[place][0], None, NOT_IN_LOG, None))
            continue
        key, cells = expected.rows[place]
        if place >= len(found.rows):
            out.append(Difference(key, None, None, NOT_IN_FILE))
            continue
        their_key, got = found.rows[place]
        if their_key != key:
            out.append(Difference(key, f"dòng thứ {place + 1}", their_key, key))
            continue
        for column in expected.columns:
            a, b = got.get(column.id), cells.get(column.id)
            if not same(a, b):
                out.append(Difference(key, column.heading, shown(a), shown(b)))
        for extra in sorted(set(got) - {c.id for c in expected.columns}):
            out.append(Difference(key, extra, shown(got[extra]), None))
    return out
