"""Audit bundles: the whole log in one file an outsider can verify offline.

JSON Lines (UTF-8; gzip when the name ends in .gz), one object per line, each
with "kind" first; docs/FORMATS.md "Audit bundle" is the contract.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from application.audit.checks import GENESIS_TOPICS, KEY_TOPIC_PREFIX, Record
from application.audit.findings import Finding
from application.audit.verify import Source
from application.transparency.log_store import LogStore

BUNDLE_KIND = "parindex-audit-bundle/v1"
KEY_PREFIXES = (KEY_TOPIC_PREFIX, *GENESIS_TOPICS)


def _open(path: str | Path, mode: str) -> IO[bytes]:
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, mode + "b")  # type: ignore[return-value]
    return open(path, mode + "b")


def _line(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def export_bundle(log: LogStore, out: str | Path, *, log_key: str, origin: str,
                  evidence: Iterable[dict] = ()) -> dict:
    """Streams the log to a bundle file; returns counts."""
    size, root = log.head()
    cps = [c for c in log.checkpoints() if c.size <= size]
    counts = {"events": 0, "checkpoints": 0, "consistency_proofs": 0, "evidence": 0}
    with _open(out, "w") as f:
        f.write(_line({"kind": "header", "format": BUNDLE_KIND, "origin": origin,
                       "log_key": log_key, "size": size, "root": root.hex(),
                       "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}))
        for e in log.iter_events():
            if e.leaf_index >= size:
                break
            f.write(_line({
                "kind": "event", "leaf_index": e.leaf_index, "leaf_hash": e.leaf_hash.hex(),
                "originator_id": str(e.originator_id), "version": e.originator_version,
                "topic": e.topic,
                "state": base64.b64encode(e.state).decode("ascii") if e.state is not None
                else None,
            }))
            counts["events"] += 1
        for cp in cps:
            f.write(_line({"kind": "checkpoint", "size": cp.size, "issued_at": cp.issued_at,
                           "note": cp.note}))
            counts["checkpoints"] += 1
        sizes = sorted({c.size for c in cps})
        for m, n in zip(sizes, sizes[1:], strict=False):
            proof = log.consistency_proof(m, n)
            f.write(_line({"kind": "consistency", "size1": m, "size2": n,
                           "proof": [h.hex() for h in proof]}))
            counts["consistency_proofs"] += 1
        for ev in evidence:
            f.write(_line({"kind": "evidence", **ev}))
            counts["evidence"] += 1
        f.write(_line({"kind": "end", **counts}))
    return {"out": str(out), "size": size, "root": root.hex(), **counts}


def parse_event_line(obj: dict) -> Record:
    state = obj.get("state")
    return (
        int(obj["leaf_index"]),
        bytes.fromhex(obj["leaf_hash"]) if obj.get("leaf_hash") else None,
        str(obj["originator_id"]).replace("-", ""),
        int(obj["version"]),
        obj.get("topic"),
        base64.b64decode(state) if state is not None else None,
    )


class BundleSource(Source):
    """Reads a bundle twice (keys first, then everything), never all at once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.header: dict = {}
        self._checkpoints: list[str] = []
        self._proofs: dict[tuple[int, int], list[bytes]] = {}
        self._problems: list[Finding] = []
        self._scan()

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        with _open(self.path, "r") as raw:
            for n, line in enumerate(io.BufferedReader(raw), start=1):
                if line.strip():
                    yield n, line

    def _scan(self) -> None:
        ended = False
        for n, line in self._lines():
            if line.startswith(b'{"kind":"event"'):
                continue
            try:
                obj = json.loads(line)
                kind = obj["kind"]
            except (ValueError, KeyError, TypeError):
                self._problems.append(Finding("bundle_malformed", {"line": n}))
                continue
            if kind == "header":
                self.header = obj
            elif kind == "checkpoint":
                self._checkpoints.append(obj["note"])
            elif kind == "consistency":
                self._proofs[(int(obj["size1"]), int(obj["size2"]))] = [
                    bytes.fromhex(h) for h in obj["proof"]]
            elif kind == "end":
                ended = True
        if self.header.get("format") != BUNDLE_KIND:
            self._problems.append(Finding("bundle_malformed", {"line": 1}, "no bundle header"))
        if not ended:
            self._problems.append(Finding("bundle_malformed", {"line": -1},
                                          "no end line: the bundle is cut short"))

    def _events(self, keys_only: bool) -> Iterator[Record]:
        for n, line in self._lines():
            if not line.startswith(b'{"kind":"event"'):
                continue
            if keys_only and not any(p.encode() in line for p in KEY_PREFIXES):
                continue
            try:
                yield parse_event_line(json.loads(line))
            except (ValueError, KeyError, TypeError):
                if not keys_only:
                    self._problems.append(Finding("bundle_malformed", {"line": n}))

    def key_records(self) -> Iterable[Record]:
        return [r for r in self._events(True) if r[4] and r[4].startswith(KEY_PREFIXES)]

    def records(self) -> Iterable[Record]:
        return self._events(False)

    def checkpoints(self) -> list[str]:
        return self._checkpoints

    def consistency_proofs(self) -> dict[tuple[int, int], list[bytes]]:
        return self._proofs

    def extra_findings(self) -> list[Finding]:
        return self._problems


class StoreSource(Source):
    """Reads the event store and its log tables directly (`verify --data-dir`)."""

    def __init__(self, log: LogStore):
        self.log = log

    @staticmethod
    def _record(e) -> Record:
        return (e.leaf_index, e.leaf_hash, e.originator_id.hex, e.originator_version, e.topic,
                e.state)

    def key_records(self) -> Iterable[Record]:
        return [self._record(e) for e in self.log.iter_events(topic_prefixes=KEY_PREFIXES)]

    def records(self) -> Iterable[Record]:
        return (self._record(e) for e in self.log.iter_events())

    def checkpoints(self) -> list[str]:
        return [c.note for c in self.log.checkpoints()]

    def consistency_proofs(self) -> dict[tuple[int, int], list[bytes]]:
        size = self.log.size()
        sizes = sorted({c.size for c in self.log.checkpoints() if c.size <= size})
        out = {}
        for m, n in zip(sizes, sizes[1:], strict=False):
            try:
                out[(m, n)] = self.log.consistency_proof(m, n)
            except (LookupError, ValueError):
                continue
        return out

    def extra_findings(self) -> list[Finding]:
        return [Finding("event_inserted", {"originator_id": str(oid), "version": v})
                for oid, v in self.log.events_outside_log()]
