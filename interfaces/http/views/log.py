"""The transparency log: public, read straight from the log (always current)."""

from __future__ import annotations

from flask_smorest import Blueprint

from application.deployment import log_verifier_key
from application.transparency import proofs
from application.transparency.cosignature_store import CosignatureStore
from interfaces.http.schemas import (
    Checkpoint,
    CheckpointList,
    ConsistencyArgs,
    ConsistencyProof,
    InclusionArgs,
    InclusionProof,
    LogKey,
    PageArgs,
    PositionArgs,
)
from interfaces.http.services import services

blp = Blueprint(
    "log",
    __name__,
    url_prefix="/api/v1/log",
    description="Nhật ký minh bạch (transparency log), công khai",
)


@blp.route("/key")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, LogKey)
def log_key(_args: dict):
    """Khóa xác minh nhật ký / the log's verifier key"""
    vkey = log_verifier_key(services().app)
    return {"log_key": vkey, "origin": vkey.split("+")[0]}


@blp.route("/checkpoint")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, Checkpoint)
def checkpoint(_args: dict):
    """Điểm kiểm tra mới nhất (ký mới nếu nhật ký đã dài thêm), kèm chữ ký đồng của nhân
    chứng / latest checkpoint, with the witnesses' cosignature lines"""
    app = services().app
    return _cosigned(app, proofs.covering_checkpoint(app))


@blp.route("/checkpoints")
@blp.arguments(PageArgs, location="query")
@blp.response(200, CheckpointList)
def checkpoints(args: dict):
    """Mọi điểm kiểm tra đã ký, cũ trước / every checkpoint issued, oldest first"""
    every = services().app.tlog.checkpoints()
    page = every[args["offset"] : args["offset"] + args["limit"]]
    app = services().app
    return {"checkpoints": [_cosigned(app, c) for c in page], "total": len(every)}


def _cosigned(app, cp) -> dict:
    # One signed note: the log's line, then each witness's (FORMATS 6.5).
    return {**proofs.checkpoint_doc(cp), "note": CosignatureStore(app.tlog).cosigned_note(cp)}


@blp.route("/proof/inclusion")
@blp.arguments(InclusionArgs, location="query")
@blp.response(200, InclusionProof)
def inclusion(args: dict):
    """Bằng chứng bao hàm / inclusion proof (size mặc định: điểm kiểm tra mới nhất)"""
    return proofs.inclusion(services().app, args["index"], args.get("size"))


@blp.route("/proof/consistency")
@blp.arguments(ConsistencyArgs, location="query")
@blp.response(200, ConsistencyProof)
def consistency(args: dict):
    """Bằng chứng nhất quán / consistency proof"""
    return proofs.consistency(services().app, args["first"], args["second"])
