"""Hostile .xlsx files, built byte by byte as an attacker would (no fixture files).

An .xlsx is a zip archive. `write_zip` writes one by hand so a test can put in
it what zipfile would never write: a deflated member that inflates to a GiB
(made in well under a second by repeating one fully flushed deflate block),
or a member whose directory entry lies about its size.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
SHEET_OPEN = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = b"</sheetData></worksheet>"


@dataclass(frozen=True)
class Member:
    name: str
    deflated: bytes
    crc: int
    size: int  # the inflated size the directory declares


def member(name: str, data: bytes) -> Member:
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)  # level 9 crawls on random bytes
    return Member(name, packer.compress(data) + packer.flush(), zlib.crc32(data), len(data))


def repeated_member(name: str, head: bytes, unit: bytes, inflated: int, tail: bytes) -> Member:
    """head + unit repeated to about `inflated` bytes + tail, deflated at ~1000:1.

    A deflate stream may be cut after a full flush and the piece repeated:
    the flush empties the window, so each copy decodes on its own.
    """
    chunk = unit * max(1, (4 << 20) // len(unit))
    copies = max(1, inflated // len(chunk))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + copies * len(chunk) + len(tail)
    return Member(name, first + block * copies + last, crc, size)


def workbook_members(*rows: list[object]) -> dict[str, bytes]:
    """The parts of a small, valid workbook written by openpyxl."""
    workbook = Workbook()
    for row in rows or (["code", "title", "max_points"],):
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, members: list[Member]) -> Path:
    """A plain zip (no zip64: every size under 4 GiB) holding `members` as given."""
    local, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        fields = (20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, m.crc, len(m.deflated), m.size)
        central += struct.pack("<4s2H", b"PK\x01\x02", 20, 20)
        central += struct.pack("<4H3L", *fields[1:5], *fields[5:])
        central += struct.pack("<5H2L", len(name), 0, 0, 0, 0, 0, len(local)) + name
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, len(name), 0) + name
        local += m.deflated
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0
    )
    path.write_bytes(bytes(local + central + end))
    return path


def xlsx_with(path: Path, replaced: dict[str, Member] | None = None, *extra: Member) -> Path:
    """A valid workbook with some parts replaced and others added."""
    replaced = replaced or {}
    parts = [replaced.get(n) or member(n, data) for n, data in workbook_members().items()]
    return write_zip(path, [*parts, *extra])


def sheet_bomb(path: Path, inflated: int) -> Path:
    """An .xlsx whose first sheet inflates to about `inflated` bytes of identical rows."""
    unit = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    bomb = repeated_member(SHEET, SHEET_OPEN, unit, inflated, SHEET_CLOSE)
    return xlsx_with(path, {SHEET: bomb})
