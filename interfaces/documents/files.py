"""Writing a document to the file its name asks for, and reading one back.

A file handed to `verify-document` may have been made to hurt: it is read
only after the checks every imported spreadsheet passes (its size, then its
zip directory: no bomb, no nested archive, a bounded number of XML elements),
and at most MAX_READ_ROWS rows of it are read.
"""

from __future__ import annotations

from pathlib import Path

from application.documents.model import Document
from domain.errors import DomainError
from interfaces.documents import docx_doc, xlsx_doc
from interfaces.framework_io.limits import check_file_size, check_xlsx_archive

FORMATS = {".xlsx": xlsx_doc, ".docx": docx_doc}
# A ranking table of 10,000 units is some 900,000 XML elements in a .docx.
MAX_DOCUMENT_ELEMENTS = 2_000_000


def format_of(path: Path):
    module = FORMATS.get(path.suffix.lower())
    if module is None:
        named = path.suffix[:20] or path.name[:40]
        raise DomainError(
            "unsupported_format",
            f"Chỉ ghi/đọc được tệp .xlsx hoặc .docx, không phải '{named}'.",
            f"Only .xlsx or .docx files, not '{named}'.",
            field="file",
            status=400,
        )
    return module


def write(doc: Document, path: Path) -> None:
    format_of(path).write(doc, path)


def read(path: Path) -> Document:
    module = format_of(path)
    check_file_size(path)
    check_xlsx_archive(path, max_elements=MAX_DOCUMENT_ELEMENTS)
    try:
        return module.read(path)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, OSError) as e:
        # python-docx and openpyxl raise these on a zip that is no such document
        raise DomainError(
            "document_unreadable",
            f"Không đọc được tệp như một tài liệu {path.suffix} ({type(e).__name__}).",
            f"The file cannot be read as a {path.suffix} document ({type(e).__name__}).",
            field="file",
            status=400,
        ) from None
