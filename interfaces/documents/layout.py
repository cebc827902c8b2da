"""What the .xlsx and .docx forms share: names, widths, which rows are bold, and
how headings read back map to the columns of a kind."""

from __future__ import annotations

from application.documents import plan_sheet, ranking_table, scoring_sheet
from application.documents.model import Column, Document

SHEET_NAMES = {
    "scoring_sheet": "Phụ lục I",
    "ranking_table": "Phụ lục II",
    "improvement_plan": "Kế hoạch",
}
PROOF_SHEET = "Chứng thực"
# Column widths in characters (Excel), and in tenths of the text width (Word).
WIDTHS = {
    "stt": 10,
    "title": 34,
    "unit": 12,
    "name": 28,
    "evidence": 24,
    "review": 26,
    "explanation": 24,
    "note": 28,
    "band": 11,
    "tasks": 30,
    "lead": 16,
    "partners": 16,
    "deadline": 14,
}
NUMBER_WIDTH = 9
WRAPPED = frozenset(
    {"title", "evidence", "review", "explanation", "name", "note", "tasks", "lead", "partners"}
)
HEADER_FIRSTS = {"STT": "scoring_sheet", "Số TT": "ranking_table"}


def known_columns(kind: str) -> list[Column]:
    if kind == "scoring_sheet":
        return list(scoring_sheet.COLUMNS.values())
    if kind == "improvement_plan":
        return list(plan_sheet.COLUMNS)
    return [*ranking_table.COLUMNS, *ranking_table.PREVIOUS_COLUMNS]


def columns_from_headings(kind: str, headings: list[str]) -> list[Column]:
    """The columns a file's header row names; a heading no kind knows keeps its
    text as its id (the comparison then reports the header row)."""
    by_heading = {c.heading: c for c in known_columns(kind)}
    return [by_heading.get(h, Column(h, h)) for h in headings]


def bold(doc: Document, key: str) -> bool:
    return doc.levels.get(key, 1) <= 0
