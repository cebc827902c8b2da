"""Appendix I and II as .xlsx or .docx files (docs/API.md, "Documents").

Each is computed from the log's own events at the latest signed checkpoint
(one is signed if the log has grown), not from the read model, and carries
that checkpoint: `parindex verify-document FILE` checks it offline. The
published ranking's table needs no key.
"""

from __future__ import annotations

import base64
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from flask import Response
from flask_smorest import Blueprint

from application.documents import export
from application.errors import NotFound
from domain.ranking import Ranking
from interfaces.documents import files
from interfaces.http import reads
from interfaces.http.auth import readable_cycle, readable_unit
from interfaces.http.consistency import await_position
from interfaces.http.disposition import content_disposition
from interfaces.http.schemas import PositionArgs
from interfaces.http.services import services

blp = Blueprint(
    "documents",
    __name__,
    url_prefix="/api/v1",
    description="Biểu mẫu Excel/Word có chứng thực / Excel and Word forms with their proof",
)
SIGNED = [{"ParindexSig": []}]
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MAX_VERSION = 1_000_000
FILE = {
    "200": {
        "description": "Tệp .xlsx hoặc .docx / the file",
        "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()},
    }
}


def _format(fmt: str) -> str:
    if fmt not in MEDIA:
        raise NotFound(f"định dạng {fmt[:10]}", f"format {fmt[:10]}", code="format_not_found")
    return fmt


# The last files made, by (kind, cycle, subject, format, tree size, root): a file is
# a pure function of the log at its checkpoint, and a ranking table of
# thousands of units costs seconds to write; anyone may ask for a published one.
_MADE: OrderedDict[tuple, tuple[bytes, int]] = OrderedDict()
_MADE_LOCK = threading.Lock()
KEEP_FILES = 16


def _file(kind: str, cycle: str, subject: str, fmt: str, name: str) -> Response:
    app = services().app
    head = app.tlog.latest_checkpoint()
    cached = None
    if head is not None and head.size == app.tlog.size():
        with _MADE_LOCK:
            cached = _MADE.get((kind, cycle, subject, fmt, head.size, head.root))
    if cached is None:
        doc = export.make(app, kind, cycle, subject)
        with tempfile.TemporaryDirectory(prefix="parindex-doc-") as tmp:
            path = Path(tmp) / f"document.{fmt}"
            files.write(doc, path)
            body = path.read_bytes()
        assert doc.proof is not None
        cached = (body, doc.proof.size)
        made = (kind, cycle, subject, fmt, doc.proof.size, base64.b64decode(doc.proof.root))
        with _MADE_LOCK:
            _MADE[made] = cached
            while len(_MADE) > KEEP_FILES:
                _MADE.popitem(last=False)
    body, size = cached
    resp = Response(body, mimetype=MEDIA[fmt])
    resp.headers["Content-Disposition"] = content_disposition(name, f"document.{fmt}")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Parindex-Tree-Size"] = str(size)
    return resp


def _version(cycle: str, version: int, *, published: bool) -> str:
    ranking = services().app.get(Ranking.create_id(cycle), for_update=False)
    versions = ranking.versions if ranking is not None else ()
    if not 1 <= version <= min(len(versions), MAX_VERSION) or (
        published and versions[version - 1]["state"] != "published"
    ):
        raise NotFound(
            f"phiên bản xếp hạng {version} của {cycle}"[:120],
            f"ranking version {version} of {cycle}"[:120],
            code="version_not_found",
        )
    return str(version)


@blp.route("/cycles/<cycle>/units/<unit>/documents/scoring-sheet.<fmt>")
@blp.arguments(PositionArgs, location="query")
@blp.doc(security=SIGNED, responses=FILE)
def scoring_sheet(args: dict, cycle: str, unit: str, fmt: str):
    """Phụ lục I: bảng điểm của đơn vị / the unit's scoring sheet (Appendix I)"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return _file("scoring_sheet", cycle, unit, _format(fmt), f"phu-luc-1-{cycle}-{unit}.{fmt}")


@blp.route("/cycles/<cycle>/rankings/<int:version>/documents/ranking-table.<fmt>")
@blp.arguments(PositionArgs, location="query")
@blp.doc(security=SIGNED, responses=FILE)
def ranking_table(args: dict, cycle: str, version: int, fmt: str):
    """Phụ lục II: bảng xếp hạng của một phiên bản / a version's ranking table"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    fmt = _format(fmt)
    subject = _version(cycle, version, published=False)
    return _file("ranking_table", cycle, subject, fmt, f"phu-luc-2-{cycle}-v{version}.{fmt}")


@blp.route("/public/cycles/<cycle>/rankings/<int:version>/documents/ranking-table.<fmt>")
@blp.arguments(PositionArgs, location="query")
@blp.doc(responses=FILE)
def public_ranking_table(args: dict, cycle: str, version: int, fmt: str):
    """Phụ lục II đã công bố, không cần khóa / a published ranking table (no key)"""
    await_position(args.get("position"))
    fmt = _format(fmt)
    subject = _version(cycle, version, published=True)
    return _file("ranking_table", cycle, subject, fmt, f"phu-luc-2-{cycle}-v{version}.{fmt}")
