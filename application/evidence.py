"""Evidence blobs: content-addressed files beside the data (docs/DESIGN.md, "Storage").

A blob lives at evidence/<sha256[:2]>/<sha256>; its name is its hash, so the
same file uploaded twice is stored once and any change to its bytes shows.
The media type is taken from the content (magic numbers), not from the client.

A hash arrives from clients (commands) and from stored events, so it is a path
component an attacker chooses: only 64 lowercase hex characters ever become a
path, and a blob is opened only if it is a regular file (not a symlink) whose
real path lies inside the store's own folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import filetype

from domain.errors import DomainError

ALLOWED = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "audio/mpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.ms-excel",
    "application/zip",
    "text/plain",
    "text/csv",
}


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: object) -> bool:
    """True only for a SHA-256 written as exactly 64 lowercase hex characters."""
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are, or None if not an allowed kind."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = kind.mime
        if mime == "application/x-ole-storage" or data[:8] == bytes.fromhex("d0cf11e0a1b11ae1"):
            return "application/msword"
        return mime if mime in ALLOWED else None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        """Where the blob named `sha256` lives; ValueError for anything but a hash."""
        if not is_sha256(sha256):
            raise ValueError("not a lowercase hex SHA-256")
        return self.root / sha256[:2] / sha256

    def _inside(self, path: Path) -> bool:
        real_root = os.path.realpath(self.root)
        return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root

    def _safe_dir(self, directory: Path) -> bool:
        """The shard folder is a real folder of the store, not a link out of it."""
        try:
            st = os.lstat(directory)
        except OSError:
            return False
        return stat.S_ISDIR(st.st_mode) and self._inside(directory)

    def open(self, sha256: object) -> BinaryIO | None:
        """The blob opened for reading, or None: not a hash, absent, a symlink, not
        a regular file, or outside the store. Nothing says which, so an error built
        on it cannot tell a client anything about a file it did not upload."""
        if not is_sha256(sha256):
            return None
        path = self.path(sha256)
        if not self._safe_dir(path.parent) or not self._inside(path):
            return None
        try:
            # O_NOFOLLOW: a link swapped in after the checks above is still refused.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return os.fdopen(fd, "rb")

    def has(self, sha256: object) -> bool:
        f = self.open(sha256)
        if f is None:
            return False
        f.close()
        return True

    def describe(self, sha256: object) -> dict | None:
        """{sha256, size, media_type} of a blob really in the store: its bytes hash
        to its name, it fits the size limit and its type is allowed; else None."""
        f = self.open(sha256)
        if f is None:
            return None
        with f:
            data = f.read(self.max_bytes + 1)
        if len(data) > self.max_bytes or hashlib.sha256(data).hexdigest() != sha256:
            return None
        media_type = sniff(data)
        if media_type is None:
            return None
        return {"sha256": sha256, "size": len(data), "media_type": media_type}

    def put(self, data: bytes, declared_type: str | None = None) -> dict:
        """Stores the bytes; returns {sha256, size, media_type}. Refuses what it can't vouch for."""
        if len(data) == 0:
            raise DomainError(
                "evidence_empty_file",
                "Tệp minh chứng rỗng.",
                "The file is empty.",
                field="file",
                status=422,
            )
        if len(data) > self.max_bytes:
            raise DomainError(
                "evidence_too_large",
                f"Tệp vượt quá giới hạn {self.max_bytes} byte.",
                f"The file exceeds the {self.max_bytes}-byte limit.",
                field="file",
                status=413,
            )
        media_type = sniff(data)
        if media_type is None:
            raise DomainError(
                "media_type_not_allowed",
                "Loại tệp không được chấp nhận (PDF, ảnh, video, Word, Excel, văn bản).",
                "File type not accepted (PDF, image, video, Word, Excel, text).",
                field="file",
                status=415,
            )
        if declared_type and declared_type.split(";")[0].strip() not in (media_type, ""):
            if not (declared_type.startswith("text/") and media_type == "text/plain"):
                raise DomainError(
                    "media_type_mismatch",
                    f"Loại tệp khai báo ({declared_type}) khác nội dung thật ({media_type}).",
                    f"Declared type {declared_type} differs from the content ({media_type}).",
                    field="media_type",
                    status=415,
                )
        digest = hashlib.sha256(data).hexdigest()
        if self.check(digest) is not None:
            self._write(digest, data)
        return {"sha256": digest, "size": len(data), "media_type": media_type}

    def _write(self, digest: str, data: bytes) -> None:
        target = self.path(digest)
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(target.parent):
            target.parent.mkdir(exist_ok=True)
        if not self._safe_dir(target.parent):
            raise DomainError(
                "evidence_store_unsafe",
                "Thư mục minh chứng của máy chủ không hợp lệ; báo quản trị hệ thống.",
                "The server's evidence folder is not valid; tell the system operator.",
                status=500,
            )
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # Replaces a planted symlink or a damaged copy, never writes through one.
        os.replace(tmp, target)

    def check(self, sha256: object, size: int | None = None) -> str | None:
        """None when the blob is present and intact, else 'evidence_missing'/'evidence_mismatch'."""
        f = self.open(sha256)
        if f is None:
            return "evidence_missing"
        h = hashlib.sha256()
        n = 0
        with f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
        if h.hexdigest() != sha256 or (size is not None and n != size):
            return "evidence_mismatch"
        return None

    def all(self) -> Iterator[str]:
        """The hashes of the blobs in the store (links and stray files left out)."""
        if self.root.exists():
            for p in sorted(self.root.glob("??/*")):
                if p.parent.name == p.name[:2] and self.has(p.name):
                    yield p.name
