"""A C2SP tlog-witness: ``add-checkpoint`` decided, cosigned and remembered.

The request body (c2sp.org/tlog-witness)::

    old <size>\\n
    <base64 consistency proof hash>\\n     (0 to 63 lines)
    \\n
    <signed checkpoint note>

Checks, in the order the specification gives them, each with its status:

* unreadable request (not UTF-8, no empty line, bad ``old`` line, a proof
  line that is not canonical base64 of 32 bytes, more than 63 of them, a note
  or checkpoint that does not parse): 400;
* the checkpoint's origin is not a configured log: 404;
* no valid signature by a configured key of that log, or a line under that
  key's name that does not verify: 403;
* ``old`` above the checkpoint's size: 400;
* ``old`` is not the size of the last checkpoint cosigned for that log (0 if
  none): 409, body ``<size>\\n``, type ``text/x.tlog.size``;
* a size-0 checkpoint whose root is not SHA-256(""): 422;
* a proof that is not empty from size 0, or does not prove the checkpoint
  consistent with the stored one (same size: the roots must be equal): 422.

Then the witness stores the checkpoint (atomically, under the state's lock,
so the check and the write are one step) and answers with its cosignature
line. Nothing is cosigned or stored on any refusal.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from application.signing.keys import unb64
from application.transparency.cosignature import Cosigner
from application.transparency.merkle import EMPTY_ROOT, ProofError, verify_consistency
from application.transparency.note import (
    BadSignatureError,
    NoteError,
    UnverifiedNoteError,
    Verifier,
    open_note,
    parse_checkpoint,
)
from application.transparency.witness_state import LogState, WitnessState

__all__ = ["MAX_PROOF_LINES", "MAX_REQUEST_BYTES", "Refused", "Witness", "parse_request"]

#: tlog-witness: a client MUST NOT send more than 63 consistency proof lines.
MAX_PROOF_LINES = 63
#: Far above any honest request (a checkpoint, 16 signatures, 63 hashes).
MAX_REQUEST_BYTES = 64 * 1024
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})\Z")
_SIG_PREFIX = "\u2014 "


class Refused(Exception):
    """The witness will not cosign: an HTTP status, a stable code, both languages."""

    def __init__(self, status: int, code: str, vi: str, en: str, size: int | None = None):
        super().__init__(f"{code}: {en}")
        self.status, self.code, self.vi, self.en = status, code, vi, en
        self.size = size  # the stored size, for a 409


@dataclass(frozen=True)
class Request:
    old: int
    proof: list[bytes]
    note: str


def parse_request(body: bytes) -> Request:
    """Parse an add-checkpoint body; ``Refused(400)`` unless it is exactly well formed."""
    if len(body) > MAX_REQUEST_BYTES:
        raise _bad("request_too_large", "Yêu cầu quá lớn", "request body is too large", 413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("not_utf8", "Yêu cầu không phải UTF-8", "request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise _bad("no_empty_line", "Thiếu dòng trống", "no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD.match(lines[0])
    if not match or int(match.group(1)) >= 2**64:
        raise _bad("bad_old_size", "Dòng 'old' sai", "the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _bad("proof_too_long", "Bằng chứng quá dài", "more than 63 proof lines")
    proof = []
    for line in lines[1:]:
        try:
            node = unb64(line)
        except ValueError:
            node = b""
        if len(node) != 32:
            raise _bad("bad_proof_line", "Dòng bằng chứng sai", "a proof line is not a hash")
        proof.append(node)
    return Request(old=int(match.group(1)), proof=proof, note=note)


class Witness:
    """One witness: its key, the logs it follows (origin -> keys), its state file."""

    def __init__(
        self,
        cosigner: Cosigner,
        logs: Mapping[str, Iterable[Verifier]],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cosigner = cosigner
        self.logs = {origin: list(keys) for origin, keys in logs.items()}
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> str:
        """Decide one add-checkpoint request; return the cosignature line(s) or raise."""
        request = parse_request(body)
        origin = request.note.split("\n", 1)[0]
        keys = self.logs.get(origin)
        if not keys:
            raise Refused(
                404, "unknown_log", "Nhân chứng không theo dõi nhật ký này", "unknown log"
            )
        opened = _open_by_log(request.note, keys)
        try:
            checkpoint = parse_checkpoint(opened.text)
        except NoteError as exc:
            raise _bad("bad_checkpoint", "Điểm kiểm tra sai định dạng", str(exc)) from None
        if request.old > checkpoint.size:
            raise _bad("old_above_size", "'old' lớn hơn kích thước", "old size above new size")
        with self.state.transaction() as logs:
            stored = logs.get(origin)
            stored_size = stored.size if stored else 0
            if request.old != stored_size:
                raise Refused(
                    409,
                    "size_mismatch",
                    f"Nhân chứng đã ký đồng ở kích thước {stored_size}",
                    f"the witness's last cosigned size is {stored_size}",
                    size=stored_size,
                )
            if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
                raise _unprocessable("bad_empty_root", "a size-0 tree must have the empty root")
            if request.old == 0:
                if request.proof:
                    raise _unprocessable("proof_not_empty", "the proof from size 0 must be empty")
            else:
                try:
                    verify_consistency(
                        request.old, checkpoint.size, stored.root, checkpoint.root, request.proof
                    )
                except ProofError as exc:
                    raise _unprocessable("bad_consistency_proof", str(exc)) from None
            timestamp = int(self.clock())
            cosignature = self.cosigner.cosign(opened.text, timestamp)
            kept = opened.text + "\n" + "".join(opened.log_lines) + cosignature.line()
            logs[origin] = LogState(
                size=checkpoint.size,
                root=checkpoint.root,
                note=kept,
                updated_at=datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        return cosignature.line()

    def checkpoint_of(self, origin: str) -> str | None:
        """The last cosigned checkpoint of ``origin`` (log and witness signatures), or None."""
        stored = self.state.load().get(origin)
        return stored.note if stored else None


@dataclass(frozen=True)
class _Opened:
    text: str
    log_lines: list[str]


def _open_by_log(note: str, keys: list[Verifier]) -> _Opened:
    try:
        opened = open_note(note, keys)
    except (UnverifiedNoteError, BadSignatureError):
        raise _forbidden() from None
    except NoteError as exc:
        # Our reader refuses non-canonical base64 as malformed. A line that
        # still decodes (as Go's reader would) to a configured key's name and
        # ID is that key's signature failing: 403, as the spec asks.
        trusted = {(k.name, k.key_hash) for k in keys}
        tail = note[note.rfind("\n\n") + 2 :] if "\n\n" in note else ""
        for name, _, sig64 in (line.partition(" ") for line in _sig_bodies(tail)):
            if not _canonical(sig64) and (name, _lenient_key_id(sig64)) in trusted:
                raise _forbidden() from None
        raise _bad("bad_note", "Ghi chú có chữ ký sai định dạng", str(exc)) from None
    lines = [f"{_SIG_PREFIX}{s.name} {s.base64}\n" for s in opened.verified]
    return _Opened(text=opened.text, log_lines=lines)


def _canonical(sig64: str) -> bool:
    try:
        unb64(sig64)
    except ValueError:
        return False
    return True


def _lenient_key_id(sig64: str) -> int | None:
    try:
        blob = base64.b64decode(sig64.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    return int.from_bytes(blob[:4], "big") if len(blob) > 4 else None


def _sig_bodies(tail: str) -> list[str]:
    return [line[len(_SIG_PREFIX) :] for line in tail.split("\n") if line.startswith(_SIG_PREFIX)]


def _bad(code: str, vi: str, en: str, status: int = 400) -> Refused:
    return Refused(status, code, vi, en)


def _forbidden() -> Refused:
    return Refused(
        403,
        "invalid_signature",
        "Không có chữ ký hợp lệ của khóa nhật ký",
        "invalid signature: no valid signature by a configured log key",
    )


def _unprocessable(code: str, detail: str) -> Refused:
    return Refused(
        422, code, "Không nhất quán với điểm kiểm tra đã ký đồng", f"consistency proof: {detail}"
    )
