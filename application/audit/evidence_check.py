"""Evidence blobs against the hashes their signed events recorded."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from application.audit.findings import Finding
from application.evidence import EvidenceStore
from application.transparency.log_store import LogStore

EVIDENCE_TOPIC = "domain.assessment:Assessment.EvidenceAttached"


def evidence_refs(log: LogStore, bound: int | None = None) -> Iterator[dict]:
    """Every file an EvidenceAttached event names: sha256, size, media type, leaf."""
    for e in log.iter_events(topic_prefixes=(EVIDENCE_TOPIC,)):
        if bound is not None and e.leaf_index >= bound:
            return
        try:
            file = json.loads(e.state or b"{}").get("file")
        except ValueError:
            continue  # an unreadable event is reported by the event checks
        if isinstance(file, dict) and isinstance(file.get("sha256"), str):
            yield {
                "sha256": file["sha256"],
                "size": file.get("size"),
                "media_type": file.get("media_type"),
                "leaf_index": e.leaf_index,
            }


def check_evidence(refs: Iterable[dict], store: EvidenceStore) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for ref in refs:
        if ref["sha256"] in seen:
            continue
        seen.add(ref["sha256"])
        size = ref.get("size") if isinstance(ref.get("size"), int) else None
        kind = store.check(ref["sha256"], size)
        if kind:
            findings.append(
                Finding(kind, {"leaf_index": ref.get("leaf_index"), "sha256": ref["sha256"]})
            )
    return findings
