"""A document as the log stands now, with the signed checkpoint that covers it.

The latest checkpoint is taken (one is signed first if the log has grown), and
the figures are computed from the events of the leaves below its size, so the
checkpoint covers everything the document shows; its note carries the
witnesses' cosignatures kept for it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from application.documents.model import Document, Proof
from application.documents.recompute import StoreLog, recompute
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.proofs import covering_checkpoint


def make(app, kind: str, cycle: str, subject: str) -> Document:
    cp = covering_checkpoint(app)
    doc = recompute(StoreLog(app, cp.size), kind, cycle, subject)
    doc.proof = Proof(
        kind=kind,
        cycle=cycle,
        subject=subject,
        origin=app.settings.origin,
        size=cp.size,
        root=base64.b64encode(cp.root).decode("ascii"),
        note=CosignatureStore(app.tlog).cosigned_note(cp),
        made_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return doc
