"""Evidence: upload a blob (signed), list and read a unit's evidence, download files."""

from __future__ import annotations

import os

from flask import request, send_file
from flask_smorest import Blueprint

from application.errors import NotFound
from application.evidence import ALLOWED
from application.uploads import upload
from interfaces.http import reads
from interfaces.http.auth import may_upload, readable_unit, signed_key
from interfaces.http.disposition import content_disposition
from interfaces.http.leaf_schemas import EvidenceItem, EvidenceList
from interfaces.http.problems import HttpProblem
from interfaces.http.schemas import Blob, PositionArgs
from interfaces.http.services import services

blp = Blueprint(
    "evidence", __name__, url_prefix="/api/v1", description="Tài liệu kiểm chứng (evidence)"
)
SIGNED = [{"ParindexSig": []}]
BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_TYPES = sorted(ALLOWED | {"application/octet-stream"})


@blp.route("/evidence/blobs", methods=["PUT"])
@blp.response(201, Blob, description="Đã lưu / stored")
@blp.alt_response(200, schema=Blob, description="Đã có tệp này / already stored")
@blp.doc(
    security=SIGNED,
    requestBody={
        "required": True,
        "content": {t: BINARY for t in UPLOAD_TYPES},
        "description": "Nội dung tệp; Content-Type là loại khai báo (application/octet-stream: "
        "để máy chủ nhận diện) / raw bytes; the declared Content-Type",
    },
)
def put_blob():
    """Tải tệp minh chứng lên (cần chữ ký) / upload an evidence file"""
    key = signed_key()
    may_upload(key)
    declared = request.mimetype
    if not declared:
        raise HttpProblem("content_type_required")
    data = request.get_data(cache=True)
    blob, existed = upload(
        services().app,
        key.key_id,
        data,
        None if declared == "application/octet-stream" else declared,
    )
    return blob, 200 if existed else 201


@blp.route("/cycles/<cycle>/units/<unit>/evidence")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, EvidenceList)
@blp.doc(security=SIGNED)
def evidence_list(args: dict, cycle: str, unit: str):
    """Danh sách minh chứng của một đơn vị / a unit's evidence"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return reads.found(
        reads.q().evidence_list(cycle, unit), f"đơn vị {unit}", f"unit {unit}", "unit_not_found"
    )


def _item(args: dict, cycle: str, unit: str, evidence_id: str) -> dict:
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return reads.found(
        reads.q().evidence_item(cycle, unit, evidence_id),
        f"minh chứng {evidence_id}",
        f"evidence {evidence_id}",
        "evidence_not_found",
    )


@blp.route("/cycles/<cycle>/units/<unit>/evidence/<evidence_id>")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, EvidenceItem)
@blp.doc(security=SIGNED)
def evidence_item(args: dict, cycle: str, unit: str, evidence_id: str):
    """Một minh chứng / one evidence item"""
    return _item(args, cycle, unit, evidence_id)


@blp.route("/cycles/<cycle>/units/<unit>/evidence/<evidence_id>/file")
@blp.arguments(PositionArgs, location="query")
@blp.doc(
    security=SIGNED,
    responses={
        "200": {
            "description": "Tệp; ETag là sha256 / the file; its ETag is its SHA-256",
            "content": {t: BINARY for t in sorted(ALLOWED | {"application/octet-stream"})},
        },
        "304": {"description": "Không đổi (If-None-Match) / not modified"},
    },
)
def evidence_file(args: dict, cycle: str, unit: str, evidence_id: str):
    """Tải tệp minh chứng / download the evidence file"""
    file = _item(args, cycle, unit, evidence_id).get("file") or {}
    sha = file.get("sha256")
    # The hash and media type come from a stored event, which may predate the
    # rules on them: the store opens nothing but a blob of its own.
    blob = services().app.evidence.open(sha)
    if blob is None:
        raise NotFound(
            f"tệp của minh chứng {evidence_id}",
            f"file of evidence {evidence_id}",
            code="evidence_file_not_found",
        )
    size = os.fstat(blob.fileno()).st_size
    media_type = file.get("media_type")
    resp = send_file(
        blob,
        mimetype=media_type if media_type in ALLOWED else "application/octet-stream",
        etag=sha,
        conditional=False,
        max_age=0,
    )
    resp.content_length = size
    resp.headers["Content-Disposition"] = content_disposition(file.get("filename"), sha)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp.make_conditional(request, accept_ranges=True, complete_length=size)
