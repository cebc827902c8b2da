"""An independent replay verifier for parindex audit bundles, from docs/FORMATS.md alone.

It imports nothing of the project (no application/, domain/, interfaces/,
projections/): the standard library, `cryptography` and `rfc8785` (the JCS the
document names). Its findings are (kind, position, detail) as in FORMATS.md 8.3.

    python -m tests.independent.verifier BUNDLE [--log-key VKEY] [--checkpoint FILE]...
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.independent import logcheck
from tests.independent.bundle import Event, read_bundle
from tests.independent.fields import ClaimFailed, Refused
from tests.independent.rules import (
    World,
    Yield,
    actor_key_id,
    apply,
    derive,
    first_aggregate,
    is_deployment_command,
    is_deployment_topic,
    jcs,
    permission_problem,
)

COMMAND_CONTEXT = b"parindex-command/v1\n"
GRACE = timedelta(seconds=60)


@dataclass
class Finding:
    kind: str
    position: dict
    detail: str = ""

    def sort_key(self):
        p = self.position
        at = p.get("leaf_index", p.get("size", p.get("size1", p.get("line", -1))))
        return (at if isinstance(at, int) else -1, self.kind, json.dumps(p, sort_keys=True))


@dataclass
class Parsed:
    """One event with its state read (4.4): what command it names, if any."""

    event: Event
    state: dict | None = None
    name: tuple | None = None  # (command id, digest)
    command: dict | None = None
    signed: dict | None = None
    signature: bytes | None = None
    unreadable: bool = False


@dataclass
class Verifier:
    log_key: str | None = None
    extra_checkpoints: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, detail: str = "", **position) -> None:
        self.findings.append(Finding(kind, position, detail))

    # -- 4.4: what an event names -------------------------------------------------------
    def parse(self, e: Event) -> Parsed:
        p = Parsed(e)
        try:
            # 4.2 / 8.3: strictly UTF-8; a byte-order mark or UTF-16 is unreadable
            # (json.loads of bytes would guess the encoding and accept them)
            if e.state.startswith(b"\xef\xbb\xbf"):
                raise ValueError("byte-order mark")
            state = json.loads(e.state.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            p.unreadable = True
            return p
        if not isinstance(state, dict):
            p.unreadable = True
            return p
        p.state = state
        if "signed" in state:
            s = state["signed"]
            try:
                text, sig_b64, key_id = s["command"], s["signature"], s["key_id"]
                if not all(isinstance(x, str) for x in (text, sig_b64, key_id)):
                    raise TypeError
                cmd = json.loads(text)
                if not isinstance(cmd, dict):
                    raise TypeError
                sig = base64.b64decode(sig_b64, validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error):
                p.unreadable = True
                return p
            p.command, p.signed, p.signature = cmd, s, sig
            digest = hashlib.sha256(text.encode("utf-8") + b"\n" + sig).hexdigest()
            p.name = (cmd.get("id"), digest)
        elif isinstance(state.get("command"), dict):
            ref = state["command"]
            p.name = (ref.get("id"), ref.get("digest"), "ref")
        return p

    # -- the whole run --------------------------------------------------------------------
    def verify(self, path: Path) -> list[Finding]:
        b = read_bundle(path)
        for line in b.malformed:
            self.add("bundle_malformed", line=line)
        world = World()
        genesis: dict | None = None
        hashes: list[bytes] = []  # leaf hashes folded, up to the first broken position
        broken: int | None = None
        expected = 0
        last_version: dict[uuid.UUID, int] = {}
        altered: list[tuple[int, bytes, bytes]] = []
        parsed: list[Parsed] = []
        for e in b.events:
            # 4d leaf indices
            if e.leaf_index > expected:
                self.add("event_missing", f"next present leaf {e.leaf_index}", leaf_index=expected)
                broken = expected if broken is None else broken
                expected = e.leaf_index
            elif e.leaf_index < expected:
                self.add("event_reordered", leaf_index=e.leaf_index)
                broken = e.leaf_index if broken is None else min(broken, e.leaf_index)
            # 4e versions per aggregate
            last = last_version.get(e.originator_id, 0)
            if e.version > last + 1:
                self.add("event_missing", "version", leaf_index=e.leaf_index)
            elif e.version <= last:
                self.add("event_reordered", "version", leaf_index=e.leaf_index)
            last_version[e.originator_id] = max(last, e.version)
            # 4a, 4b
            recomputed = None
            if e.topic is None or e.state is None:
                self.add("event_missing", leaf_index=e.leaf_index)
            else:
                recomputed = logcheck.leaf_hash(e.originator_id, e.version, e.topic, e.state)
                if e.leaf_hash is not None and e.leaf_hash != recomputed:
                    altered.append((e.leaf_index, e.leaf_hash, recomputed))
            if e.leaf_index == expected:
                if broken is None:
                    hashes.append(e.leaf_hash or recomputed or b"")
                expected += 1
            parsed.append(self.parse(e) if recomputed is not None else Parsed(e, unreadable=None))
        log_size = expected
        genesis = self.replay(parsed, world)
        self.altered_or_swapped(altered)
        self.checkpoints(b, genesis, hashes, broken, log_size)
        if b.header is not None and b.events:
            size, end = b.header.get("size"), b.events[-1].leaf_index + 1
            if isinstance(size, int) and end < size:
                self.add("log_truncated", leaf_index=end, size=size)
            elif isinstance(size, int) and end > size:
                self.add("bundle_malformed", leaf_index=end, size=size)
        self.findings.sort(key=Finding.sort_key)
        return self.findings

    # -- 8.2 step 4c and 5, 6: runs, in leaf order ----------------------------------------------
    def runs(self, parsed: list[Parsed]):
        run: list[Parsed] = []
        for p in parsed:
            if (
                run
                and p.name is not None
                and run[-1].name is not None
                and p.name[:2] == run[-1].name[:2]
                and p.event.leaf_index == run[-1].event.leaf_index + 1
                # 4.4: "a scoring command's run is one leaf long"
                and (run[0].command is None or is_deployment_command(run[0].command))
            ):
                run.append(p)
                continue
            if run:
                yield run
            run = [p]
        if run:
            yield run

    def replay(self, parsed: list[Parsed], world: World) -> dict | None:
        genesis = None
        first_run = True
        ids: dict[str, int] = {}
        clock = Clock(self)
        for run in self.runs(parsed):
            head = run[0]
            at = head.event.leaf_index
            if head.unreadable is None:  # a missing event: already event_missing
                first_run = False
                continue
            is_first, first_run = first_run, False
            if head.unreadable:
                self.add("event_unreadable", head.event.topic or "", leaf_index=at)
                continue
            if head.name is None:
                self.add("unsigned_event", head.event.topic or "", leaf_index=at)
                if is_first:
                    self.add("bad_genesis", leaf_index=0)
                continue
            if head.command is None:  # a reference outside its command's run
                # 8.2 step 6: it still names a command id, so it is a later run of it
                cid = head.name[0]
                if isinstance(cid, str) and cid in ids:
                    self.add("command_replayed", f"first used at leaf {ids[cid]}", leaf_index=at)
                for p in run:
                    self.add(
                        "event_not_derived",
                        "command reference outside its run",
                        leaf_index=p.event.leaf_index,
                    )
                continue
            cmd = head.command
            clock.check(run, cmd, world)
            cid = cmd.get("id")
            if isinstance(cid, str):
                if cid in ids:
                    self.add("command_replayed", f"first used at leaf {ids[cid]}", leaf_index=at)
                else:
                    ids[cid] = at
            g = self.replay_run(run, cmd, world, is_first)
            genesis = genesis or g
        return genesis

    def replay_run(self, run: list[Parsed], cmd: dict, world: World, is_first: bool):
        head = run[0]
        at = head.event.leaf_index
        text, key_id = head.signed["command"], head.signed["key_id"]
        try:
            canonical = jcs(cmd) == text
        except Exception:
            canonical = False
        if not canonical or cmd.get("actor") != key_id:
            self.add("command_mismatch", leaf_index=at)
            return None
        genesis = cmd.get("type") == "init_deployment"
        if genesis != is_first or (genesis and at != 0):
            self.add("bad_genesis", leaf_index=0 if is_first else at)
            if genesis:
                return None
        if genesis:
            try:
                public = base64.b64decode(cmd.get("public_key"), validate=True)
            except (TypeError, ValueError, binascii.Error):
                public = b""
            if len(public) != 32 or actor_key_id(public) != key_id:
                self.add("bad_genesis", leaf_index=at)
                return None
            key = None
        else:
            key = world.keys.get(key_id)
            if key is None or key.first_leaf > at:
                self.add("unknown_key", key_id, leaf_index=at)
                return None
            if key.last_leaf is not None and at > key.last_leaf:
                self.add("key_revoked", key_id, leaf_index=at)
                return None
            public = key.public
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(
                head.signature, COMMAND_CONTEXT + text.encode("utf-8")
            )
        except (InvalidSignature, ValueError):
            self.add("bad_signature", key_id, leaf_index=at)
            return None
        expected_id = first_aggregate(cmd)
        if expected_id is not None and expected_id != head.event.originator_id:
            self.add("wrong_aggregate", str(expected_id), leaf_index=at)
            return None
        if is_deployment_command(cmd) != is_deployment_topic(head.event.topic or ""):
            self.add("event_not_derived", "topic", leaf_index=at)
            return None
        if key is not None:
            problem = permission_problem(cmd, key, world)
            if problem:
                self.add("not_permitted", problem, leaf_index=at)
                return None
        signed = {
            "command": text,
            "signature": base64.b64encode(head.signature).decode("ascii"),
            "key_id": key_id,
        }
        digest = hashlib.sha256(text.encode("utf-8") + b"\n" + head.signature).hexdigest()
        try:
            yields = derive(cmd, signed, digest, world)
        except ClaimFailed as r:
            self.add("event_not_derived", f"the command is refused: {r.code}", leaf_index=at)
            yields = r.yields
        except Refused as r:
            self.add("event_not_derived", f"the command is refused: {r.code}", leaf_index=at)
            return None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            self.add("event_not_derived", f"the command is refused: {e!r}", leaf_index=at)
            return None
        self.compare(run, yields)
        apply(cmd, yields, world, [p.event.leaf_index for p in run])
        if genesis:
            return {"log_key": cmd.get("log_key")}
        return None

    def compare(self, run: list[Parsed], yields: list[Yield]) -> None:
        for k, y in enumerate(yields):
            if k >= len(run):
                self.add(
                    "event_not_derived",
                    f"{len(run)} events, {len(yields)} yielded",
                    leaf_index=run[-1].event.leaf_index,
                )
                return
            p = run[k]
            at = p.event.leaf_index
            if p.event.originator_id != y.aggregate:
                self.add("wrong_aggregate", str(y.aggregate), leaf_index=at)
                continue
            if p.event.topic != y.topic:
                self.add("event_not_derived", "topic", leaf_index=at)
                continue
            if p.event.version != y.version:
                self.add("event_not_derived", "version", leaf_index=at)
                continue
            state = p.state or {}
            stored = {n: v for n, v in state.items() if n != "timestamp"}
            for name in [*y.members, *(n for n in stored if n not in y.members)]:
                if (
                    name not in stored
                    or name not in y.members
                    or not equal(stored[name], y.members[name])
                ):
                    self.add("event_not_derived", f"field '{name}'", leaf_index=at)
                    break
            # A timestamp that is no datetime is a finding of its own (FORMATS.md 8.2).
            if event_time(state) is None:
                self.add("event_not_derived", "field 'timestamp'", leaf_index=at)
        for p in run[len(yields) :]:
            self.add(
                "event_not_derived",
                f"{len(run)} events, {len(yields)} yielded",
                leaf_index=p.event.leaf_index,
            )

    # -- 8.2 step 7 --------------------------------------------------------------------------------
    def altered_or_swapped(self, altered: list[tuple[int, bytes, bytes]]) -> None:
        by_stored = {stored: i for i, stored, _ in altered}
        paired: set[int] = set()
        for i, stored, recomputed in altered:
            if i in paired:
                continue
            j = by_stored.get(recomputed)
            other = next((a for a in altered if a[0] == j), None) if j is not None else None
            if other is not None and j != i and other[2] == stored and j not in paired:
                paired.update((i, j))
                self.add("event_reordered", leaf_index=min(i, j), other=max(i, j))
            else:
                self.add("event_altered", leaf_index=i)

    # -- 8.2 steps 2, 3, 8 --------------------------------------------------------------------
    def checkpoints(self, b, genesis, hashes, broken, log_size) -> None:
        genesis_key = (genesis or {}).get("log_key")
        vkey = self.log_key or genesis_key
        if self.log_key and genesis_key and self.log_key != genesis_key:
            self.add("bad_genesis", "pinned log key", leaf_index=0)
        key = None
        if vkey is not None:
            try:
                key = logcheck.parse_vkey(vkey)
            except ValueError:
                self.add("bad_genesis", "log key", leaf_index=0)
        valid: list[logcheck.Checkpoint] = []
        for note in [*b.checkpoints, *self.extra_checkpoints]:
            try:
                cp = logcheck.parse_checkpoint(note)
            except ValueError:
                self.add("checkpoint_malformed", checkpoint=note[:60])
                continue
            if key is None or not logcheck.checkpoint_signed(note, cp, key):
                self.add("checkpoint_bad_signature", size=cp.size)
                continue
            valid.append(cp)
            if cp.size > log_size:
                self.add("log_truncated", leaf_index=log_size, size=cp.size)
            elif broken is None or cp.size <= broken:
                if logcheck.mth(hashes[: cp.size]) != cp.root:
                    self.add("checkpoint_root_mismatch", size=cp.size)
        valid.sort(key=lambda c: c.size)
        for a, c in zip(valid, valid[1:], strict=False):
            if a.size == c.size:
                ok = a.root == c.root
            elif (a.size, c.size) in b.proofs:
                ok = logcheck.consistency_ok(
                    a.size, c.size, a.root, c.root, b.proofs[(a.size, c.size)]
                )
            else:
                continue
            if not ok:
                self.add("checkpoints_inconsistent", size1=a.size, size2=c.size)


# -- 4.4 "Equal values" ------------------------------------------------------------------------
def equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    return a == b


def event_time(state: dict) -> datetime | None:
    ts = state.get("timestamp")
    if not isinstance(ts, dict) or ts.get("_type_") != "datetime_iso":
        return None
    try:
        t = datetime.fromisoformat(ts.get("_data_"))
    except (TypeError, ValueError):
        return None
    return t if t.tzinfo is not None and t.utcoffset() == timedelta(0) else None


def issued(cmd: dict) -> datetime | None:
    at = cmd.get("issued_at")
    if not isinstance(at, str) or not at.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(at[:-1] + "+00:00")
    except ValueError:
        return None


@dataclass
class Clock:
    """8.2 step 5: the only server-asserted member, bounded."""

    v: Verifier
    latest: datetime | None = None
    per_aggregate: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def check(self, run: list[Parsed], cmd: dict, world: World) -> None:
        at_cmd = issued(cmd)
        skew = timedelta(seconds=world.skew)
        if cmd.get("type") == "init_deployment" and isinstance(cmd.get("clock_skew_seconds"), int):
            skew = timedelta(seconds=cmd["clock_skew_seconds"])
        for p in run:
            t = event_time(p.state or {})
            if t is None or at_cmd is None:
                continue
            oid = p.event.originator_id
            prev = self.per_aggregate.get(oid)
            bad = not (at_cmd - skew <= t <= at_cmd + skew + GRACE)
            bad = bad or (prev is not None and t < prev)
            bad = bad or (self.latest is not None and t < self.latest - GRACE)
            # Every event moves its aggregate's latest time; only one in its
            # window moves the log's.
            self.per_aggregate[oid] = t if prev is None else max(prev, t)
            if bad:
                self.v.add("timestamp_out_of_window", leaf_index=p.event.leaf_index)
                continue
            self.latest = t if self.latest is None else max(self.latest, t)


def verify_bundle(
    path: Path | str, log_key: str | None = None, extra_checkpoints: list[str] | tuple = ()
) -> list[Finding]:
    return Verifier(log_key, list(extra_checkpoints)).verify(Path(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--log-key")
    ap.add_argument("--checkpoint", action="append", default=[])
    args = ap.parse_args(argv)
    extra = [Path(f).read_text("utf-8") for f in args.checkpoint]
    found = verify_bundle(args.bundle, args.log_key, extra)
    print(json.dumps([f.__dict__ for f in found], ensure_ascii=False, indent=2))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
