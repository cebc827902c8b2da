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
from domain.errors import DomainError
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


# The files last asked for, by (kind, cycle, subject, format, tree size, root): a file is
# a pure function of the log at its checkpoint, and a ranking table of
# thousands of units costs seconds to write; anyone may ask for a published one.
_MADE: OrderedDict[tuple, tuple[bytes, int]] = OrderedDict()
_MADE_LOCK = threading.Lock()
KEEP_FILES = 16
_BUILDING = threading.BoundedSemaphore(1)
BUILD_WAIT_SECONDS = 30


def _lookup(app, kind: str, cycle: str, subject: str, fmt: str) -> tuple[bytes, int] | None:
    """The file made for the log's current head, if one was."""
    head = app.tlog.latest_checkpoint()
    if head is None or head.size != app.tlog.size():
        return None
    made = (kind, cycle, subject, fmt, head.size, head.root)
    with _MADE_LOCK:
        found = _MADE.get(made)
        if found is not None:
            _MADE.move_to_end(made)  # least recently used goes first
    return found


def _build(app, kind: str, cycle: str, subject: str, fmt: str) -> tuple[bytes, int]:
    doc = export.make(app, kind, cycle, subject)
    with tempfile.TemporaryDirectory(prefix="parindex-doc-") as tmp:
        path = Path(tmp) / f"document.{fmt}"
        files.write(doc, path)
        body = path.read_bytes()
    assert doc.proof is not None
    made = (kind, cycle, subject, fmt, doc.proof.size, base64.b64decode(doc.proof.root))
    with _MADE_LOCK:
        _MADE[made] = (body, doc.proof.size)
        while len(_MADE) > KEEP_FILES:
            _MADE.popitem(last=False)
    return body, doc.proof.size


def _file(kind: str, cycle: str, subject: str, fmt: str, name: str) -> Response:
    app = services().app
    found = _lookup(app, kind, cycle, subject, fmt)
    if found is None:
        # One file is made at a time in a worker: a burst of asks (anyone may ask
        # for a published table) waits here, and finds the file the first made.
        if not _BUILDING.acquire(timeout=BUILD_WAIT_SECONDS):
            raise DomainError(
                "documents_busy",
                "Máy chủ đang lập các biểu mẫu khác; hãy thử lại sau ít giây.",
                "The server is busy making other documents; try again in a few seconds.",
                status=503,
            )
        try:
            found = _lookup(app, kind, cycle, subject, fmt) or _build(
                app, kind, cycle, subject, fmt
            )
        finally:
            _BUILDING.release()
    body, size = found
    resp = Response(body, mimetype=MEDIA[fmt])
    resp.headers["Content-Disposition"] = content_disposition(name, f"document.{fmt}")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Parindex-Tree-Size"] = str(size)
    return resp


def _version(cycle: str, version: int, *, published: bool) -> str:
    app = services().app
    with app._turn():  # the aggregates are shared with the writers
        ranking = app.get(Ranking.create_id(cycle), for_update=False)
        versions = tuple(ranking.versions) if ranking is not None else ()
    if not 1 <= version <= min(len(versions), MAX_VERSION) or (
        published and versions[version - 1]["state"] != "published"
    ):
        raise NotFound(
            f"phiên bản xếp hạng {version} của {cycle}"[:120],
            f"ranking version {version} of {cycle}"[:120],
            code="version_not_found",
        )
    return str(version)


def _scoring_sheet(fmt: str, args: dict, cycle: str, unit: str):
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return _file("scoring_sheet", cycle, unit, fmt, f"phu-luc-1-{cycle}-{unit}.{fmt}")


def _improvement_plan(fmt: str, args: dict, cycle: str, unit: str):
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return _file("improvement_plan", cycle, unit, fmt, f"ke-hoach-{cycle}-{unit}.{fmt}")


def _ranking_table(fmt: str, args: dict, cycle: str, version: int):
    key = reads.begin(args)
    readable_cycle(key, cycle)
    subject = _version(cycle, version, published=False)
    return _file("ranking_table", cycle, subject, fmt, f"phu-luc-2-{cycle}-v{version}.{fmt}")


def _public_ranking_table(fmt: str, args: dict, cycle: str, version: int):
    await_position(args.get("position"))
    subject = _version(cycle, version, published=True)
    return _file("ranking_table", cycle, subject, fmt, f"phu-luc-2-{cycle}-v{version}.{fmt}")


# One route per format: the format is part of the file's name, and OpenAPI has
# no parameter inside a path segment.
ROUTES = (
    (
        "/cycles/<cycle>/units/<unit>/documents/scoring-sheet",
        _scoring_sheet,
        SIGNED,
        "Phụ lục I: bảng điểm của đơn vị / the unit's scoring sheet (Appendix I)",
    ),
    (
        "/cycles/<cycle>/units/<unit>/documents/improvement-plan",
        _improvement_plan,
        SIGNED,
        "Kế hoạch khắc phục (dự thảo hoặc bản đã ký) / the improvement plan (draft or signed)",
    ),
    (
        "/cycles/<cycle>/rankings/<int:version>/documents/ranking-table",
        _ranking_table,
        SIGNED,
        "Phụ lục II: bảng xếp hạng của một phiên bản / a version's ranking table",
    ),
    (
        "/public/cycles/<cycle>/rankings/<int:version>/documents/ranking-table",
        _public_ranking_table,
        None,
        "Phụ lục II đã công bố, không cần khóa / a published ranking table (no key)",
    ),
)


def _register(path: str, view, security, summary: str, fmt: str) -> None:
    def endpoint(args: dict, **kwargs):
        return view(fmt, args, **kwargs)

    endpoint.__name__ = f"{view.__name__.lstrip('_')}_{fmt}"
    endpoint.__doc__ = f"{summary} (.{fmt})"
    doc = {"responses": FILE} | ({"security": security} if security else {})
    blp.route(f"{path}.{fmt}", endpoint=endpoint.__name__)(
        blp.arguments(PositionArgs, location="query")(blp.doc(**doc)(endpoint))
    )


for _path, _view, _security, _summary in ROUTES:
    for _fmt in MEDIA:
        _register(_path, _view, _security, _summary, _fmt)
