"""A document as a Word file (python-docx), and back.

A4 landscape; the title lines, then one table whose header row Word repeats
at the top of every page; numbers written as Vietnamese readers write them
("0,25"); then the proof as a two-column table and its QR code. The footer of
every page names the log, the tree size and the root.

Large tables are written as XML rows built once and copied (python-docx's
add_row reads the whole table's grid on every call).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from application.documents.model import Cell, Document, cell_text, key_of
from interfaces.documents import layout, proof_block
from interfaces.documents.numbers import parse_vi, vi

MAX_READ_ROWS = 20_000


def write(doc: Document, path: Path) -> None:
    from docx import Document as Word
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    word = Word()
    style = word.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(9)
    section = word.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(12))
    for i, line in enumerate(doc.title):
        p = word.add_paragraph()
        run = p.add_run(line)
        run.bold = i < 2
        if i < 2:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.font.size = Pt(13)

    table = word.add_table(rows=1, cols=len(doc.columns))
    table.style = "Table Grid"
    head = table.rows[0]
    _repeat_header(head)
    for cell, column in zip(head.cells, doc.columns, strict=True):
        cell.text = column.heading
        for run in cell.paragraphs[0].runs:
            run.bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    usable = Mm(297 - 24)
    weights = [layout.WIDTHS.get(c.id, layout.NUMBER_WIDTH + 3) for c in doc.columns]
    widths = [int(usable * w / sum(weights)) for w in weights]
    table.autofit = False
    for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        grid_col.w = width
    for cell, width in zip(head.cells, widths, strict=True):
        cell.width = width
    _rows(table, doc, widths)

    if doc.proof is not None:
        word.add_paragraph()
        p = word.add_paragraph()
        p.add_run(proof_block.HEADING).bold = True
        block = word.add_table(rows=0, cols=2)
        block.style = "Table Grid"
        for label, value in proof_block.lines(doc.proof):
            cells = block.add_row().cells
            cells[0].text = label
            cells[1].text = value
        word.add_paragraph().add_run().add_picture(
            io.BytesIO(proof_block.qr_png(doc.proof)), width=Mm(30)
        )
        footer = section.footer.paragraphs[0]
        footer.text = proof_block.footer(doc.proof)
        for run in footer.runs:
            run.font.size = Pt(7)
    word.save(str(path))


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    mark = OxmlElement("w:tblHeader")
    mark.set(qn("w:val"), "true")
    tr_pr.append(mark)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _rows(table, doc: Document, widths: list[int]) -> None:
    """The document's rows as WordprocessingML written directly and parsed once:
    each cell one paragraph of one run (bold on a bold row, right-aligned for a
    number), "\n" a line break, as python-docx's add_run writes them. Made
    through python-docx cell by cell, a table of 3,321 units took seconds."""
    from docx.oxml import parse_xml
    from docx.shared import Length

    twips = [Length(w).twips for w in widths]
    parts = [f'<w:tbl xmlns:w="{W_NS}">']
    for key, cells in doc.rows:
        strong = "<w:rPr><w:b/></w:rPr>" if layout.bold(doc, key) else ""
        parts.append("<w:tr>")
        for column, width in zip(doc.columns, twips, strict=True):
            value = cells.get(column.id)
            text = _shown(value, column.places)
            parts.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>')
            if text:
                if isinstance(value, Decimal):
                    parts.append('<w:pPr><w:jc w:val="right"/></w:pPr>')
                lines = "<w:br/>".join(
                    f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in text.split("\n")
                )
                parts.append(f"<w:r>{strong}{lines}</w:r>")
            parts.append("</w:p></w:tc>")
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    for tr in list(parse_xml("".join(parts))):
        table._tbl.append(tr)


def _shown(value: Cell, places: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return vi(value, places)
    return cell_text(value) or ""


def read(path: Path, kind: str | None = None) -> Document:
    """The document a .docx holds (the caller has checked the archive's limits);
    `kind` reads its columns as that kind's whatever the file says."""
    from docx import Document as Word
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    word = Word(str(path))
    body = word.element.body
    title: list[str] = []
    tables: list = []
    for child in body.iterchildren():
        if child.tag == qn("w:tbl"):
            tables.append(Table(child, word))
            if len(tables) == 2:
                break
        elif child.tag == qn("w:p") and not tables:
            text = cell_text(Paragraph(child, word).text)
            if text:
                title.append(text)
    pairs: dict[str, str] = {}
    if len(tables) == 2:
        for tr in tables[1]._tbl.tr_lst[:100]:
            texts = [_cell_text(tc) for tc in tr.tc_lst]
            if len(texts) >= 2 and texts[0]:
                pairs[texts[0]] = texts[1]
    proof = proof_block.parse(pairs)
    if not tables:
        return Document(kind or (proof.kind if proof else "scoring_sheet"), title, [], [], proof)
    trs = tables[0]._tbl.tr_lst
    headings = [_cell_text(tc) for tc in trs[0].tc_lst] if trs else []
    kind = (
        proof.kind
        if proof
        else layout.HEADER_FIRSTS.get(headings[0] if headings else "", "scoring_sheet")
    )
    columns = layout.columns_from_headings(kind, headings)
    rows: list[tuple[str, dict[str, Cell]]] = []
    for tr in trs[1 : MAX_READ_ROWS + 1]:
        cells: dict[str, Cell] = {}
        for column, tc in zip(columns, tr.tc_lst, strict=False):
            text = cell_text(_cell_text(tc))
            if text is None:
                continue
            number = parse_vi(text) if column.number else None
            cells[column.id] = number if number is not None else text
        if cells:
            rows.append((key_of(kind, cells), cells))
    return Document(kind, title, columns, rows, proof)


def _cell_text(tc) -> str:
    from docx.text.paragraph import Paragraph

    return "\n".join(Paragraph(p, None).text for p in tc.p_lst)
