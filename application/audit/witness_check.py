"""Verify with witnesses: cosignatures counted, checked, and held against the log.

Given the keys of witnesses the auditor trusts (``verify --witness VKEY``) and a
quorum (``--min-witnesses K``), each checkpoint the log's own key signed is
opened once per witness (docs/FORMATS.md 6.5). Three findings come of it
(8.3): a listed witness's line that does not verify (``witness_bad_signature``);
a checkpoint a listed witness cosigned that the log no longer extends, because
it is longer than the log or its root is not the log's at that size
(``witness_conflict``: the log was rolled back or forked after that witness saw
it); and fewer than K witnesses on the newest checkpoint the log still matches
(``witness_missing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from application.transparency import note
from application.transparency.cosignature import CosignatureVerifier, open_cosigned

__all__ = ["WitnessedCheckpoint", "check_witnesses"]


@dataclass(frozen=True)
class WitnessedCheckpoint:
    size: int
    root: bytes
    text: str


def check_witnesses(
    report,
    cps: Sequence[WitnessedCheckpoint],
    roots: dict[int, bytes],
    broken_at: int | None,
    witnesses: Sequence[CosignatureVerifier],
    minimum: int,
) -> dict:
    """Adds the witness findings to ``report``; returns the per-checkpoint summary."""
    log_key = note.parse_verifier_key(report.log_key) if report.log_key else None
    by_size: dict[int, set[str]] = {}
    matching: set[int] = set()
    for cp in cps:
        by_size.setdefault(cp.size, set())
        if cp.size <= report.size and roots.get(cp.size) == cp.root:
            matching.add(cp.size)
        if log_key is None:
            continue
        for witness in witnesses:
            try:
                opened = open_cosigned(cp.text, [log_key], [witness])
            except note.NoteError as exc:
                report.add(
                    "witness_bad_signature", {"size": cp.size, "witness": witness.name}, str(exc)
                )
                continue
            if not opened.cosignatures:
                continue
            fits = cp.size <= report.size and (broken_at is None or cp.size <= broken_at)
            if cp.size > report.size:
                report.add(
                    "witness_conflict",
                    {"size": cp.size, "witness": witness.name},
                    f"the witness cosigned {cp.size} leaves, the log has {report.size}: "
                    "rolled back after the witness saw it",
                )
            elif fits and roots.get(cp.size) != cp.root:
                report.add(
                    "witness_conflict",
                    {"size": cp.size, "witness": witness.name},
                    "the witness cosigned another root at this size: the log was forked",
                )
            elif fits:
                by_size[cp.size].add(witness.name)
    newest = max(matching, default=None)
    count = len(by_size.get(newest, ())) if newest is not None else 0
    if count < minimum:
        report.add(
            "witness_missing",
            {"size": newest if newest is not None else report.size},
            f"{count} of at least {minimum} witnesses cosigned the newest checkpoint",
        )
    return {
        "keys": [w.vkey for w in witnesses],
        "min": minimum,
        "newest": newest,
        "checkpoints": [
            {"size": size, "witnesses": sorted(names)} for size, names in sorted(by_size.items())
        ],
    }
