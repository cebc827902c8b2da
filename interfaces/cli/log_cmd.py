"""`parindex log ...`: checkpoints, proofs, the log's verifier key."""

from __future__ import annotations

import argparse

from application.deployment import issue_checkpoint, log_verifier_key, open_app
from application.transparency import proofs
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


def cmd_checkpoint(args: argparse.Namespace) -> int:
    with open_app(args.data_dir) as app:
        cp = issue_checkpoint(app)
    emit(args, proofs.checkpoint_doc(cp), cp.note.rstrip("\n"))
    return 0


def proof_document(app, index: int, size: int | None) -> dict:
    """Inclusion proof of leaf `index` to a signed checkpoint (issued if needed)."""
    doc = _in_range(lambda: proofs.inclusion(app, index, size))
    return {
        "leaf_index": doc["leaf_index"],
        "tree_size": doc["tree_size"],
        "leaf_hash": doc["leaf_hash"],
        "proof": doc["hashes"],
        "checkpoint": doc["checkpoint"],
        "root": doc["root"],
    }


def _in_range(make):
    # On the command line a proof the log does not hold is a bad argument.
    try:
        return make()
    except DomainError as e:
        if e.code != "proof_not_found":
            raise
        raise DomainError("out_of_range", e.message_vi, e.message_en, status=400) from None


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
        cons = _in_range(lambda: proofs.consistency(app, args.m, args.n))
    doc = {
        "size1": cons["first"],
        "size2": cons["second"],
        "root1": cons["root1"],
        "root2": cons["root2"],
        "proof": cons["hashes"],
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
