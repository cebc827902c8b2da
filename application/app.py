"""The parindex application: signed commands in, events and log leaves out.

`ParIndex.handle(envelope)` is the one write path (docs/DESIGN.md, "Signed commands"):
parse -> key lookup -> signature -> idempotency -> key state -> clock skew ->
role and scope -> domain decision -> one transaction (events, log leaves,
command id). Any refusal raises before the transaction and writes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, IntegrityError
from eventsourcing.utils import get_topic

from application.commands import SignedCommand, parse_envelope
from application.config import Settings
from application.errors import CommandRejected, StoreUnavailable
from application.evidence import EvidenceStore
from application.handlers import HANDLERS, Context
from application.handlers.keys import genesis_aggregates
from application.signing.keys import actor_key_id, unb64
from application.store.snapshots import SnapshotStore
from application.transparency.log_store import LeafRow, LogStore
from application.uploads import UploadQuota
from domain.actors import Role, may
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.deployment import DEPLOYMENT_ID, Deployment
from domain.errors import DomainError
from domain.framework import Framework, from_dict
from domain.framework_record import PublishedFramework, framework_aggregate_id
from domain.keys import ActorKey, key_aggregate_id
from domain.snapshot import AggregateSnapshot
from domain.text import NAME, check_text

# Optimistic concurrency: a command that loses the race for its aggregate (another
# server or worker stored an event first) is decided again on the new state. Writers
# of one aggregate queue first (`recorder.exclusive`), so a loss is rare: it takes a
# command whose aggregate `queue_id` does not name, or a queue slot that timed out.
MAX_ATTEMPTS = 20

# An assessment's state is stored as a snapshot (a cache, docs/FORMATS.md 9.4)
# at every 20th event, in place of the one before: a server just started loads
# the snapshot and at most 19 events, not the 120 to 300 of a season. Measured
# on a season of 3,321 units (bench/season_bench.py): an assessment from its
# 122 events 2.1 ms; from a snapshot 0.5 ms plus 0.013 ms an event after it. At
# 20 (10 events after it on average) the cycle loads in about 2 s; a snapshot
# (10-25 kB) is written once every 20 events, about as many bytes as the events.
# Cycle, ranking and key aggregates have a handful of events each.
SNAPSHOT_INTERVAL = 20

log = logging.getLogger(__name__)


# Commands on a cycle as a whole (its calendar, units, close and ranking), even
# where they name one unit: they queue on the cycle's gate, exclusively.
WHOLE_CYCLE_COMMANDS = frozenset(
    {"extend_deadline", "add_units", "merge_units", "link_previous_cycle"}
)


def queue_id(signed: SignedCommand) -> UUID | None:
    """The aggregate a command changes, where its fields name it: the writers
    that queue on it are then served in turn instead of racing."""
    c = signed.command
    cycle, unit, key_id = c.get("cycle"), c.get("unit"), c.get("key_id")
    if isinstance(cycle, str) and signed.type in WHOLE_CYCLE_COMMANDS:
        return Cycle.create_id(cycle)
    if isinstance(cycle, str) and isinstance(unit, str):
        return Assessment.create_id(cycle, unit)
    if isinstance(key_id, str):
        return key_aggregate_id(key_id)
    if isinstance(cycle, str):
        return Cycle.create_id(cycle)
    return None


def gate_id(signed: SignedCommand) -> UUID | None:
    """The cycle whose gate a unit's command holds shared (recorder.exclusive)."""
    c = signed.command
    cycle, unit = c.get("cycle"), c.get("unit")
    if isinstance(cycle, str) and isinstance(unit, str) and signed.type not in WHOLE_CYCLE_COMMANDS:
        return Cycle.create_id(cycle)
    return None


def _project(aggregate: Any, events: Any) -> Any:
    """The library's `project_aggregate` without its per-event `isinstance`
    against a runtime-checkable Protocol (32 µs an event on Python 3.11: most of
    the cost of loading an assessment of 120 events from the store). Every event
    here is one of this project's own aggregate events, which has `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class _Collected(ProcessingEvent):
    """The library's event collection, minus its runtime Protocol checks for
    this project's own aggregates: on Python 3.11 each `isinstance` against a
    runtime-checkable Protocol walks the protocol's members, two per
    aggregate, which for the 3,322 aggregates of a national `open_cycle` cost
    more than writing their events. Anything else takes the library's path."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class ParIndex(Application):
    name = "parindex"
    snapshotting_intervals = {Assessment: SNAPSHOT_INTERVAL}
    snapshotting_projectors = {Assessment: _project}
    snapshot_class = AggregateSnapshot

    def __init__(self, settings: Settings, *, create_table: bool = False):
        self.settings = settings
        super().__init__(env=settings.event_store_env(create_table=create_table))
        self.recorder.configure_timeouts(
            settings.write_lock_timeout, settings.write_statement_timeout
        )
        self.tlog = LogStore(self.recorder)
        self.evidence = EvidenceStore(settings.evidence_dir, settings.max_evidence_bytes)
        self.uploads = UploadQuota(
            settings.data_dir / "uploads.sqlite", settings.max_upload_bytes_per_day
        )
        self._frameworks: dict[str, Framework] = {}
        self._write_lock = threading.RLock()
        self._touched: set[UUID] = set()

    def construct_snapshot_store(self) -> EventStore:
        """The library's snapshot store (table `stored_snapshots` on SQLite,
        `parindex_snapshots` on PostgreSQL), reading a snapshot it cannot use
        as a miss (application/store/snapshots.py)."""
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        topics = frozenset(get_topic(cls) for cls in self.snapshotting_intervals)
        return SnapshotStore(self.mapper, recorder, topics, LogStore(self.recorder))

    def take_snapshot(
        self, aggregate_id: UUID, version: int | None = None, projector_func: Any = _project
    ) -> None:
        """The library's `take_snapshot`: the aggregate rebuilt from its stored
        events up to `version` (the latest if None), stored as a snapshot that
        names the leaf hash of its last event. An event outside the log gets none."""
        aggregate = self.repository.get(
            aggregate_id, version=version, projector_func=projector_func
        )
        leaf = self.tlog.leaf_of_event(aggregate_id, aggregate.version)
        if leaf is None:
            return
        self.snapshots.put([AggregateSnapshot.take(aggregate, leaf.leaf_hash.hex())])

    # -- reads used by handlers ------------------------------------------
    def find_key(self, key_id: str, *, for_update: bool = True) -> ActorKey | None:
        return self.get(key_aggregate_id(key_id), for_update=for_update)

    def deployment(self) -> Deployment | None:
        try:
            return self.repository.get(DEPLOYMENT_ID)
        except AggregateNotFoundError:
            return None

    def framework_record(self, framework_id: str) -> PublishedFramework | None:
        return self.get(framework_aggregate_id(framework_id))

    def framework(self, framework_id: object) -> Framework | None:
        """A published framework (immutable, so cached for the process's life)."""
        if not isinstance(framework_id, str):
            return None
        cached = self._frameworks.get(framework_id)
        if cached is None:
            record = self.framework_record(framework_id)
            if record is None:
                return None
            cached = self._frameworks[framework_id] = from_dict(record.framework)
        return cached

    def assessments(self, cycle: Cycle) -> dict[str, Assessment | None]:
        """Every unit's assessment of the cycle, by unit code (read only), for
        the commands that decide on the whole cycle (handlers/ranking.py)."""
        code = cycle.cycle
        return {
            u["code"]: self.get(Assessment.create_id(code, u["code"]), for_update=False)
            for u in cycle.units
        }

    def claim(self, kind: str, cycle: str, expected: dict) -> None:
        """Only verify's first pass leaves claims (it has no units); the server
        decided on the units themselves."""
        raise AssertionError("the server reads the units; it never claims")

    def logged_change(self, index: int) -> tuple | None:
        """(aggregate id, topic) of the event at log index `index` when it is a change
        an oversight note may name (domain/oversight_note.py), else None."""
        from domain.oversight_note import notable_topic

        for logged in self.tlog.iter_events(start=index, batch=1):
            if logged.leaf_index == index and notable_topic(logged.topic):
                return logged.originator_id, logged.topic
            return None
        return None

    def position(self) -> int:
        """The newest position (notification id) in the store: what receipts carry."""
        return self.recorder.max_notification_id() or 0

    def published_frameworks(self) -> list[PublishedFramework.Published]:
        """Every framework publication, oldest first."""
        topic = "domain.framework_record:PublishedFramework.Published"
        return [
            self.mapper.to_domain_event(n)
            for n in self.recorder.select_notifications(start=None, limit=1_000_000, topics=[topic])
        ]

    def get(self, aggregate_id: UUID, *, for_update: bool = True) -> Any:
        """The cached aggregate itself, not a copy: deep-copying an assessment
        with its 119 leaves on every command cost more than the rest of the
        command. Safe because writes hold `_write_lock`, and every aggregate a
        failed command may have touched is evicted from the cache (`_evict`)."""
        try:
            aggregate = self.repository.get(
                aggregate_id, deepcopy_from_cache=False, projector_func=_project
            )
        except AggregateNotFoundError:
            return None
        if for_update:
            self._touched.add(aggregate_id)
        return aggregate

    def _evict(self) -> None:
        cache = self.repository.cache
        for aggregate_id in self._touched:
            if cache is not None:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)
        self._touched.clear()

    # -- the write path --------------------------------------------------
    def save(self, *objs: Any, **kwargs: Any) -> list:
        """The library's `Application.save` (eventsourcing 9.5), with `_Collected`."""
        processing_event = _Collected()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._snapshot(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library still calls it
        return recordings

    def _snapshot(self, processing_event: _Collected) -> None:
        """The library's snapshots at every SNAPSHOT_INTERVAL-th event, each
        rebuilt from the stored events (never from the aggregate in memory,
        which carries memo entries). The command's events are stored by now: a
        snapshot that cannot be taken is logged and skipped, never an error."""
        try:
            self._take_snapshots(processing_event)
        except Exception as e:
            log.warning("snapshot not taken: %r", e)

    def handle(self, envelope: object) -> dict:
        """Verifies, authorizes and applies one signed command; returns its receipt."""
        signed = parse_envelope(envelope)
        key = self.find_key(signed.actor, for_update=False)
        if key is None:
            raise CommandRejected(
                "unknown_key", f"'{signed.actor}'", f"'{signed.actor}'", field="actor"
            )
        if not signed.verify(unb64(key.public_key)):
            raise CommandRejected("bad_signature")
        try:
            with self._turn(), self.recorder.exclusive(queue_id(signed), gate_id(signed)):
                self._touched.clear()
                try:
                    return self._apply(signed, key)
                except BaseException:
                    self._evict()  # an unsaved change must not stay in the cache
                    raise
        except DomainError:
            # A refusal after the signature holds may only be the command's own
            # earlier success (a retry, perhaps racing its first try on another
            # server): then the answer is the first receipt, not an error. Looked
            # up only here, so the happy path pays no extra query.
            replay = self._replayed(signed)
            if replay is not None:
                return replay
            raise

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn to write: threads of one server share its cache of
        aggregates, so they write one at a time, each waiting at most the lock
        timeout (then 503 store_busy), as a writer of another process would."""
        timeout = self.settings.write_lock_timeout
        if not self._write_lock.acquire(timeout=timeout):
            raise StoreUnavailable("store_busy", timeout)
        try:
            yield
        finally:
            self._write_lock.release()

    def _apply(self, signed: SignedCommand, key: ActorKey) -> dict:
        if not key.active:
            raise CommandRejected(
                "key_revoked", f"'{key.key_id}'", f"'{key.key_id}'", field="actor"
            )
        now = datetime.now(UTC)
        if abs(now - signed.issued_at) > self.settings.clock_skew:
            raise CommandRejected(
                "timestamp_out_of_window",
                f"lệch tối đa {int(self.settings.clock_skew.total_seconds())} giây",
                f"at most {int(self.settings.clock_skew.total_seconds())} s allowed",
                field="issued_at",
            )
        spec = HANDLERS.get(signed.type)
        if spec is None:
            raise CommandRejected(
                "unknown_command", f"'{signed.type}'", f"'{signed.type}'", field="type"
            )
        for attempt in range(MAX_ATTEMPTS):
            ctx = Context(self, signed, key, now, attempt)
            target = spec.target(ctx)
            if not may(Role(key.role), key.scope_obj, signed.type, target):
                raise CommandRejected(
                    "not_permitted",
                    f"vai trò {key.role}, phạm vi {key.scope}, lệnh {signed.type}",
                    f"role {key.role}, scope {key.scope}, command {signed.type}",
                )
            aggregates = spec.decide(ctx)
            expected = signed.command.get("expected_version")
            if expected is not None:
                self._check_expected(aggregates, expected)
            try:
                self.save(*aggregates, command_id=signed.id, command_digest=signed.digest)
            except IntegrityError:
                self._evict()
                replay = self._replayed(signed)
                if replay is not None:
                    return replay
                if expected is not None or attempt == MAX_ATTEMPTS - 1:
                    raise CommandRejected("version_conflict") from None
                time.sleep(0.002 * attempt)
                continue
            return self._receipt(signed, self.recorder.last_append.leaves, replayed=False)
        raise CommandRejected("version_conflict")

    def _check_expected(self, aggregates: list, expected: object) -> None:
        if not isinstance(expected, int) or isinstance(expected, bool):
            raise CommandRejected(
                "malformed_command",
                "'expected_version' phải là số nguyên",
                "'expected_version' must be an integer",
                "expected_version",
            )
        first = aggregates[0]
        pending = len(first.pending_events) if hasattr(first, "pending_events") else 0
        if first.version - pending != expected:
            raise CommandRejected(
                "version_conflict",
                f"phiên bản hiện tại {first.version - pending}, lệnh mong đợi {expected}",
                f"current version {first.version - pending}, command expected {expected}",
            )

    def _replayed(self, signed: SignedCommand) -> dict | None:
        found = self.tlog.command(signed.id)
        if found is None:
            return None
        digest, leaves = found
        if digest != signed.digest:
            raise CommandRejected(
                "idempotency_conflict", f"'{signed.id}'", f"'{signed.id}'", field="id"
            )
        return self._receipt(signed, leaves, replayed=True)

    def _receipt(self, signed: SignedCommand, leaves: list, *, replayed: bool) -> dict:
        return {
            "command_id": signed.id,
            "type": signed.type,
            "replayed": replayed,
            "log_index": leaves[0].leaf_index,
            "tree_size": leaves[-1].leaf_index + 1,
            "position": max((x.notification_id or 0) for x in leaves),
            "events": [
                {
                    "originator_id": str(x.originator_id),
                    "version": x.originator_version,
                    "leaf_index": x.leaf_index,
                    "leaf_hash": x.leaf_hash.hex(),
                }
                for x in leaves
            ],
        }

    # -- genesis -----------------------------------------------------------
    def initialise(self, envelope: dict, log_vkey: str) -> dict:
        """Writes the genesis: the deployment and its first admin key, self-signed.

        Accepted only on an empty log; the command must be `init_deployment`
        signed by the key it registers.
        """
        signed = parse_envelope(envelope)
        c = signed.command
        if signed.type != "init_deployment" or self.tlog.size() != 0:
            raise DomainError(
                "already_initialised",
                "Triển khai này đã được khởi tạo.",
                "This deployment is already initialised.",
                status=409,
            )
        if not signed.verify(unb64(c["public_key"])):
            raise CommandRejected("bad_signature")
        if (
            signed.actor != actor_key_id(unb64(c["public_key"]))
            or c.get("origin") != self.settings.origin
        ):
            raise CommandRejected(
                "malformed_command",
                "mã khóa hoặc nguồn nhật ký không khớp",
                "actor key id or log origin mismatch",
                "actor",
            )
        if c.get("log_key") != log_vkey:
            raise CommandRejected(
                "malformed_command", "khóa nhật ký không khớp", "log key mismatch", "log_key"
            )
        check_text(c.get("display_name"), "display_name", NAME)
        skew = c.get("clock_skew_seconds")
        if skew is not None and (type(skew) is not int or skew < 1):
            raise CommandRejected(
                "malformed_command",
                "'clock_skew_seconds' phải là số nguyên dương",
                "'clock_skew_seconds' must be a positive integer",
                "clock_skew_seconds",
            )
        self.save(*genesis_aggregates(signed), command_id=signed.id, command_digest=signed.digest)
        return self._receipt(signed, self.recorder.last_append.leaves, replayed=False)


def leaf_dict(row: LeafRow) -> dict:
    return {
        "leaf_index": row.leaf_index,
        "originator_id": str(row.originator_id),
        "version": row.originator_version,
        "leaf_hash": row.leaf_hash.hex(),
    }
