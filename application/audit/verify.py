"""The verifier: replays a log (a store or an audit bundle) and reports findings.

Every event must be what its signed command yields when replayed by the
server's own handlers on the state the earlier commands made (replay.py).
Pass 1 replays the deployment-wide commands (keys, frameworks, cycles) in one
streamed pass; pass 2 streams every leaf through one worker process per core,
each owning a share of the assessments (shard.py), and the main process folds
leaf hashes in order and checks command runs and times. Memory holds the
Merkle frontier, the deployment-wide state, each assessment's current state
and a bounded window of command ids, never the log.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from application.audit.checks import Record
from application.audit.command_window import CommandWindow
from application.audit.deployment_pass import View, deployment_pass
from application.audit.findings import Finding
from application.audit.replay import COMMIT_GRACE
from application.audit.shard import Shard, owner, read_range
from application.audit.witness_check import WitnessedCheckpoint as _Cp
from application.audit.witness_check import check_witnesses
from application.transparency import merkle, note
from application.transparency.cosignature import CosignatureVerifier

CHUNK = 2000
INLINE_BELOW = 4000
IN_FLIGHT = 3  # chunks queued per worker ahead of the main process


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
    witnesses: dict | None = None  # with --witness: the cosignatures counted (witness_check)

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
        } | ({"witnesses": self.witnesses} if self.witnesses is not None else {})


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


def verify(
    source: Source,
    *,
    log_key: str | None = None,
    workers: int | None = None,
    extra_checkpoints: Iterable[str] = (),
    witnesses: Sequence[CosignatureVerifier] = (),
    min_witnesses: int = 0,
) -> Report:
    """Replays the log (docs/FORMATS.md section 8) and reports every finding.
    `log_key` pins the log's verifier key (vkey); `witnesses` (their keys) and
    `min_witnesses` add the witness checks of witness_check.py."""
    report = Report()
    view, dep_findings = deployment_pass(source.key_records())
    for kind, pos, detail in dep_findings:
        report.add(kind, pos, detail)
    genesis_key = view.genesis.get("log_key") if view.genesis else None
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
    runs = Runs(report, view.skew)
    try:
        for out, findings in _run_checks(source, view, workers):
            for kind, pos, detail in findings:
                if kind == "event_altered":
                    continue  # decided below, where reorders are told apart
                report.add(kind, pos, detail)
            runs.start(out)
            for index, fold_hash, recomputed, oid, version, ident, ts, dep in out:
                report.events_checked += 1
                if index != frontier.size:
                    if index > frontier.size:
                        report.add(
                            "event_missing",
                            {"leaf_index": frontier.size},
                            f"next leaf present is {index}",
                        )
                    else:
                        report.add(
                            "event_reordered",
                            {"leaf_index": index},
                            f"leaf {index} appears after leaf {frontier.size - 1}",
                        )
                    broken_at = frontier.size if broken_at is None else broken_at
                    if index < frontier.size:
                        continue
                    frontier = _skip_to(frontier, index)
                if fold_hash is not None and recomputed is not None and fold_hash != recomputed:
                    altered[index] = (fold_hash, recomputed)
                frontier.append(fold_hash if fold_hash is not None else recomputed)
                prev = last_version.get(oid)
                if (prev is not None and version != prev + 1) or (prev is None and version != 1):
                    kind = (
                        "event_reordered"
                        if prev is not None and version <= prev
                        else "event_missing"
                    )
                    report.add(
                        kind,
                        {"leaf_index": index},
                        f"aggregate {oid}: version {version} after {prev or 0}",
                    )
                last_version[oid] = max(version, prev or 0)
                runs.add(index, ident, ts, dep)
                while want and want[0] == frontier.size:
                    roots[want.popleft()] = frontier.root()
            runs.end()
    finally:
        runs.window.close()
    report.size = frontier.size
    report.root = frontier.root().hex()
    _classify_altered(report, altered)
    _check_checkpoints(report, checkpoints, roots, broken_at, source.consistency_proofs())
    if witnesses or min_witnesses:
        report.witnesses = check_witnesses(
            report, checkpoints, roots, broken_at, witnesses, min_witnesses
        )
    report.findings.extend(source.extra_findings())
    report.findings = _dedupe(report.findings)
    report.findings.sort(key=_order)
    return report


class Runs:
    """Command runs in leaf order: each command id in one run of consecutive
    leaves only, a unit command's run one leaf long, and no event stamped
    earlier than the log's time so far allows (docs/FORMATS.md 8.2 step 6).

    The ids still to remember (2 x (skew + grace) of log time) live in a
    `CommandWindow`, on disk, so memory stays flat however fast the commands
    came. Fed a chunk at a time: `start` before its rows, `end` after."""

    def __init__(self, report: Report, skew: timedelta):
        self.report = report
        self.grace = COMMIT_GRACE.total_seconds()
        self.window = CommandWindow((2 * (skew + COMMIT_GRACE)).total_seconds())
        self.high: float | None = None
        self.prev: tuple | None = None  # (index, ident, dep)

    def start(self, rows: list[tuple]) -> None:
        self.window.prefetch([row[5][0] for row in rows if row[5] is not None])

    def end(self) -> None:
        self.window.flush(self.high)

    def add(self, index: int, ident: tuple | None, ts: float | None, dep: bool) -> None:
        prev, self.prev = self.prev, (index, ident, dep)
        if ident is not None:
            # A unit command yields one event, so its run is one leaf long; only a
            # deployment-wide command's run continues (pass 1 checks its length).
            if prev is not None and prev[1] == ident and prev[0] == index - 1 and (dep or prev[2]):
                pass
            else:
                earlier = self.window.earlier(ident[0], self.high)
                if earlier is not None:
                    self.report.add(
                        "command_replayed",
                        {"leaf_index": index},
                        f"command '{ident[0]}' already at leaf {earlier}",
                    )
                else:
                    stamp = ts if ts is not None else self.high or 0.0
                    self.window.remember(ident[0], index, stamp)
        if ts is None:
            return
        if self.high is not None and ts < self.high - self.grace:
            self.report.add(
                "timestamp_out_of_window",
                {"leaf_index": index},
                "earlier than the log's time allows",
            )
        self.high = ts if self.high is None else max(self.high, ts)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set = set()
    out = []
    for f in findings:
        key = (f.kind, tuple(sorted(f.position.items())))
        if f.kind == "timestamp_out_of_window" and key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def _order(f: Finding) -> tuple:
    pos = f.position
    return (pos.get("leaf_index", pos.get("size", pos.get("size1", 1 << 62))), f.kind)


def _skip_to(frontier: merkle.CompactRange, index: int) -> merkle.CompactRange:
    # A gap: keep counting positions so later indices still line up; the
    # roots after a gap are meaningless and checkpoints past it are not compared.
    # Built in one step, not leaf by leaf: a hostile index must not make verify hang.
    return merkle.CompactRange.from_bytes(
        index.to_bytes(8, "big") + b"\x00" * 32 * index.bit_count()
    )


def _classify_altered(report: Report, altered: dict[int, tuple[bytes | None, bytes]]) -> None:
    by_claimed = {claimed: i for i, (claimed, _r) in altered.items()}
    paired: set[int] = set()
    for i, (_claimed, recomputed) in sorted(altered.items()):
        j = by_claimed.get(recomputed)
        if j is not None and j != i and i not in paired:
            paired.update((i, j))
            report.add(
                "event_reordered",
                {"leaf_index": min(i, j), "other": max(i, j)},
                "two events exchanged places",
            )
    for i in sorted(set(altered) - paired):
        report.add("event_altered", {"leaf_index": i})


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


def _check_checkpoints(
    report: Report, cps: list[_Cp], roots: dict[int, bytes], broken_at: int | None, proofs: dict
) -> None:
    for cp in cps:
        if cp.size > report.size:
            report.add(
                "log_truncated",
                {"leaf_index": report.size, "size": cp.size},
                f"checkpoint covers {cp.size} leaves, log has {report.size}",
            )
            continue
        if broken_at is not None and cp.size > broken_at:
            continue
        if roots.get(cp.size) != cp.root:
            report.add("checkpoint_root_mismatch", {"size": cp.size})
    ordered = sorted(cps, key=lambda c: c.size)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.size == b.size:
            if a.root != b.root:
                report.add(
                    "checkpoints_inconsistent",
                    {"size1": a.size, "size2": b.size},
                    "same size, different roots",
                )
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


def _run_checks(source: Source, view: View, workers: int | None):
    """Yields pass-2 results chunk by chunk, in leaf order. Inline for one
    worker or a small log; else one process per worker, each owning the
    aggregates that hash to it (shard.owner) and seeing every chunk in order."""
    workers = workers or os.cpu_count() or 1
    ranged = source.range_spec() if workers > 1 else None
    if ranged is not None and ranged[1] >= INLINE_BELOW:
        spec, bound = ranged
        tasks: Iterator = (
            ("range", spec, s, min(s + CHUNK, bound)) for s in range(0, bound, CHUNK)
        )
        yield from _parallel(view, workers, tasks)
        return
    chunks = _chunks(source.records())
    first = next(chunks, None)
    if first is None:
        return
    if workers <= 1 or len(first) < CHUNK:
        shard = Shard(view)
        yield shard.run(first)
        for c in chunks:
            yield shard.run(c)
        yield shard.finish()
        return

    def split() -> Iterator:
        for chunk in itertools.chain([first], chunks):
            parts: list[list] = [[] for _ in range(workers)]
            for r in chunk:
                parts[owner(r[2], workers)].append(r)
            yield ("records", parts)

    yield from _parallel(view, workers, split())


def _worker(view: View, me: int, workers: int, tasks, results, parent: int) -> None:
    shard = Shard(view, me, workers)
    while True:
        try:
            task = tasks.get(timeout=2)
        except queue.Empty:
            if os.getppid() != parent:  # the verify that started us was killed
                return
            continue
        if task is None:
            return
        if task[0] == "finish":
            results.put(shard.finish())
            continue
        if task[0] == "range":
            records = read_range(task[1], task[2], task[3])
        else:
            records = task[1]
        results.put(shard.run(records))


def _parallel(view: View, workers: int, tasks: Iterator):
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    # Queues, not bare pipes: their feeder threads never block a put, so a worker
    # sending a large result and the main process sending the next chunk cannot
    # wait on each other. At most IN_FLIGHT chunks are queued per worker.
    queues, procs = [], []
    for me in range(workers):
        tasks_q, results_q = ctx.Queue(), ctx.Queue()
        proc = ctx.Process(
            target=_worker,
            args=(view, me, workers, tasks_q, results_q, os.getpid()),
            daemon=True,
        )
        proc.start()
        queues.append((tasks_q, results_q))
        procs.append(proc)
    try:
        in_flight = 0
        for task in tasks:
            for me, (tasks_q, _r) in enumerate(queues):
                tasks_q.put(task if task[0] == "range" else ("records", task[1][me]))
            in_flight += 1
            if in_flight >= IN_FLIGHT:
                yield _gather(queues, procs)
                in_flight -= 1
        while in_flight:
            yield _gather(queues, procs)
            in_flight -= 1
        for tasks_q, _r in queues:
            tasks_q.put(("finish",))
        yield _gather(queues, procs)
    finally:
        for tasks_q, _r in queues:
            with contextlib.suppress(OSError, ValueError):
                tasks_q.put(None)
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


def _gather(queues: list, procs: list) -> tuple[list, list]:
    out: list = []
    findings: list = []
    for (_t, results_q), proc in zip(queues, procs, strict=True):
        while True:
            try:
                o, f = results_q.get(timeout=5)
                break
            except queue.Empty:
                if not proc.is_alive():
                    raise RuntimeError("a verify worker stopped") from None
        out.extend(o)
        findings.extend(f)
    out.sort(key=lambda row: row[0])
    return out, findings
