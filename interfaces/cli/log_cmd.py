"""`parindex log ...`: checkpoints, proofs, the log's verifier key."""

from __future__ import annotations

import argparse
import base64

from application.deployment import issue_checkpoint, log_verifier_key, open_app
from domain.errors import DomainError
from interfaces.cli.main import add_data_dir, add_json, emit


def register(sub: argparse._SubParsersAction) -> None:
    log = sub.add_parser("log", help="nhật ký minh bạch / transparency log").add_subparsers(
        dest="log_command", required=True, metavar="ACTION"
    )
    p = log.add_parser("checkpoint", help="ký điểm kiểm tra hiện tại / sign the tree head")
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=cmd_checkpoint)
    p = log.add_parser("prove", help="bằng chứng bao hàm / inclusion proof")
    add_data_dir(p)
    add_json(p)
    p.add_argument("--index", type=int, required=True)
    p.add_argument(
        "--size", type=int, default=None, help="kích thước cây (mặc định: điểm kiểm tra mới nhất)"
    )
    p.set_defaults(func=cmd_prove)
    p = log.add_parser("consistency", help="bằng chứng nhất quán / consistency proof")
    add_data_dir(p)
    add_json(p)
    p.add_argument("--from", dest="m", type=int, required=True)
    p.add_argument("--to", dest="n", type=int, required=True)
    p.set_defaults(func=cmd_consistency)
    p = log.add_parser("key", help="khóa xác minh nhật ký / the log's verifier key")
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=cmd_key)


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _range_error(vi: str, en: str) -> DomainError:
    return DomainError("out_of_range", vi, en, status=400)


def cmd_checkpoint(args: argparse.Namespace) -> int:
    with open_app(args.data_dir) as app:
        cp = issue_checkpoint(app)
    emit(
        args,
        {"size": cp.size, "root": _b64(cp.root), "note": cp.note, "issued_at": cp.issued_at},
        cp.note.rstrip("\n"),
    )
    return 0


def proof_document(app, index: int, size: int | None) -> dict:
    """Inclusion proof of leaf `index` to a signed checkpoint (issued if needed)."""
    head = app.tlog.size()
    if index < 0 or index >= head:
        raise _range_error(
            f"Chỉ số lá {index} ngoài phạm vi 0..{head - 1}.",
            f"Leaf index {index} is outside 0..{head - 1}.",
        )
    if size is None:
        cp = app.tlog.latest_checkpoint()
        if cp is None or cp.size <= index:
            cp = issue_checkpoint(app)
    else:
        if size <= index or size > head:
            raise _range_error(
                f"Kích thước {size} phải lớn hơn chỉ số {index} và không quá {head}.",
                f"Size {size} must exceed index {index} and be at most {head}.",
            )
        cp = app.tlog.checkpoint_for_size(size)
    n = cp.size if cp else size
    leaf = app.tlog.leaf(index)
    proof = app.tlog.inclusion_proof(index, n)
    return {
        "leaf_index": index,
        "tree_size": n,
        "leaf_hash": _b64(leaf.leaf_hash),
        "proof": [_b64(h) for h in proof],
        "checkpoint": cp.note if cp else None,
        "root": _b64(app.tlog.root(n)),
    }


def cmd_prove(args: argparse.Namespace) -> int:
    with open_app(args.data_dir) as app:
        doc = proof_document(app, args.index, args.size)
    emit(
        args,
        doc,
        "\n".join(
            [
                f"Lá {doc['leaf_index']} trong cây kích thước {doc['tree_size']}",
                f"Hash lá: {doc['leaf_hash']}",
                f"Gốc: {doc['root']}",
                "Bằng chứng:",
                *[f"  {h}" for h in doc["proof"]],
                "Điểm kiểm tra:"
                if doc["checkpoint"]
                else "(chưa có điểm kiểm tra ký cho kích thước này)",
                (doc["checkpoint"] or "").rstrip("\n"),
            ]
        ),
    )
    return 0


def cmd_consistency(args: argparse.Namespace) -> int:
    with open_app(args.data_dir) as app:
        head = app.tlog.size()
        if not 0 <= args.m <= args.n <= head:
            raise _range_error(
                f"Cần 0 <= from <= to <= {head}.", f"Need 0 <= from <= to <= {head}."
            )
        proof = app.tlog.consistency_proof(args.m, args.n)
        doc = {
            "size1": args.m,
            "size2": args.n,
            "root1": _b64(app.tlog.root(args.m)),
            "root2": _b64(app.tlog.root(args.n)),
            "proof": [_b64(h) for h in proof],
        }
    emit(
        args,
        doc,
        "\n".join(
            [
                f"Nhất quán {args.m} -> {args.n}",
                f"Gốc 1: {doc['root1']}",
                f"Gốc 2: {doc['root2']}",
                "Bằng chứng:",
                *[f"  {h}" for h in doc["proof"]],
            ]
        ),
    )
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    with open_app(args.data_dir) as app:
        vkey = log_verifier_key(app)
    emit(args, {"log_key": vkey, "origin": vkey.split("+")[0]}, vkey)
    return 0
