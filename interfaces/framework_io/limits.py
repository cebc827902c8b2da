"""How big an imported table may be, and the checks made before any parser sees it.

A criteria table has a few hundred rows (the bundled one: 155 rows, 15 KB), so
the limits leave ample room for real tables and none for a file built to
exhaust the machine: an .xlsx is a zip archive, and a few MB of deflated,
repetitive sheet XML can inflate to gigabytes. The archive's directory is read
first (it costs nothing to read) and a file it describes as too large, too
compressed or oddly made is refused before openpyxl opens it. Python's zipfile
never inflates a member past the size its directory declares (a member that
lies fails its CRC check), so the declared sizes are a real bound.

Every limit is documented in docs/FRAMEWORKS.md ("Limits"); an error names it.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from domain.framework.problems import failed
from interfaces.framework_io.problems import problem

MIB = 1024 * 1024

MAX_FILE_BYTES = 8 * MIB  # the file on disk, .csv or .xlsx
MAX_ROWS = 2_000
MAX_COLUMNS = 100  # cells in one row
MAX_CELLS = 40_000  # cells in the whole table
MAX_LINE_CHARS = 65_536  # one physical line of a .csv

MAX_MEMBERS = 1_000  # files inside an .xlsx
MAX_MEMBER_BYTES = 16 * MIB  # one member, inflated
MAX_TOTAL_BYTES = 32 * MIB  # all members, inflated
MAX_RATIO = 100  # inflated / deflated, for members large enough to matter
RATIO_FLOOR_BYTES = 256 * 1024  # smaller members may compress better and cost nothing
# XML tags (start and end, every "<") in the whole archive, every member
# counted whatever its name (a part can be renamed and still be followed).
# openpyxl spends 10-50 us on each element of the shared strings, styles or
# sheet it parses, so a few MB holding millions of tiny elements cost
# minutes; a real table has a few thousand.
MAX_ELEMENTS = 200_000
_CHUNK = 1 * MIB

# Members an .xlsx may not hold: another archive (a nested bomb or smuggled
# payload; a criteria table has no use for embedded documents).
_NESTED_SUFFIXES = (".zip", ".xlsx", ".xlsm", ".xlsb", ".docx", ".pptx", ".gz", ".7z", ".rar")
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def check_file_size(path: Path) -> None:
    """Refuse (file_too_large) a file over MAX_FILE_BYTES, and anything not a regular file."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise failed([problem("file_not_found", path=str(path))])
    if info.st_size > MAX_FILE_BYTES:
        raise failed([problem("file_too_large", size=info.st_size, limit=MAX_FILE_BYTES)])


def check_xlsx_archive(path: Path, max_elements: int = MAX_ELEMENTS) -> None:
    """Refuse an .xlsx whose zip directory shows a bomb or an odd member.

    Then inflates each XML member once, in chunks (flat in memory, at most
    MAX_TOTAL_BYTES in all), to count its elements: xlsx_too_many_elements.
    Raises ValidationFailed: file_unreadable (not a zip, or a member whose
    bytes do not match its directory entry), xlsx_too_many_members,
    xlsx_member_too_large, xlsx_too_large, xlsx_compression_ratio, xlsx_odd_member.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            _check_directory(archive.infolist())
            elements = 0
            for member in archive.infolist():
                elements = _count_elements(archive, member, elements, max_elements)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise failed(
            [problem("file_unreadable", path=str(path), detail=type(exc).__name__)]
        ) from None


def _count_elements(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, elements: int, limit: int
) -> int:
    """Add the member's tags (every '<', so CDATA cannot hide any): an upper bound on
    twice its elements."""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            elements += chunk.count(b"<")
            if elements > limit:
                raise failed(
                    [
                        problem(
                            "xlsx_too_many_elements",
                            member=_shown(member.filename),
                            limit=limit,
                        )
                    ]
                )
    return elements


def _check_directory(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise failed([problem("xlsx_too_many_members", count=len(members), limit=MAX_MEMBERS)])
    seen: set[str] = set()
    total = 0
    for m in members:
        reason = _oddity(m, seen)
        if reason:
            raise failed([problem("xlsx_odd_member", member=_shown(m.filename), reason=reason)])
        seen.add(m.filename)
        if m.file_size > MAX_MEMBER_BYTES:
            raise failed(
                [
                    problem(
                        "xlsx_member_too_large",
                        member=_shown(m.filename),
                        size=m.file_size,
                        limit=MAX_MEMBER_BYTES,
                    )
                ]
            )
        if m.file_size >= RATIO_FLOOR_BYTES and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise failed(
                [
                    problem(
                        "xlsx_compression_ratio",
                        member=_shown(m.filename),
                        ratio=m.file_size // max(m.compress_size, 1),
                        limit=MAX_RATIO,
                    )
                ]
            )
        total += m.file_size
    if total > MAX_TOTAL_BYTES:
        raise failed([problem("xlsx_too_large", size=total, limit=MAX_TOTAL_BYTES)])


def _shown(name: str) -> str:
    """A member name fit for a message: the file chose it, so no control characters."""
    return "".join(c if c.isprintable() else "?" for c in name[:200])


def _oddity(m: zipfile.ZipInfo, seen: set[str]) -> str | None:
    name = m.filename
    if name in seen:
        return "duplicate"
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or ":" in name or "\x00" in name:
        return "path"
    if m.flag_bits & 0x1:
        return "encrypted"
    if m.compress_type not in _METHODS:
        return "compression"
    if name.lower().endswith(_NESTED_SUFFIXES):
        return "nested"
    return None


class RowBudget:
    """Counts rows and cells as a reader yields them; refuses the first one over a limit."""

    def __init__(self) -> None:
        self.rows = 0
        self.cells = 0

    def take(self, width: int) -> None:
        self.rows += 1
        self.cells += width
        if self.rows > MAX_ROWS:
            raise failed([problem("too_many_rows", limit=MAX_ROWS)])
        if width > MAX_COLUMNS:
            raise failed([problem("too_many_columns", row=self.rows, limit=MAX_COLUMNS)])
        if self.cells > MAX_CELLS:
            raise failed([problem("too_many_cells", row=self.rows, limit=MAX_CELLS)])
