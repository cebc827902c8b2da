"""Log documents for clients: checkpoints, inclusion and consistency proofs to a
signed checkpoint (issued if none covers the leaf yet), logged event bytes.

Hashes are base64 (as in checkpoints). A client checks them itself with any
RFC 9162 verifier and the log's verifier key (docs/FORMATS.md, docs/API.md).
"""

from __future__ import annotations

import base64

from application.app import ParIndex
from application.deployment import issue_checkpoint
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.grounds import ground_leaves
from application.transparency.log_store import LogIncomplete, StoredCheckpoint
from domain.errors import DomainError


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _range(field: str, vi: str, en: str) -> DomainError:
    # No such proof (yet): 404, as for any other thing the log does not hold.
    return DomainError("proof_not_found", vi, en, field=field, status=404)


def checkpoint_doc(cp: StoredCheckpoint) -> dict:
    return {"size": cp.size, "root": _b64(cp.root), "note": cp.note, "issued_at": cp.issued_at}


def covering_checkpoint(app: ParIndex, index: int = -1) -> StoredCheckpoint:
    """The latest signed checkpoint if it covers leaf `index`, else a new one for the head.
    index -1 asks for a checkpoint of the current head."""
    cp = app.tlog.latest_checkpoint()
    if cp is None or cp.size <= index or (index < 0 and cp.size < app.tlog.size()):
        cp = issue_checkpoint(app)
    return cp


def first_covering(app: ParIndex, index: int) -> StoredCheckpoint:
    """The earliest checkpoint issued that covers leaf `index` (a new one for the
    head if none does yet): what a read as of that leaf is proven against."""
    covering = [c for c in app.tlog.checkpoints() if c.size > index]
    if covering:
        return min(covering, key=lambda c: (c.size, c.id))
    return covering_checkpoint(app, index)


def inclusion(app: ParIndex, index: int, size: int | None = None) -> dict:
    head = app.tlog.size()
    if index >= head:
        raise _range(
            "index",
            f"Chỉ số lá {index} ngoài phạm vi 0..{head - 1}.",
            f"Leaf index {index} is outside 0..{head - 1}.",
        )
    if size is None:
        cp: StoredCheckpoint | None = covering_checkpoint(app, index)
        size = cp.size
    else:
        if size <= index or size > head:
            raise _range(
                "size",
                f"Kích thước {size} phải lớn hơn chỉ số {index} và không quá {head}.",
                f"Size {size} must exceed index {index} and be at most {head}.",
            )
        cp = app.tlog.checkpoint_for_size(size)
    leaf = app.tlog.leaf(index)
    if leaf is None:
        raise LogIncomplete(f"leaf {index}")
    return {
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": _b64(leaf.leaf_hash),
        "hashes": [_b64(h) for h in app.tlog.inclusion_proof(index, size)],
        "root": _b64(app.tlog.root(size)),
        "checkpoint": cp.note if cp else None,
    }


def consistency(app: ParIndex, first: int, second: int) -> dict:
    head = app.tlog.size()
    if not first <= second <= head:
        raise _range("to", f"Cần 0 <= from <= to <= {head}.", f"Need 0 <= from <= to <= {head}.")
    return {
        "first": first,
        "second": second,
        "root1": _b64(app.tlog.root(first)),
        "root2": _b64(app.tlog.root(second)),
        "hashes": [_b64(h) for h in app.tlog.consistency_proof(first, second)],
    }


def logged_event(app: ParIndex, index: int) -> dict:
    """The stored event behind leaf `index`: enough to recompute its leaf hash."""
    for e in app.tlog.iter_events(start=index, batch=1):
        if e.leaf_index == index and e.topic is not None and e.state is not None:
            return {
                "originator_id": str(e.originator_id),
                "version": e.originator_version,
                "topic": e.topic,
                "state": _b64(e.state),
            }
        break
    raise DomainError(
        "event_missing",
        f"Không tìm thấy sự kiện của lá {index} trong kho.",
        f"The event of leaf {index} is missing from the store.",
        status=409,
    )


def _proven(app: ParIndex, index: int, size: int) -> dict | None:
    """{proof, logged} of leaf `index` against a tree of `size` leaves (None if none)."""
    leaf = app.tlog.leaf(index) if index < size else None
    if leaf is None:
        return None
    return {
        "proof": {
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": _b64(leaf.leaf_hash),
            "hashes": [_b64(h) for h in app.tlog.inclusion_proof(index, size)],
        },
        "logged": logged_event(app, index),
    }


def with_proofs(
    app: ParIndex, events: list[dict], leaves: list[int] = ()
) -> tuple[dict, list[dict], list[dict]]:
    """A checkpoint covering every event and every leaf of `leaves`; each event with
    its proof and bytes (proof and bytes None for an event the log has no leaf for:
    it cannot be proven); and `{leaf_index, proof, logged}` for each of `leaves`."""
    indices = [e["leaf_index"] for e in events if e.get("leaf_index") is not None]
    cp = covering_checkpoint(app, max([*indices, *leaves], default=-1))
    out = []
    for e in events:
        i = e.get("leaf_index")
        proven = _proven(app, i, cp.size) if i is not None else None
        out.append({**e, **(proven or {"proof": None, "logged": None})})
    extra = []
    for i in leaves:
        proven = _proven(app, i, cp.size)
        if proven is not None:
            extra.append({"leaf_index": i, **proven})
    # The note with the witnesses' lines kept for it, so a client can require them.
    cosigned = {**checkpoint_doc(cp), "note": CosignatureStore(app.tlog).cosigned_note(cp)}
    return cosigned, out, extra


def prove_why(app: ParIndex, doc: dict) -> dict:
    """A why document (projections.queries) with its proofs: `checkpoint`, each
    chain event's `proof` and `logged`, and `grounds`, the deployment events the
    chain rests on (application.transparency.grounds), each proven the same way."""
    chain_leaves = [e["leaf_index"] for e in doc["chain"] if e.get("leaf_index") is not None]
    grounds = ground_leaves(app, doc["cycle"], chain_leaves)
    checkpoint, chain, proven = with_proofs(app, doc["chain"], grounds)
    return {**doc, "checkpoint": checkpoint, "chain": chain, "grounds": proven}
