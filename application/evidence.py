"""Evidence blobs: content-addressed files beside the data (docs/DESIGN.md, "Storage").

A blob lives at evidence/<sha256[:2]>/<sha256>; its name is its hash, so the
same file uploaded twice is stored once and any change to its bytes shows.
The media type is taken from the content (magic numbers), not from the client.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

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
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return len(sha256) == 64 and self.path(sha256).is_file()

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
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        return {"sha256": digest, "size": len(data), "media_type": media_type}

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the blob is present and intact, else 'evidence_missing'/'evidence_mismatch'."""
        p = self.path(sha256)
        if not p.is_file():
            return "evidence_missing"
        h = hashlib.sha256()
        n = 0
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
        if h.hexdigest() != sha256 or (size is not None and n != size):
            return "evidence_mismatch"
        return None

    def all(self) -> Iterator[str]:
        if self.root.exists():
            for p in sorted(self.root.glob("??/*")):
                if not p.name.startswith("."):
                    yield p.name
