"""A client's quorum of witnesses: a checkpoint is accepted only with at least K valid
cosignatures (docs/FORMATS.md 6.5) by the witness keys it was given.

Keys come from `--witness VKEY` (repeatable) or `PARINDEX_WITNESSES` (keys
separated by spaces or commas); K from `--min-witnesses` or
`PARINDEX_MIN_WITNESSES`, 1 by default when keys are given. A witness that
cosigned a checkpoint vouches that it extends every checkpoint of the log it
cosigned before, so a client holding the quorum cannot be shown a rolled-back
or forked log unless K witnesses are in on it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from application.transparency import note
from application.transparency.cosignature import (
    CosignatureVerifier,
    open_cosigned,
    parse_cosignature_vkey,
)
from domain.errors import DomainError

__all__ = ["Quorum", "WitnessMissing"]


class WitnessMissing(DomainError):
    def __init__(self, size: int | None, found: int, needed: int):
        where = f" {size}" if size is not None else ""
        super().__init__(
            "witness_missing",
            f"Điểm kiểm tra{where} chỉ có {found} chữ ký đồng xác nhận của nhân chứng đã cho, "
            f"cần ít nhất {needed}: không chấp nhận",
            f"Checkpoint{where} carries {found} cosignatures of the given witnesses, "
            f"at least {needed} are required: not accepted",
            status=502,
        )
        self.size, self.found, self.needed = size, found, needed


@dataclass(frozen=True)
class Quorum:
    witnesses: tuple[CosignatureVerifier, ...] = ()
    minimum: int = 0

    @classmethod
    def of(cls, vkeys: Iterable[str] = (), minimum: int | None = None) -> Quorum:
        """From flags, else the environment. Raises DomainError (`bad_witness_key`,
        `bad_min_witnesses`) on a key that is not a witness key or a K out of range."""
        keys = list(vkeys) or re.split(r"[\s,]+", os.environ.get("PARINDEX_WITNESSES", "").strip())
        keys = [k for k in keys if k]
        if minimum is None and os.environ.get("PARINDEX_MIN_WITNESSES", "").strip():
            try:
                minimum = int(os.environ["PARINDEX_MIN_WITNESSES"])
            except ValueError:
                minimum = -1
        try:
            witnesses = tuple(parse_cosignature_vkey(k) for k in keys)
        except note.NoteError as e:
            raise DomainError(
                "bad_witness_key",
                f"Khóa nhân chứng không hợp lệ (loại 0x04): {e}",
                f"Invalid witness key (type 0x04): {e}",
                field="witness", status=400,
            ) from None  # fmt: skip
        minimum = min(1, len(witnesses)) if minimum is None else minimum
        if not 0 <= minimum <= len(witnesses):
            raise DomainError(
                "bad_min_witnesses",
                "--min-witnesses phải từ 0 đến số khóa nhân chứng đã cho",
                "--min-witnesses must be between 0 and the number of witness keys given",
                field="min_witnesses", status=400,
            )  # fmt: skip
        return cls(witnesses, minimum)

    @property
    def vkeys(self) -> list[str]:
        return [w.vkey for w in self.witnesses]

    def names(self, text: str, log_key: str) -> list[str]:
        """The listed witnesses that validly cosigned `text` (already known to be signed
        by the log). A listed witness's line that does not verify raises NoteError."""
        if not self.witnesses:
            return []
        return [c.name for c in open_cosigned(text, [log_key], self.witnesses).cosignatures]

    def check(self, text: str, log_key: str, size: int | None = None) -> list[str]:
        """Raises WitnessMissing unless at least K listed witnesses cosigned `text`."""
        found = self.names(text, log_key)
        if len(found) < self.minimum:
            raise WitnessMissing(size, len(found), self.minimum)
        return found
