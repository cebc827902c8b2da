"""A document as an Excel workbook, and back.

The first sheet is the form: title lines, one header row (frozen, and repeated
on every printed page), then the rows; points are real numbers (written from
their exact decimal text, shown with a comma by a Vietnamese Excel),
percentages at 2 places; A4 landscape, fitted to the page width; the footer
of every page names the log, the tree size and the root. The second sheet,
"Chứng thực", holds the proof lines and a QR code of them.

Text typed by people (titles, reasons, explanations, unit names) is written
as text: a reason reading `=HYPERLINK(...)` stays a reason, never a formula.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from application.documents.model import Cell, Document, cell_text, key_of
from interfaces.documents import layout, proof_block
from interfaces.documents.numbers import from_cell, parse_vi
from interfaces.framework_io.formula_guard import is_formula_like

MAX_READ_ROWS = 20_000
MAX_READ_COLUMNS = 40  # a form has at most 12; the stated dimension is never trusted


def write(doc: Document, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = layout.SHEET_NAMES[doc.kind]
    width = len(doc.columns)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for i, line in enumerate(doc.title, start=1):
        cell = sheet.cell(i, 1)
        _text(cell, line)
        cell.font = Font(bold=i <= 2, size=13 if i <= 2 else 11)
        cell.alignment = Alignment(horizontal="center" if i <= 2 else "left")
        sheet.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
    header = len(doc.title) + 2
    for j, column in enumerate(doc.columns, start=1):
        cell = sheet.cell(header, j, column.heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.border = box
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = layout.WIDTHS.get(column.id, layout.NUMBER_WIDTH)
    sheet.row_dimensions[header].height = 48
    # One object per style, shared by every cell (made per cell, they were most
    # of the time a table of thousands of units took to write).
    fonts = {True: Font(bold=True), False: Font(bold=False)}
    wrapped = Alignment(vertical="top", wrap_text=True)
    plain = Alignment(vertical="top", wrap_text=False)
    for i, (key, cells) in enumerate(doc.rows, start=header + 1):
        font = fonts[layout.bold(doc, key)]
        sheet.row_dimensions[i].height = 15 * _lines(doc, cells)
        for j, column in enumerate(doc.columns, start=1):
            cell = sheet.cell(i, j)
            value = cells.get(column.id)
            if isinstance(value, Decimal):
                cell.value = value
                cell.number_format = "0.00" if column.places == 2 else "General"
            elif value is not None:
                _text(cell, value)
            cell.border = box
            cell.font = font
            cell.alignment = (
                wrapped if column.id in layout.WRAPPED or isinstance(value, str) else plain
            )
    sheet.freeze_panes = sheet.cell(header + 1, 1)
    sheet.print_title_rows = f"{header}:{header}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if doc.proof is not None:
        sheet.oddFooter.left.text = proof_block.footer(doc.proof)
        sheet.oddFooter.left.size = 7
        sheet.oddFooter.right.text = "Trang &P/&N"
        proof = book.create_sheet(layout.PROOF_SHEET)
        proof.cell(1, 1, proof_block.HEADING).font = Font(bold=True)
        for i, (label, value) in enumerate(proof_block.lines(doc.proof), start=2):
            proof.cell(i, 1, label).font = Font(bold=True)
            _text(proof.cell(i, 2), value)
            proof.cell(i, 2).alignment = Alignment(wrap_text=True, vertical="top")
        proof.column_dimensions["A"].width = 34
        proof.column_dimensions["B"].width = 110
        image = Image(_png(doc))
        proof.add_image(image, "D2")
    book.save(path)


def _lines(doc: Document, cells: dict[str, Cell]) -> int:
    """Lines the row's wrapped text takes at its column widths: Excel and
    LibreOffice keep the height a file gives, and openpyxl measures nothing."""
    most = 1
    for column in doc.columns:
        value = cells.get(column.id)
        if isinstance(value, str):
            per_line = max(layout.WIDTHS.get(column.id, layout.NUMBER_WIDTH), 4)
            lines = sum(-(-max(len(part), 1) // per_line) for part in value.split("\n"))
            most = max(most, lines)
    return min(most, 30)


def _png(doc: Document):
    import io

    assert doc.proof is not None
    return io.BytesIO(proof_block.qr_png(doc.proof))


def _text(cell, text: str) -> None:
    # openpyxl makes any str starting with "=" a formula: the type is set after
    # the value; quotePrefix keeps it text when someone edits the cell.
    cell.value = cell_text(text)
    cell.data_type = "s"
    if cell.value and is_formula_like(cell.value):
        cell.quotePrefix = True


def read(path: Path, kind: str | None = None) -> Document:
    """The document an .xlsx holds (the caller has checked the archive's limits);
    `kind` reads its columns as that kind's whatever the file says."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # "A1:XFD20000" would pad every row to 16,384 cells: rows end at their own
        # last cell, and no more than MAX_READ_COLUMNS are read.
        sheet.reset_dimensions()
        rows = []
        for n, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_READ_COLUMNS)):
            if n >= MAX_READ_ROWS:
                break
            rows.append(list(row))
        pairs: dict[str, str] = {}
        if layout.PROOF_SHEET in book.sheetnames:
            proof = book[layout.PROOF_SHEET]
            proof.reset_dimensions()
            for n, row in enumerate(proof.iter_rows(values_only=True, max_col=2)):
                if n >= 100:
                    break
                if len(row) >= 2 and isinstance(row[0], str) and row[1] is not None:
                    pairs[row[0]] = str(row[1])
    finally:
        book.close()
    return from_rows(rows, proof_block.parse(pairs), kind)


def from_rows(rows: list[list[object]], proof, forced: str | None = None) -> Document:
    header = next((i for i, r in enumerate(rows) if r and _str(r[0]) in layout.HEADER_FIRSTS), None)
    if header is None:
        kind = forced or (proof.kind if proof else "scoring_sheet")
        return Document(kind, [_str(r[0]) for r in rows if r and r[0] is not None], [], [], proof)
    kind = forced or (proof.kind if proof else layout.HEADER_FIRSTS[_str(rows[header][0])])
    headings = []
    for value in rows[header]:
        if value is None:
            break
        headings.append(_str(value))
    columns = layout.columns_from_headings(kind, headings)
    title = [_str(r[0]) for r in rows[:header] if r and r[0] is not None]
    out: list[tuple[str, dict[str, Cell]]] = []
    for r in rows[header + 1 :]:
        cells: dict[str, Cell] = {}
        for column, value in zip(columns, r, strict=False):
            if value is None:
                continue
            number = None
            if column.number:
                number = from_cell(value) if not isinstance(value, str) else parse_vi(value)
            cells[column.id] = number if number is not None else cell_text(_str(value))
        if any(v is not None for v in cells.values()):
            out.append((key_of(kind, cells), cells))
    return Document(kind, title, columns, out, proof)


def _str(value: object) -> str:
    """A cell as the text it shows: a date Excel made of "30/06/2026" back as typed."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return str(value)
