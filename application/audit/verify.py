"""The verifier: replays a log (a store or an audit bundle) and reports findings.

Streaming: events pass through in chunks; the verifier keeps the Merkle
frontier, the key registry and the last version per aggregate, never the log.
Per-event work (leaf hashing, JSON parsing, Ed25519) runs on worker processes,
one per core; the main process folds leaf hashes in order.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from application.audit.checks import (
    Record,
    build_registry,
    check_chunk,
    check_range,
    set_registry,
)
from application.audit.findings import Finding
from application.transparency import merkle, note

CHUNK = 2000
INLINE_BELOW = 4000


@dataclass
class Report:
    size: int = 0
    events_checked: int = 0
    checkpoints_checked: int = 0
    log_key: str | None = None
    log_key_pinned: bool = False
    root: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, position: dict, detail: str = "") -> None:
        self.findings.append(Finding(kind, position, detail))

    def as_dict(self, lang: str = "vi") -> dict:
        return {
            "ok": self.ok,
            "size": self.size,
            "events_checked": self.events_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "root": self.root,
            "log_key": self.log_key,
            "log_key_pinned": self.log_key_pinned,
            "findings": [f.as_dict(lang) for f in self.findings],
            "notes": self.notes,
        }


class Source:
    """What the verifier reads; a store and a bundle each implement it."""

    def key_records(self) -> Iterable[Record]:  # genesis and key events, in log order
        raise NotImplementedError

    def records(self) -> Iterable[Record]:  # every leaf, in log order
        raise NotImplementedError

    def checkpoints(self) -> list[str]:  # signed checkpoint notes
        raise NotImplementedError

    def consistency_proofs(self) -> dict[tuple[int, int], list[bytes]]:
        return {}

    def extra_findings(self) -> list[Finding]:  # e.g. events outside the log
        return []

    def range_spec(self) -> tuple[tuple[str, str, str], int] | None:
        """(SQLite file, leaves table, events table), leaf bound: when workers can
        read the leaves themselves. None: records() is the only way in."""
        return None


def verify(source: Source, *, log_key: str | None = None, workers: int | None = None,
           extra_checkpoints: Iterable[str] = ()) -> Report:
    """Checks everything docs/DESIGN.md 'What verify catches' says about events,
    keys and checkpoints. `log_key` pins the log's verifier key (vkey)."""
    report = Report()
    registry, genesis, reg_findings = build_registry(source.key_records())
    for kind, pos, detail in reg_findings:
        report.add(kind, pos, detail)
    genesis_key = genesis.get("log_key") if genesis else None
    if log_key and genesis_key and log_key != genesis_key:
        report.add("bad_genesis", {"leaf_index": 0}, "log key differs from the pinned key")
    report.log_key = log_key or genesis_key
    report.log_key_pinned = bool(log_key)
    if not log_key:
        report.notes.append("log key taken from the genesis event (not pinned with --log-key)")

    checkpoints = _open_checkpoints(report, list(source.checkpoints()) + list(extra_checkpoints))
    wanted = sorted({cp.size for cp in checkpoints})
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in wanted else {}

    frontier = merkle.CompactRange()
    last_version: dict[str, int] = {}
    altered: dict[int, tuple[bytes | None, bytes]] = {}
    broken_at: int | None = None
    want = deque(w for w in wanted if w > 0)
    for out, findings in _run_checks(source, registry, workers):
        for kind, pos, detail in findings:
            if kind == "event_altered":
                continue  # decided below, where reorders are told apart
            report.add(kind, pos, detail)
        for index, fold_hash, recomputed, oid, version in out:
            report.events_checked += 1
            if index != frontier.size:
                if index > frontier.size:
                    report.add("event_missing", {"leaf_index": frontier.size},
                               f"next leaf present is {index}")
                else:
                    report.add("event_reordered", {"leaf_index": index},
                               f"leaf {index} appears after leaf {frontier.size - 1}")
                broken_at = frontier.size if broken_at is None else broken_at
                if index < frontier.size:
                    continue
                frontier = _skip_to(frontier, index)
            if fold_hash is not None and recomputed is not None and fold_hash != recomputed:
                altered[index] = (fold_hash, recomputed)
            frontier.append(fold_hash if fold_hash is not None else recomputed)
            prev = last_version.get(oid)
            if prev is not None and version != prev + 1:
                kind = "event_reordered" if version <= prev else "event_missing"
                report.add(kind, {"leaf_index": index},
                           f"aggregate {oid}: version {version} after {prev}")
            last_version[oid] = max(version, prev or 0)
            while want and want[0] == frontier.size:
                roots[want.popleft()] = frontier.root()
    report.size = frontier.size
    report.root = frontier.root().hex()
    _classify_altered(report, altered)
    _check_checkpoints(report, checkpoints, roots, broken_at, source.consistency_proofs())
    report.findings.extend(source.extra_findings())
    report.findings.sort(key=_order)
    return report


def _order(f: Finding) -> tuple:
    pos = f.position
    return (pos.get("leaf_index", pos.get("size", pos.get("size1", 1 << 62))), f.kind)


def _skip_to(frontier: merkle.CompactRange, index: int) -> merkle.CompactRange:
    # A gap: keep counting positions so later indices still line up; the
    # roots after a gap are meaningless and checkpoints past it are not compared.
    # Built in one step, not leaf by leaf: a hostile index must not make verify hang.
    return merkle.CompactRange.from_bytes(
        index.to_bytes(8, "big") + b"\x00" * 32 * index.bit_count())


def _classify_altered(report: Report, altered: dict[int, tuple[bytes | None, bytes]]) -> None:
    by_claimed = {claimed: i for i, (claimed, _r) in altered.items()}
    paired: set[int] = set()
    for i, (_claimed, recomputed) in sorted(altered.items()):
        j = by_claimed.get(recomputed)
        if j is not None and j != i and i not in paired:
            paired.update((i, j))
            report.add("event_reordered", {"leaf_index": min(i, j), "other": max(i, j)},
                       "two events exchanged places")
    for i in sorted(set(altered) - paired):
        report.add("event_altered", {"leaf_index": i})


@dataclass(frozen=True)
class _Cp:
    size: int
    root: bytes
    text: str


def _open_checkpoints(report: Report, notes: list[str]) -> list[_Cp]:
    out: list[_Cp] = []
    verifier = None
    if report.log_key:
        try:
            verifier = note.parse_verifier_key(report.log_key)
        except note.NoteError:
            report.add("bad_genesis", {"leaf_index": 0}, "log key is not a valid vkey")
    for text in notes:
        try:
            body = note.parse_checkpoint(text.split("\n\n", 1)[0] + "\n")
        except (note.NoteError, ValueError) as e:
            report.add("checkpoint_malformed", {"checkpoint": text[:60]}, str(e))
            continue
        report.checkpoints_checked += 1
        try:
            if verifier is None:
                raise note.NoteError("no log key")
            opened = note.open_note(text, [verifier])
            if not opened.verified:
                raise note.NoteError("not signed by the log key")
        except note.NoteError as e:
            report.add("checkpoint_bad_signature", {"size": body.size}, str(e))
            continue
        out.append(_Cp(body.size, body.root, text))
    return out


def _check_checkpoints(report: Report, cps: list[_Cp], roots: dict[int, bytes],
                       broken_at: int | None, proofs: dict) -> None:
    for cp in cps:
        if cp.size > report.size:
            report.add("log_truncated", {"leaf_index": report.size, "size": cp.size},
                       f"checkpoint covers {cp.size} leaves, log has {report.size}")
            continue
        if broken_at is not None and cp.size > broken_at:
            continue
        if roots.get(cp.size) != cp.root:
            report.add("checkpoint_root_mismatch", {"size": cp.size})
    ordered = sorted(cps, key=lambda c: c.size)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.size == b.size:
            if a.root != b.root:
                report.add("checkpoints_inconsistent", {"size1": a.size, "size2": b.size},
                           "same size, different roots")
            continue
        proof = proofs.get((a.size, b.size))
        if proof is None:
            continue
        try:
            merkle.verify_consistency(a.size, b.size, a.root, b.root, proof)
        except merkle.ProofError as e:
            report.add("checkpoints_inconsistent", {"size1": a.size, "size2": b.size}, str(e))


def _chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_checks(source: Source, registry: dict, workers: int | None):
    """Yields check results chunk by chunk, in order, with bounded work in flight."""
    workers = workers or os.cpu_count() or 1
    ranged = source.range_spec() if workers > 1 else None
    if ranged is not None and ranged[1] >= INLINE_BELOW:
        yield from _run_ranges(*ranged, registry, workers)
        return
    chunks = _chunks(source.records())
    first = next(chunks, None)
    if first is None:
        return
    if workers <= 1 or len(first) < CHUNK:
        set_registry(registry)
        yield check_chunk(first)
        for c in chunks:
            yield check_chunk(c)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=set_registry,
                             initargs=(registry,)) as pool:
        pending = deque([pool.submit(check_chunk, first)])
        for c in chunks:
            pending.append(pool.submit(check_chunk, c))
            if len(pending) >= workers * 3:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _run_ranges(spec: tuple[str, str, str], bound: int, registry: dict, workers: int):
    """As _run_checks, but each worker reads its own range of leaves."""
    with ProcessPoolExecutor(max_workers=workers, initializer=set_registry,
                             initargs=(registry,)) as pool:
        pending: deque = deque()
        for start in range(0, bound, CHUNK):
            pending.append(pool.submit(check_range, spec, start, min(start + CHUNK, bound)))
            if len(pending) >= workers * 3:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
