"""Audit bundles: the whole log in one file an outsider can verify offline.

JSON Lines (UTF-8; gzip when the name ends in .gz), one object per line, each
with "kind" first; docs/FORMATS.md "Audit bundle" is the contract.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from uuid import UUID

from application.audit.checks import DEPLOYMENT_PREFIXES, Record
from application.audit.evidence_check import check_evidence, evidence_refs
from application.audit.findings import Finding
from application.audit.store_health import (
    broken_tables,
    check_commands,
    check_nodes,
    check_state,
)
from application.audit.verify import Source
from application.evidence import EvidenceStore
from application.store.damage import STORE_ERRORS
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.log_store import LogStore, StoredCheckpoint

BUNDLE_KIND = "parindex-audit-bundle/v1"
# An event line, however its JSON is spaced (the exporter writes it compact).
_EVENT_LINE = re.compile(rb'\s*\{\s*"kind"\s*:\s*"event"')
KEY_PREFIXES = DEPLOYMENT_PREFIXES  # what pass 1 of verify replays


def _open(path: str | Path, mode: str) -> IO[bytes]:
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, mode + "b")  # type: ignore[return-value]
    return open(path, mode + "b")


def _line(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def export_bundle(log: LogStore, out: str | Path, *, log_key: str, origin: str) -> dict:
    """Streams the log to a bundle file; returns counts."""
    # Checkpoints are read before the head, so each was issued for a size the
    # log had reached; one larger than the head means the log lost its tail, and
    # the bundle must carry it so the verifier can say so (log_truncated).
    cps = log.checkpoints()
    size, root = log.head()
    counts = {"events": 0, "checkpoints": 0, "consistency_proofs": 0, "evidence": 0}
    with _open(out, "w") as f:
        f.write(
            _line(
                {
                    "kind": "header",
                    "format": BUNDLE_KIND,
                    "origin": origin,
                    "log_key": log_key,
                    "size": size,
                    "root": root.hex(),
                    "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        )
        for e in log.iter_events():
            if e.leaf_index >= size:
                break
            f.write(
                _line(
                    {
                        "kind": "event",
                        "leaf_index": e.leaf_index,
                        "leaf_hash": e.leaf_hash.hex(),
                        "originator_id": str(e.originator_id),
                        "version": e.originator_version,
                        "topic": e.topic,
                        "state": base64.b64encode(e.state).decode("ascii")
                        if e.state is not None
                        else None,
                    }
                )
            )
            counts["events"] += 1
        cosigned = CosignatureStore(log).lines_by_note()
        for cp in cps:
            f.write(
                _line(
                    {
                        "kind": "checkpoint",
                        "size": cp.size,
                        "issued_at": cp.issued_at,
                        # The log's signature line, then every witness's (FORMATS 6.5).
                        "note": cp.note + "".join(cosigned.get(cp.note, ())),
                    }
                )
            )
            counts["checkpoints"] += 1
        sizes = sorted({c.size for c in cps if c.size <= size})
        for m, n in zip(sizes, sizes[1:], strict=False):
            proof = log.consistency_proof(m, n)
            f.write(
                _line(
                    {
                        "kind": "consistency",
                        "size1": m,
                        "size2": n,
                        "proof": [h.hex() for h in proof],
                    }
                )
            )
            counts["consistency_proofs"] += 1
        for ev in evidence_refs(log, size):
            f.write(_line({"kind": "evidence", **ev}))
            counts["evidence"] += 1
        f.write(_line({"kind": "end", **counts}))
    return {"out": str(out), "size": size, "root": root.hex(), **counts}


def parse_event_line(obj: dict) -> Record:
    """One event line as a record; ValueError/KeyError/TypeError if it is not one
    (a hostile bundle must give findings, never a crash or a hang)."""
    state = obj.get("state")
    topic = obj.get("topic")
    index, version = obj["leaf_index"], obj["version"]
    if type(index) is not int or not 0 <= index < 2**62:
        raise ValueError("leaf_index out of range")
    if type(version) is not int or not 0 <= version < 2**63:
        raise ValueError("version out of range")
    if topic is not None and not isinstance(topic, str):
        raise TypeError("topic is not a string")
    if topic is not None:
        topic.encode("utf-8")  # UnicodeEncodeError (a ValueError) on lone surrogates
    claimed = bytes.fromhex(obj["leaf_hash"]) if obj.get("leaf_hash") else None
    if claimed is not None and len(claimed) != 32:
        raise ValueError("leaf_hash is not 32 bytes")
    return (
        index,
        claimed,
        UUID(str(obj["originator_id"])).hex,
        version,
        topic,
        base64.b64decode(state, validate=True) if state is not None else None,
    )


class BundleSource(Source):
    """Reads a bundle twice (keys first, then everything), never all at once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.header: dict = {}
        self._events_read = 0
        self._checkpoints: list[str] = []
        self._proofs: dict[tuple[int, int], list[bytes]] = {}
        self._problems: list[Finding] = []
        self._unreadable = False
        self._scan()

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        n = 0
        try:
            with _open(self.path, "r") as raw:
                for n, line in enumerate(io.BufferedReader(raw), start=1):
                    if line.strip():
                        yield n, line
        except (OSError, EOFError, zlib.error) as e:  # not gzip, or a cut-short .gz
            if not self._unreadable:
                self._unreadable = True
                self._problems.append(Finding("bundle_malformed", {"line": n + 1}, str(e)))

    def _scan(self) -> None:
        ended = False
        for n, line in self._lines():
            if _EVENT_LINE.match(line):
                continue
            try:
                obj = json.loads(line)
                kind = obj["kind"]
            except (ValueError, KeyError, TypeError):
                self._problems.append(Finding("bundle_malformed", {"line": n}))
                continue
            try:
                if kind == "header":
                    self.header = dict(obj)
                elif kind == "checkpoint":
                    if not isinstance(obj["note"], str):
                        raise TypeError("note is not a string")
                    self._checkpoints.append(obj["note"])
                elif kind == "consistency":
                    self._proofs[(int(obj["size1"]), int(obj["size2"]))] = [
                        bytes.fromhex(h) for h in obj["proof"]
                    ]
                elif kind == "end":
                    ended = True
            except (ValueError, KeyError, TypeError):
                self._problems.append(Finding("bundle_malformed", {"line": n}))
        if self.header.get("format") != BUNDLE_KIND:
            self._problems.append(Finding("bundle_malformed", {"line": 1}, "no bundle header"))
        if not ended:
            self._problems.append(
                Finding("bundle_malformed", {"line": -1}, "no end line: the bundle is cut short")
            )

    def _events(self, keys_only: bool) -> Iterator[Record]:
        for n, line in self._lines():
            if not _EVENT_LINE.match(line):
                continue
            # A quick filter on the raw bytes; a line with JSON escapes could spell
            # a key topic differently, so it is always parsed (else a revocation
            # written as "ActorKey\u002eRevoked" would vanish from the registry).
            if (
                keys_only
                and b"\\" not in line
                and not any(p.encode() in line for p in KEY_PREFIXES)
            ):
                continue
            try:
                record = parse_event_line(json.loads(line))
            except (ValueError, KeyError, TypeError):
                if not keys_only:
                    self._problems.append(Finding("bundle_malformed", {"line": n}))
                continue
            if not keys_only:
                self._events_read = max(self._events_read, record[0] + 1)
            yield record

    def key_records(self) -> Iterable[Record]:
        return (r for r in self._events(True) if r[4] and r[4].startswith(KEY_PREFIXES))

    def records(self) -> Iterable[Record]:
        return self._events(False)

    def checkpoints(self) -> list[str]:
        return self._checkpoints

    def consistency_proofs(self) -> dict[tuple[int, int], list[bytes]]:
        return self._proofs

    def extra_findings(self) -> list[Finding]:
        # The header is unsigned, but a bundle cut short (with its end line
        # rewritten) must not pass as a shorter, clean log. Gaps inside are
        # reported as missing events; this only looks at the tail.
        size = self.header.get("size")
        if isinstance(size, int) and size != self._events_read:
            self._problems.append(
                Finding(
                    "log_truncated" if size > self._events_read else "bundle_malformed",
                    {"leaf_index": self._events_read, "size": size},
                    f"header announces {size} leaves, the bundle ends at {self._events_read}",
                )
            )
        return self._problems


class StoreSource(Source):
    """Reads the event store and its log tables directly (`verify --data-dir`).

    A live store keeps growing while it is verified, so the source fixes one
    snapshot first: the checkpoints, then the leaf bound. Every read is bounded
    by it, so keys registered and used meanwhile are neither half seen nor
    reported, and a checkpoint beyond the bound means a lost tail.

    A broken store (a table dropped or emptied, rows missing, values of the
    wrong type) gives findings, never an exception: each table is probed first
    (`log_table_missing`), the leaves are read without their events when the
    events table is gone (each leaf then `event_missing`), and the tables the
    server serves from are checked in store_health."""

    def __init__(self, log: LogStore, evidence: EvidenceStore | None = None):
        self.log = log
        self.evidence = evidence
        self._snapshot: tuple[list[StoredCheckpoint], int] | None = None
        self._broken: set[str] | None = None
        self._problems: list[Finding] = []

    def _probe(self) -> set[str]:
        if self._broken is None:
            self._broken, found = broken_tables(self.log)
            self._problems.extend(found)
        return self._broken

    def _snap(self) -> tuple[list[StoredCheckpoint], int]:
        if self._snapshot is None:
            broken = self._probe()
            cps = self._guard(self.log.checkpoints, []) if "checkpoints" not in broken else []
            bound = self._guard(self.log.leaf_bound, 0) if "leaves" not in broken else 0
            self._snapshot = (cps, bound)
        return self._snapshot

    def _guard(self, read, default):
        """One read; a store error (a table that broke after the probe) is a finding."""
        try:
            return read()
        except STORE_ERRORS as e:
            self._problems.append(
                Finding(
                    "log_table_missing",
                    {"table": None},
                    str(e).splitlines()[0][:200] if str(e) else "",
                )
            )
            return default

    def _stream(self, events: Iterator) -> Iterator:
        try:
            yield from events
        except STORE_ERRORS as e:
            self._problems.append(
                Finding(
                    "log_table_missing",
                    {"table": None},
                    str(e).splitlines()[0][:200] if str(e) else "",
                )
            )

    @staticmethod
    def _record(e) -> Record:
        oid = e.originator_id
        claimed = e.leaf_hash if len(e.leaf_hash) == 32 else b"\x00" * 32  # damaged: altered
        return (
            e.leaf_index,
            claimed,
            oid.hex if isinstance(oid, UUID) else oid,
            e.originator_version,
            e.topic,
            e.state,
        )

    def key_records(self) -> Iterable[Record]:
        _, bound = self._snap()
        if self._probe() & {"leaves", "events"}:
            return iter(())
        return (
            self._record(e)
            for e in self._stream(self.log.iter_events(topic_prefixes=KEY_PREFIXES))
            if e.leaf_index < bound
        )

    def records(self) -> Iterable[Record]:
        _, bound = self._snap()
        if "leaves" in self._probe():
            return
        with_events = "events" not in self._probe()
        for e in self._stream(self.log.iter_events(with_events=with_events)):
            if e.leaf_index >= bound:
                return
            yield self._record(e)

    def checkpoints(self) -> list[str]:
        # With the cosignatures kept for each, as the bundle carries them (section 7).
        cps = self._snap()[0]
        cosigned = self._guard(CosignatureStore(self.log).lines_by_note, {}) if cps else {}
        return [c.note + "".join(cosigned.get(c.note, ())) for c in cps]

    def range_spec(self) -> tuple[tuple[str, str, str], int] | None:
        if self.log.t.dialect != "sqlite" or self._probe():
            return None  # a broken store is read in this process, where errors are caught
        bound = self._snap()[1]
        if self._guard(self.log.count_leaves, -1) != bound:
            # Gaps: workers reading fixed ranges would walk every missing index
            # (one planted at 10**12 took a day); records() skips them in one query.
            return None
        path = self.log.datastore.pool.db_name
        return (path, self.log.t.leaves, self.log.events_table), bound

    def consistency_proofs(self) -> dict[tuple[int, int], list[bytes]]:
        cps, bound = self._snap()
        if self._probe() & {"nodes", "leaves", "state"}:
            return {}
        size = min(bound, self._guard(self.log.size, 0))
        sizes = sorted({c.size for c in cps if c.size <= size})
        out = {}
        for m, n in zip(sizes, sizes[1:], strict=False):
            try:
                out[(m, n)] = self.log.consistency_proof(m, n)
            except (LookupError, ValueError):
                continue  # missing nodes are reported by check_nodes
            except STORE_ERRORS:
                break
        return out

    def extra_findings(self) -> list[Finding]:
        cps, bound = self._snap()
        broken = self._probe()
        found: list[Finding] = []
        if not broken & {"events", "leaves"}:
            found += [
                Finding("event_inserted", {"originator_id": str(oid), "version": v})
                for oid, v in self._guard(self.log.events_outside_log, [])
            ]
        if "checkpoints" not in broken and bound > 0 and not cps:
            found.append(
                Finding(
                    "checkpoint_missing",
                    {"size": bound},
                    "the log has leaves but no signed checkpoint at all",
                )
            )
        for role, check in (
            ("state", check_state),
            ("nodes", check_nodes),
            ("commands", check_commands),
        ):
            if role not in broken and "leaves" not in broken:
                found += self._guard(lambda c=check: c(self.log, bound), [])
        if self.evidence is not None and not broken & {"events", "leaves"}:
            found += self._guard(
                lambda: check_evidence(evidence_refs(self.log, bound), self.evidence), []
            )
        return self._problems + found
