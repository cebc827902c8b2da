"""Writing a document to the file its name asks for, reading one back, and
telling whether a file is exactly the one parindex writes.

A file handed to `verify-document` may have been made to hurt: it is read
only after the checks every imported spreadsheet passes (its size, then its
zip directory: no bomb, no nested archive, a bounded number of XML tags), and
at most MAX_READ_ROWS rows of it are read.

What a reader extracts is not all a spreadsheet or a word processor shows: a
number format can print 0.25 as "1", a hidden sheet or run can sit behind the
visible one, a formula can hold a stale cached value. So a document is also
checked whole (`altered`): written again from the log with the file's own
proof, its parts must be byte for byte the file's (the writers are
deterministic; only docProps, which carry the time of writing, are left out).
"""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from decimal import DecimalException
from pathlib import Path

from application.documents.model import Document
from domain.errors import DomainError
from interfaces.documents import docx_doc, xlsx_doc
from interfaces.framework_io.limits import check_file_size, check_xlsx_archive

FORMATS = {".xlsx": xlsx_doc, ".docx": docx_doc}
# A ranking table of 10,000 units is some 1,800,000 XML tags in a .docx.
MAX_DOCUMENT_TAGS = 4_000_000
# Written with the time of writing: not compared.
UNCOMPARED = frozenset({"docProps/core.xml", "docProps/app.xml"})


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


def read(path: Path, kind: str | None = None) -> Document:
    """The document in the file; `kind` reads its columns as that kind's."""
    module = format_of(path)
    if not path.is_file():
        raise DomainError(
            "file_not_found",
            f"Không có tệp {path.name[:80]}.",
            f"No such file: {path.name[:80]}.",
            field="file",
            status=400,
        )
    check_file_size(path)
    check_xlsx_archive(path, max_elements=MAX_DOCUMENT_TAGS)
    try:
        return module.read(path, kind)
    except (
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        AttributeError,
        OSError,
        SyntaxError,  # lxml's XMLSyntaxError and ElementTree's ParseError
        DecimalException,
        zipfile.BadZipFile,
        zlib.error,
    ) as e:
        # python-docx and openpyxl raise these on a zip that is no such document
        raise DomainError(
            "document_unreadable",
            f"Không đọc được tệp như một tài liệu {path.suffix} ({type(e).__name__}).",
            f"The file cannot be read as a {path.suffix} document ({type(e).__name__}).",
            field="file",
            status=400,
        ) from None


def altered(path: Path, doc: Document) -> list[str]:
    """The parts of the file at `path` that differ from `doc` written again (its
    proof set to the file's): [] when the file is exactly what parindex writes."""
    module = format_of(path)
    with tempfile.TemporaryDirectory(prefix="parindex-doc-") as tmp:
        again = Path(tmp) / f"again{path.suffix.lower()}"
        module.write(doc, again)
        with zipfile.ZipFile(path) as found, zipfile.ZipFile(again) as made:
            theirs = {i.filename for i in found.infolist()} - UNCOMPARED
            ours = {i.filename for i in made.infolist()} - UNCOMPARED
            out = sorted(theirs ^ ours)
            for name in sorted(theirs & ours):
                if found.read(name) != made.read(name):
                    out.append(name)
    return out
