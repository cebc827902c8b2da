"""A commune's own monitor (`parindex watch`, docs/API.md "A commune's monitor").

Each round it takes the log's latest checkpoint (signed by the log key it
pinned on its first run), proves it consistent with the last checkpoint it
verified (kept on disk), then reads its unit's events after the last version it
saw and proves each one in the new checkpoint from the event's exact bytes. It
reports, and stops at, anything that does not hold:

- `log_rolled_back`: the log is smaller than a checkpoint already verified
  (a data directory restored from an older copy);
- `log_forked`: same size with another root, or no valid consistency proof
  (the log shown now is not an extension of the one seen before);
- `event_hidden`: the unit's next event is not the next version (the server
  skipped one it stored);
- `proof_invalid`: an event whose bytes do not hash to a leaf of the
  checkpoint, or whose signature is not its signer's;
- `witness_missing`: witnesses were given (`--witness`, kept in the state) and
  no checkpoint the server shows carries K of their cosignatures.

Nothing on the server is trusted but the log key: names and roles of signers
come from the server's key registry and are shown as such; the signature of
each command is checked against the public key whose id the command names.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from application.audit.replay import signature_ok
from application.signing.keys import actor_key_id
from application.transparency import merkle, note
from application.transparency.leaf import event_leaf_hash
from domain.assessment import Assessment
from interfaces.witness_quorum import WitnessMissing

STATE_FORMAT = "parindex-watch/v1"
PAGE = 200


class Alert(Exception):
    """Something the log or the server did that a monitor must report."""

    def __init__(self, code: str, vi: str, en: str):
        super().__init__(f"{code}: {en}")
        self.code, self.vi, self.en = code, vi, en


@dataclass
class State:
    """What the monitor has verified, kept on disk between rounds."""

    cycle: str
    unit: str
    log_key: str
    size: int = 0
    root: str = ""  # base64
    note: str = ""
    version: int = 0  # the last event of the unit's assessment seen
    leaves: dict[str, dict] = field(default_factory=dict)  # leaf -> {self, appraised}
    witnesses: list[str] = field(default_factory=list)  # their vkeys, kept like the log key
    min_witnesses: int = 0

    @classmethod
    def load(cls, path: Path) -> State | None:
        """The saved state; None if there is none. A file that cannot be read is an
        error, never a fresh start: a monitor that forgets is no monitor."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(raw.decode("utf-8"))
            if doc.pop("format") != STATE_FORMAT:
                raise ValueError("format")
            return cls(**doc)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not a watch state file ({e})") from None

    def save(self, path: Path) -> None:
        """Atomically: a crash leaves the old state or the new, never half of one."""
        data = json.dumps(
            {"format": STATE_FORMAT, **self.__dict__}, ensure_ascii=False, indent=1
        ).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass(frozen=True)
class Change:
    """One verified event of the unit."""

    leaf_index: int
    version: int
    kind: str  # the event's name: ScoreAdjusted, ...
    command: dict  # the signed command, its signature checked
    signer: dict  # {key_id, name, role}: the registry's word
    leaf: str | None
    before: dict | None  # the leaf's value before, for score changes
    after: dict | None


def one_round(client: Any, state: State, emit: Callable[[Change], None]) -> int:
    """Verifies the newest checkpoint and the unit's new events, calls `emit` for
    each, and updates `state` (the caller saves it). Returns how many events were
    verified. Raises Alert on a rollback, fork, hidden event or bad proof."""
    try:
        cp_doc = client.checkpoint()  # signed by the pinned log key, cosigned by K witnesses
    except WitnessMissing as e:
        raise Alert("witness_missing", e.message("vi"), e.message("en")) from None
    cp = note.parse_checkpoint(note.open_note(cp_doc["note"], [state.log_key]).text)
    _check_extends(client, state, cp)
    aid = Assessment.create_id(state.cycle, state.unit)
    count = 0
    while True:
        page = client.unit_events(state.cycle, state.unit, after=state.version, limit=PAGE)
        if page.get("aggregate_id") and UUID(page["aggregate_id"]) != aid:
            raise Alert(
                "proof_invalid",
                "máy chủ trả về sự kiện của một đơn vị khác",
                "the server returned another unit's events",
            )
        fresh = [e for e in page["events"] if e["leaf_index"] < cp.size]
        for e in fresh:
            emit(_verified(client, state, cp, aid, e, page.get("signers") or {}))
            count += 1
        if len(fresh) < len(page["events"]) or len(page["events"]) < PAGE:
            break  # the rest is not covered by this checkpoint yet, or there is no more
    state.size, state.root, state.note = cp.size, base64.b64encode(cp.root).decode(), cp_doc["note"]
    return count


def _check_extends(client: Any, state: State, cp: note.Checkpoint) -> None:
    if not state.size:
        return
    old_root = base64.b64decode(state.root)
    if cp.size < state.size:
        raise Alert(
            "log_rolled_back",
            f"nhật ký chỉ còn {cp.size} sự kiện, nhưng đã xác minh điểm kiểm tra "
            f"{state.size} sự kiện: dữ liệu máy chủ đã bị quay lui về bản cũ",
            f"the log has {cp.size} entries, but a checkpoint of {state.size} was verified: "
            "the server's data was rolled back",
        )
    if cp.size == state.size:
        if cp.root != old_root:
            raise _forked(state.size, cp.size)
        return
    try:
        doc = client.consistency_proof(state.size, cp.size)
        if base64.b64decode(doc["root1"]) != old_root or base64.b64decode(doc["root2"]) != cp.root:
            raise ValueError("roots")
        merkle.verify_consistency(
            state.size, cp.size, old_root, cp.root, [base64.b64decode(h) for h in doc["hashes"]]
        )
    except Exception as e:  # no proof, a bad proof, or roots that are not the signed ones
        if isinstance(e, Alert):
            raise
        raise _forked(state.size, cp.size) from None


def _forked(old: int, new: int) -> Alert:
    return Alert(
        "log_forked",
        f"nhật ký hiện tại ({new} sự kiện) không nối tiếp nhật ký đã xác minh ({old} sự kiện): "
        "máy chủ đang cho xem một lịch sử khác",
        f"the log now ({new} entries) does not extend the one verified ({old} entries): "
        "the server shows another history",
    )


def _verified(
    client: Any, state: State, cp: note.Checkpoint, aid: UUID, e: dict, signers: dict
) -> Change:
    index, version = e["leaf_index"], e["version"]
    if version != state.version + 1:
        raise Alert(
            "event_hidden",
            f"sự kiện tiếp theo của {state.unit} phải là phiên bản {state.version + 1}, máy chủ "
            f"đưa phiên bản {version}: có sự kiện bị giấu",
            f"{state.unit}'s next event must be version {state.version + 1}, the server gave "
            f"{version}: an event is hidden",
        )
    try:
        raw = base64.b64decode(e["state"], validate=True)
        leaf_hash = event_leaf_hash(aid, version, e["topic"], raw)
        proof = client.inclusion_proof(index, cp.size)
        merkle.verify_inclusion(
            leaf_hash, index, cp.size, [base64.b64decode(h) for h in proof["hashes"]], cp.root
        )
        body = json.loads(raw.decode("utf-8"))
        command, signer = _signed(body, signers)
    except (ValueError, KeyError, TypeError) as err:
        raise Alert(
            "proof_invalid",
            f"sự kiện ở vị trí nhật ký {index} không được chứng minh: {err}",
            f"the event at log index {index} is not proven: {err}",
        ) from None
    kind = e["topic"].rsplit(".", 1)[-1]
    leaf = command.get("leaf") if isinstance(command.get("leaf"), str) else None
    before = after = None
    if leaf is not None or kind == "AppraisalClosed":
        before, after = _apply(state, kind, leaf, body)
    state.version = version
    return Change(index, version, kind, command, signer, leaf, before, after)


def _signed(body: dict, signers: dict) -> tuple[dict, dict]:
    signed = body.get("signed")
    if not isinstance(signed, dict):
        return {}, {}  # an event of a command whose signed copy is in an earlier event
    text, key_id = signed["command"], signed["key_id"]
    found = signers.get(key_id) or {}
    public = base64.b64decode(found.get("public_key") or "", validate=True)
    if len(public) != 32 or actor_key_id(public) != key_id:
        raise ValueError(f"no public key for {key_id}")
    signature = base64.b64decode(signed["signature"], validate=True)
    if not signature_ok(public, text.encode("utf-8"), signature):  # as verify checks it
        raise ValueError(f"the signature is not {key_id}'s")
    command = json.loads(text)
    if command.get("actor") != key_id:
        raise ValueError("signed by another key than its actor")
    return command, {"key_id": key_id, "name": found.get("name"), "role": found.get("role")}


_INPUTS = ("points", "done", "numerator", "denominator", "not_applicable")


def _inputs(body: dict) -> dict:
    return {k: body[k] for k in _INPUTS if body.get(k) is not None and body.get(k) is not False}


def _apply(state: State, kind: str, leaf: str | None, body: dict) -> tuple:
    """The leaf's value before and after this event, as the monitor has followed it."""
    if kind == "AppraisalClosed":
        for code in body.get("confirmed") or []:
            held = state.leaves.setdefault(code, {})
            held["appraised"] = held.get("self")
        return None, None
    held = state.leaves.setdefault(leaf, {})
    if kind in ("SelfScoreRecorded", "NotApplicableDeclared") or (
        kind == "ExplanationAnswered" and _inputs(body)
    ):
        new = {"not_applicable": True} if kind == "NotApplicableDeclared" else _inputs(body)
        before, held["self"] = held.get("self"), new
        return before, new
    if kind in ("ScoreAdjusted", "ScoreCorrected", "ScoreConfirmed"):
        new = held.get("self") if kind == "ScoreConfirmed" else _inputs(body)
        before = held.get("appraised", held.get("self"))
        held["appraised"] = new
        return before, new
    return None, None
