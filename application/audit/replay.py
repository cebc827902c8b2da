"""Replay: an event is valid only if it is exactly what its signed command yields.

The verifier applies each signed command with the server's own handlers
(application/handlers) to a world rebuilt from the commands before it, and
compares what they yield with what the log holds. No database: `World` answers
the few questions handlers ask (`get`, `find_key`, `framework`, ...) from
aggregates kept in memory. docs/FORMATS.md section 8 is the contract.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.commands import SignedCommand, parse_timestamp
from application.errors import CommandRejected
from application.handlers import HANDLERS, Context
from application.handlers.keys import genesis_aggregates
from application.signing.jcs import COMMAND_CONTEXT, canonicalize_command
from application.signing.keys import actor_key_id
from domain.actors import Role, Scope, may
from domain.errors import DomainError
from domain.framework import from_dict

GENESIS_TOPIC = "domain.deployment:Deployment.Initialised"
# Events of deployment-wide aggregates, replayed first, in one streamed pass.
DEPLOYMENT_PREFIXES = (
    "domain.deployment:Deployment.",
    "domain.keys:ActorKey.",
    "domain.framework_record:PublishedFramework.",
    "domain.cycle:Cycle.",
    "domain.ranking:Ranking.",
    "domain.past_results:PastCycle.",
    "domain.assessment:Assessment.Opened",
)
DEPLOYMENT_COMMANDS = frozenset(
    {
        "init_deployment",
        "register_key",
        "rotate_key",
        "revoke_key",
        "publish_framework",
        "open_cycle",
        "extend_deadline",
        "add_units",
        "merge_units",
        "link_previous_cycle",
        "import_past_results",
        "propose_ranking",
        "approve_ranking",
        "publish_ranking",
    }
)


def first_aggregate(signed: SignedCommand) -> UUID | None:
    """The aggregate the first event of a cycle-wide command is on, computed from
    the command's fields (docs/FORMATS.md 4.3), or None where the handler names it."""
    from domain.cycle import cycle_aggregate_id
    from domain.past_results import past_cycle_id
    from domain.ranking import ranking_aggregate_id

    cycle = signed.command.get("cycle")
    if not isinstance(cycle, str):
        return None
    if signed.type in (
        "open_cycle",
        "extend_deadline",
        "add_units",
        "merge_units",
        "link_previous_cycle",
    ):
        return cycle_aggregate_id(cycle)
    if signed.type == "import_past_results":
        return past_cycle_id(cycle)
    if signed.type in ("propose_ranking", "approve_ranking", "publish_ranking") or (
        signed.type == "close_appraisal" and "unit" not in signed.command
    ):
        return ranking_aggregate_id(cycle)
    return None


def is_deployment_command(signed: SignedCommand) -> bool:
    """Commands on deployment-wide aggregates (pass 1): keys, frameworks, cycles,
    rankings. `close_appraisal` is one when it names no unit (the whole cycle)."""
    if signed.type == "close_appraisal":
        return "unit" not in signed.command
    return signed.type in DEPLOYMENT_COMMANDS


DEFAULT_SKEW = timedelta(seconds=600)
# How long after its skew check a server may still stamp a command's events
# (retries, lock waits). Writes that take longer are refused by the store's
# statement timeout, so no honest event is later than issued_at + skew + this.
COMMIT_GRACE = timedelta(seconds=60)
_IGNORED = ("originator_id", "originator_version", "timestamp")

Finding = tuple[str, dict, str]


def is_deployment_topic(topic: str | None) -> bool:
    return bool(topic) and topic.startswith(DEPLOYMENT_PREFIXES)  # type: ignore[union-attr]


@dataclass
class Stored:
    """One leaf's event, parsed: what replay compares against."""

    index: int
    oid: str  # 32 hex digits
    version: int
    topic: str
    body: dict
    ts: datetime | None
    # Values derived from `body` once for identity() and open_command(), each
    # kept as (True, value) or (False, the exception its computation raised).
    memo: dict[str, tuple[bool, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pos(self) -> dict:
        return {"leaf_index": self.index}

    def once(self, name: str, compute: Callable[[], Any]) -> Any:
        """compute() the first time, its value (or its exception, raised again) after."""
        done = self.memo.get(name)
        if done is None:
            try:
                done = (True, compute())
            except Exception as e:  # kept to be raised again where it was raised first
                done = (False, e)
            self.memo[name] = done
        if done[0]:
            return done[1]
        raise done[1]

    def signed_command(self, text: Any) -> Any:
        """json.loads of `signed.command` (`text`, taken from this body), parsed once."""
        return self.once("command", lambda: json.loads(text))

    def signed_bytes(self, text: str) -> bytes:
        """The UTF-8 of `signed.command` (`text`, taken from this body), encoded once:
        the bytes its signature covers and its digest hashes."""
        return self.once("signed_bytes", lambda: text.encode("utf-8"))

    def signed_signature(self, sig64: Any) -> bytes:
        """The base64 `signed.signature` (`sig64`, taken from this body), decoded once."""
        return self.once("signature", lambda: base64.b64decode(sig64, validate=True))


def parse_stored(index: int, oid: str, version: int, topic: str, state: bytes) -> Stored | Finding:
    try:
        # Strictly UTF-8 as stored (docs/FORMATS.md 4.2): json.loads would also
        # take UTF-16 or a byte-order mark, which the server's reader refuses.
        body = json.loads(state.decode("utf-8"))
        if not isinstance(body, dict):
            raise ValueError("state is not an object")
    except (ValueError, UnicodeDecodeError) as e:
        return ("event_unreadable", {"leaf_index": index}, f"{topic}: {e}")
    return Stored(index, oid, version, topic, body, event_time(body.get("timestamp")))


def event_time(value: object) -> datetime | None:
    if not (
        isinstance(value, dict)
        and value.get("_type_") == "datetime_iso"
        and isinstance(value.get("_data_"), str)
    ):
        return None
    try:
        ts = datetime.fromisoformat(value["_data_"])
    except ValueError:
        return None
    # UTC only (4.2): another offset is the same instant, but not the date shown.
    return ts if ts.utcoffset() == timedelta(0) else None


def identity(stored: Stored) -> tuple[str, str] | None:
    """(command id, digest) of the command an event belongs to, from its `signed`
    copy or its `command` reference; None if it has neither in a usable form."""
    return stored.once("identity", lambda: _identity(stored))


def _identity(stored: Stored) -> tuple[str, str] | None:
    body = stored.body
    signed = body.get("signed")
    if isinstance(signed, dict):
        try:
            text = signed["command"]
            sig = stored.signed_signature(signed["signature"])
            cid = stored.signed_command(text)["id"]
            digest = hashlib.sha256(stored.signed_bytes(text) + b"\n" + sig).hexdigest()
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
            return None
        return (cid, digest) if isinstance(cid, str) else None
    ref = body.get("command")
    if (
        isinstance(ref, dict)
        and isinstance(ref.get("id"), str)
        and isinstance(ref.get("digest"), str)
    ):
        return ref["id"], ref["digest"]
    return None


def same(a: Any, b: Any) -> bool:
    """JSON equality with types kept apart: 1 is not true, 1 is not "1"."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return False
        for k, x in a.items():
            y = b[k]
            # Members that are neither objects nor arrays are settled here, without
            # a call: the same test as below (types equal, then ==).
            if type(x) is not type(y):
                return False
            if isinstance(x, dict | list):
                if not same(x, y):
                    return False
            elif not x == y:
                return False
        return True
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def differing_member(derived: dict, stored: dict, ignored: tuple[str, ...] = ()) -> str | None:
    """The first state member (derived order, then stored extras) that differs.
    Members of `derived` named in `ignored` are left out on both sides (as if
    `derived` did not hold them)."""
    count = 0
    for name, value in derived.items():
        if name in ignored:
            continue
        if name not in stored or not same(value, stored[name]):
            return name
        count += 1
    # Every member counted is in `stored`: it holds more only if it has extras
    # (a stored timestamp not compared here is not one).
    uncounted_ts = "timestamp" in stored and ("timestamp" in ignored or "timestamp" not in derived)
    if len(stored) - uncounted_ts == count:
        return None
    for name in stored:
        if (name not in derived or name in ignored) and name != "timestamp":
            return name
    return None


# -- keys by log position --------------------------------------------------------------
@dataclass
class KeyState:
    """A key as replay made it: role and scope from the command that registered it
    (a rotation's successor inherits the old key's), never from the stored event."""

    key_id: str
    public_key: bytes
    role: str
    scope: str
    registered: int  # first leaf of the registering command
    stopped: int | None = None  # last leaf of the command that revoked or rotated it

    def valid_at(self, index: int) -> bool:
        return self.registered <= index and (self.stopped is None or index <= self.stopped)


_pub_cache: dict[bytes, Ed25519PublicKey] = {}


def signature_ok(public_key: bytes, signed_bytes: bytes, signature: bytes) -> bool:
    """The Ed25519 check over the context line and `signed_bytes`, the UTF-8 of
    `signed.command` exactly as stored."""
    key = _pub_cache.get(public_key)
    try:
        if key is None:
            key = _pub_cache[public_key] = Ed25519PublicKey.from_public_bytes(public_key)
        key.verify(signature, COMMAND_CONTEXT + signed_bytes)
    except (InvalidSignature, ValueError):
        return False
    return True


# json.dumps(command, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
# without building an encoder for every call.
_SORTED_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical(command: dict, text: str) -> bool:
    # The C encoder gives JCS for the commands we accept (no floats); rfc8785
    # decides only when they differ (keys outside the BMP sort differently).
    fast = _SORTED_COMPACT(command)
    if fast == text:
        return True
    try:
        return canonicalize_command(command) == text.encode("utf-8")
    except (ValueError, TypeError):
        return False


@dataclass
class Opened:
    """A command taken from the first event of its run, signature not yet checked."""

    signed: SignedCommand
    text: str
    key_id: str


def open_command(first: Stored) -> Opened | Finding:
    signed = first.body.get("signed")
    if not isinstance(signed, dict):
        if identity(first) is not None:
            return (
                "event_not_derived",
                first.pos,
                "refers to a command whose signed copy does not start its run",
            )
        return ("unsigned_event", first.pos, first.topic)
    try:
        text, sig64, key_id = signed["command"], signed["signature"], signed["key_id"]
        command = first.signed_command(text)
        signature = first.signed_signature(sig64)
        if not (
            isinstance(command, dict)
            and isinstance(key_id, str)
            and len(signature) == 64
            and isinstance(command.get("type"), str)
            and isinstance(command.get("id"), str)
        ):
            raise ValueError("not a command")
        issued_at = parse_timestamp(command.get("issued_at"))
    except (ValueError, KeyError, TypeError, binascii.Error, CommandRejected) as e:
        return ("event_unreadable", first.pos, f"{first.topic}: signed command ({e})")
    if command.get("actor") != key_id:
        return ("command_mismatch", first.pos, "actor differs from signing key")
    if not canonical(command, text):
        return ("command_mismatch", first.pos, "signed.command is not its JCS form")
    signed_bytes = first.signed_bytes(text)
    return Opened(SignedCommand(command, signed_bytes, signature, issued_at), text, key_id)


def authorize(opened: Opened, key: KeyState | None, first: Stored) -> Finding | None:
    if key is None or key.registered > first.index:
        return ("unknown_key", first.pos, opened.key_id)
    if key.stopped is not None and key.stopped < first.index:
        return ("key_revoked", first.pos, opened.key_id)
    if not signature_ok(key.public_key, opened.signed.canonical, opened.signed.signature):
        return ("bad_signature", first.pos, opened.key_id)
    return None


def check_expected(aggregates: list, command: dict) -> None:
    """The server's expected_version rule (ParIndex._check_expected), same refusals."""
    expected = command.get("expected_version")
    if expected is None:
        return
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise CommandRejected("malformed_command")
    first = aggregates[0]
    if first.version - len(getattr(first, "pending_events", ())) != expected:
        raise CommandRejected("version_conflict")


def derived_events(aggregates: list) -> list:
    return [e for agg in aggregates for e in agg.collect_events()]


def compare(run: list[Stored], derived: list, topic_of) -> list[Finding]:
    """Every stored event of the run against what the command yields, in order."""
    out: list[Finding] = []
    for k, stored in enumerate(run):
        if k >= len(derived):
            out.append(
                (
                    "event_not_derived",
                    stored.pos,
                    f"its command yields {len(derived)} event(s); this is one more",
                )
            )
            continue
        event = derived[k]
        if event.originator_id.hex != stored.oid:
            out.append(
                ("wrong_aggregate", stored.pos, f"the command's aggregate is {event.originator_id}")
            )
            continue
        topic = topic_of(type(event))
        if topic != stored.topic:
            out.append(("event_not_derived", stored.pos, f"topic (the command yields {topic})"))
            continue
        if event.originator_version != stored.version:
            out.append(
                (
                    "event_not_derived",
                    stored.pos,
                    f"version (the command yields {event.originator_version})",
                )
            )
            continue
        name = differing_member(event.__dict__, stored.body, _IGNORED)
        if name is not None:
            out.append(("event_not_derived", stored.pos, f"field '{name}'"))
    if len(run) < len(derived):
        out.append(
            (
                "event_not_derived",
                run[-1].pos,
                f"its command yields {len(derived)} events; the log has {len(run)}",
            )
        )
    return out


def check_times(
    run: list[Stored], issued_at: datetime, skew: timedelta, last: dict[str, datetime]
) -> list[Finding]:
    """Server-stamped times: inside the command's window, never before the same
    aggregate's previous event. `last` is updated in place."""
    out: list[Finding] = []
    low, high = issued_at - skew, issued_at + skew + COMMIT_GRACE
    for s in run:
        if s.ts is None:
            out.append(("event_not_derived", s.pos, "field 'timestamp'"))
            continue
        prev = last.get(s.oid)
        if not low <= s.ts <= high:
            out.append(
                (
                    "timestamp_out_of_window",
                    s.pos,
                    f"{s.ts.isoformat()} outside issued_at {issued_at.isoformat()} "
                    f"- {int(skew.total_seconds())} s / + "
                    f"{int((skew + COMMIT_GRACE).total_seconds())} s",
                )
            )
        elif prev is not None and s.ts < prev:
            out.append(
                (
                    "timestamp_out_of_window",
                    s.pos,
                    "before the previous event of the same aggregate",
                )
            )
        last[s.oid] = s.ts if prev is None else max(prev, s.ts)
    return out


# -- the world handlers see --------------------------------------------------------
class World:
    """Aggregates by id, as the replayed commands made them. Stands in for the
    application in `Context.app`; `evidence` is None because blobs are not in
    the log (the attach_evidence handler then takes the signed file object as
    declared)."""

    evidence = None

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self._frameworks: dict[str, Any] = {}
        self.claims: list[tuple[str, str, dict]] = []  # left by the command being decided

    def assessments(self, cycle: Any) -> None:
        """Units are not replayed in this pass: a command that decides on every
        unit leaves a claim per unit instead (`claim`), checked by the unit's
        own replay (shard.py)."""
        return None

    def claim(self, kind: str, cycle: str, expected: dict) -> None:
        self.claims.append((kind, cycle, expected))

    def get(self, aggregate_id: UUID, *, for_update: bool = True) -> Any:
        return self.aggregates.get(aggregate_id)

    def logged_change(self, index: int) -> tuple | None:
        """No unit's change is known in pass 1 (notes are unit commands: shard.py)."""
        return None

    def find_key(self, key_id: str, *, for_update: bool = True) -> Any:
        from domain.keys import key_aggregate_id

        return self.aggregates.get(key_aggregate_id(key_id)) if isinstance(key_id, str) else None

    def framework_record(self, framework_id: str) -> Any:
        from domain.framework_record import framework_aggregate_id

        if not isinstance(framework_id, str):
            return None
        return self.aggregates.get(framework_aggregate_id(framework_id))

    def framework(self, framework_id: object) -> Any:
        if not isinstance(framework_id, str):
            return None
        cached = self._frameworks.get(framework_id)
        if cached is None:
            record = self.framework_record(framework_id)
            if record is None:
                return None
            cached = self._frameworks[framework_id] = from_dict(record.framework)
        return cached


def role_and_scope(role: Any, scope: Any) -> tuple[Role, Scope]:
    """Role(role), Scope.parse(scope) as the server reads them, parsed once per key
    (a refusal is raised again each time: lru_cache keeps values only)."""
    if isinstance(role, str) and isinstance(scope, str):
        return _role_and_scope(role, scope)
    return Role(role), Scope.parse(scope)


@lru_cache(maxsize=4096)
def _role_and_scope(role: str, scope: str) -> tuple[Role, Scope]:
    return Role(role), Scope.parse(scope)


def decide(
    world: World, opened: Opened, key: KeyState, first: Stored, deployment_scope: bool
) -> tuple[list, Finding | None]:
    """Applies the command as the server does (ParIndex._apply): handler, target,
    role and scope, domain decision, expected_version. Returns the aggregates
    with their pending events, or the finding that stops this command."""
    signed = opened.signed
    spec = HANDLERS.get(signed.type)
    if spec is None:
        return [], ("event_not_derived", first.pos, f"unknown command type '{signed.type}'")
    if is_deployment_command(signed) != deployment_scope:
        return [], (
            "event_not_derived",
            first.pos,
            f"topic (a {signed.type} command yields no {first.topic} event)",
        )
    # attempt=1: a handler looks an existing key up instead of leaning on the
    # store's unique index, which replay does not have.
    ctx = Context(world, signed, key, signed.issued_at, attempt=1)  # type: ignore[arg-type]
    world.claims.clear()
    try:
        target = spec.target(ctx)
        role, scope = role_and_scope(key.role, key.scope)
        if not may(role, scope, signed.type, target):
            return [], (
                "not_permitted",
                first.pos,
                f"role {key.role}, scope {key.scope}, command {signed.type}",
            )
        aggregates = spec.decide(ctx)
        check_expected(aggregates, signed.command)
    except DomainError as e:
        return [], ("event_not_derived", first.pos, f"the command is refused: {e.code}")
    return aggregates, None


def genesis(world: World, opened: Opened, first: Stored) -> tuple[list, list[Finding]]:
    """The init_deployment run: self-signed by the key it registers."""
    c = opened.signed.command
    try:
        public = base64.b64decode(c.get("public_key", ""), validate=True)
    except (ValueError, TypeError, binascii.Error):
        public = b""
    if len(public) != 32 or opened.key_id != actor_key_id(public):
        return [], [("bad_genesis", first.pos, "first admin key id does not match its public key")]
    if not signature_ok(public, opened.signed.canonical, opened.signed.signature):
        return [], [("bad_signature", first.pos, opened.key_id)]
    skew = c.get("clock_skew_seconds")
    if skew is not None and (type(skew) is not int or skew < 1):
        return [], [("event_not_derived", first.pos, "the command is refused: clock skew")]
    return genesis_aggregates(opened.signed), []
