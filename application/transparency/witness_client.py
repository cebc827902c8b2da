"""Asking witnesses to cosign the log's latest checkpoint (the client side of tlog-witness).

For each configured witness (``parindex.json`` ``witnesses``: url, vkey): send
``old <size it last cosigned for us>``, the consistency proof from there, and
the checkpoint; on 409, take the size the witness answers and try once more
from it. A witness whose size is *above* ours has seen a longer log than we
now hold: the log was rolled back (or forked), and that is reported, never
papered over. Returned lines are verified with the witness's key over the
checkpoint before they are kept (``CosignatureStore``).

The HTTP call is a parameter (``post(url, body) -> (status, body)``) so tests
can route it to an in-process witness; the default uses urllib with a timeout
and a bound on the answer's size.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass

from application.signing.keys import b64
from application.transparency.cosignature import open_cosigned, parse_cosignature_vkey
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.log_store import StoredCheckpoint
from application.transparency.note import NoteError, parse_verifier_key
from domain.errors import DomainError

__all__ = [
    "Post",
    "WitnessAnswer",
    "ask_for_latest",
    "ask_witnesses",
    "check_witness_entry",
    "http_post",
]

Post = Callable[[str, bytes], tuple[int, bytes]]
MAX_ANSWER_BYTES = 64 * 1024
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class WitnessAnswer:
    """What one witness did: ``status`` is ``cosigned``, ``witness_ahead`` or ``failed``."""

    url: str
    witness: str
    status: str
    size: int
    witness_size: int | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def http_post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_ANSWER_BYTES)


def check_witness_entry(url: str, vkey: str) -> dict:
    """A ``witnesses`` entry, checked: an http(s) URL and a cosignature/v1 vkey."""
    if not url.startswith(("http://", "https://")):
        raise DomainError(
            "bad_witness_url", "URL nhân chứng phải bắt đầu bằng http(s)://",
            "the witness URL must start with http:// or https://", status=400,
        )  # fmt: skip
    try:
        parse_cosignature_vkey(vkey)
    except NoteError as exc:
        raise DomainError(
            "bad_witness_key", "Khóa nhân chứng không hợp lệ (loại 0x04)",
            f"invalid witness key: {exc}", status=400,
        ) from exc  # fmt: skip
    return {"url": url, "vkey": vkey}


def ask_witnesses(
    tlog, checkpoint: StoredCheckpoint, log_vkey: str, witnesses: list[dict], post: Post = http_post
) -> list[WitnessAnswer]:
    """Ask every witness to cosign ``checkpoint``; keep what verifies; say what each did."""
    store = CosignatureStore(tlog)
    log_key = parse_verifier_key(log_vkey)
    return [_ask(tlog, store, checkpoint, log_key, w, post) for w in witnesses]


def ask_for_latest(app, post: Post | None = None) -> tuple[StoredCheckpoint, list[WitnessAnswer]]:
    """Sign the tree head if it grew, then ask the deployment's witnesses to cosign it."""
    from application.deployment import log_verifier_key
    from application.transparency.proofs import covering_checkpoint

    checkpoint = covering_checkpoint(app)
    answers = ask_witnesses(
        app.tlog, checkpoint, log_verifier_key(app), app.settings.witnesses, post or http_post
    )
    return checkpoint, answers


def _ask(tlog, store, checkpoint, log_key, entry: dict, post: Post) -> WitnessAnswer:
    url, vkey = entry["url"], entry["vkey"]
    witness = parse_cosignature_vkey(vkey)
    old = min(store.last_size(vkey), checkpoint.size)
    for _ in range(2):
        try:
            status, answer = post(url, _body(tlog, old, checkpoint))
        except (OSError, ValueError) as exc:
            return WitnessAnswer(url, witness.name, "failed", checkpoint.size, None, str(exc))
        if status == 409:
            theirs = _size(answer)
            if theirs is None:
                return _failed(url, witness.name, checkpoint, "409 without a size")
            if theirs > checkpoint.size:
                return WitnessAnswer(
                    url, witness.name, "witness_ahead", checkpoint.size, theirs,
                    "the witness cosigned a larger tree of this log: rolled back or forked",
                )  # fmt: skip
            old = theirs
            continue
        if status != 200:
            detail = answer[:200].decode("utf-8", "replace")
            return _failed(url, witness.name, checkpoint, f"HTTP {status}: {detail}")
        try:
            opened = open_cosigned(checkpoint.note + answer.decode("utf-8"), [log_key], [witness])
        except (NoteError, UnicodeDecodeError) as exc:
            return _failed(url, witness.name, checkpoint, f"bad cosignature: {exc}")
        if not opened.cosignatures:
            return _failed(url, witness.name, checkpoint, "no cosignature by the witness's key")
        store.add(checkpoint, vkey, opened.cosignatures[0].line())
        return WitnessAnswer(url, witness.name, "cosigned", checkpoint.size, checkpoint.size)
    return _failed(url, witness.name, checkpoint, "409 twice")


def _body(tlog, old: int, checkpoint: StoredCheckpoint) -> bytes:
    proof = tlog.consistency_proof(old, checkpoint.size) if 0 < old < checkpoint.size else []
    head = f"old {old}\n" + "".join(b64(h) + "\n" for h in proof)
    return (head + "\n" + checkpoint.note).encode("utf-8")


def _size(answer: bytes) -> int | None:
    text = answer.decode("ascii", "replace").strip("\n")
    return int(text) if text.isdigit() and len(text) <= 20 else None


def _failed(url: str, name: str, checkpoint: StoredCheckpoint, detail: str) -> WitnessAnswer:
    return WitnessAnswer(url, name, "failed", checkpoint.size, None, detail)
