"""A cycle's ranking versions: signed reads (with the draft a council chair
signs), and the public reads of what was published, which need no key."""

from __future__ import annotations

from flask_smorest import Blueprint

from application import rankings as drafts
from application.errors import NotFound
from interfaces.http import as_of, reads
from interfaces.http.auth import readable_cycle
from interfaces.http.consistency import await_position
from interfaces.http.ranking_schemas import (
    PublishedSheet,
    RankingDraft,
    Rankings,
    RankingVersion,
)
from interfaces.http.schemas import PositionArgs
from interfaces.http.services import services

blp = Blueprint(
    "rankings",
    __name__,
    url_prefix="/api/v1/cycles",
    description="Xếp hạng: dự thảo, các phiên bản (cần chữ ký / signed reads)",
)
public = Blueprint(
    "public",
    __name__,
    url_prefix="/api/v1/public",
    description="Kết quả đã công bố, không cần khóa / published results, no key needed",
)
SIGNED = [{"ParindexSig": []}]
MAX_VERSION = 1_000_000  # a version number past any cycle's: 404, never a SQL overflow


def _known(version: int) -> int:
    if not 1 <= version <= MAX_VERSION:
        raise NotFound(
            f"phiên bản xếp hạng {version}"[:80],
            f"ranking version {version}"[:80],
            code="version_not_found",
        )
    return version


def _cycle_missing(cycle: str) -> tuple[str, str, str]:
    return f"kỳ đánh giá {cycle}", f"cycle {cycle}", "cycle_not_found"


@blp.route("/<cycle>/ranking/draft")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, RankingDraft)
@blp.doc(security=SIGNED)
def ranking_draft(args: dict, cycle: str):
    """Bảng xếp hạng sẽ đề xuất: nội dung và digest để chủ tịch hội đồng ký /
    the manifest propose_ranking would accept now, and its digest"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    return drafts.draft(services().app, cycle)


@blp.route("/<cycle>/rankings")
@blp.arguments(as_of.AsOfArgs, location="query")
@blp.response(200, Rankings)
@blp.doc(security=SIGNED)
def ranking_versions(args: dict, cycle: str):
    """Các phiên bản xếp hạng (as_of: như tại một thời điểm) / every version: proposed,
    approved, published (as_of: as they stood at a moment)"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    found = as_of.moment(args)
    doc = reads.found(reads.q().rankings(cycle, upto=_upto(found)), *_cycle_missing(cycle))
    return as_of.stamped(doc, found)


@blp.route("/<cycle>/rankings/<int:version>")
@blp.arguments(as_of.AsOfArgs, location="query")
@blp.response(200, RankingVersion)
@blp.doc(security=SIGNED)
def ranking_version(args: dict, cycle: str, version: int):
    """Một phiên bản xếp hạng / one version with every unit's line"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    found = as_of.moment(args)
    return as_of.stamped(
        reads.found(
            reads.q().ranking_version(cycle, _known(version), upto=_upto(found)),
            f"phiên bản xếp hạng {version} của {cycle}",
            f"ranking version {version} of {cycle}",
            "version_not_found",
        ),
        found,
    )


@public.route("/cycles/<cycle>/rankings")
@public.arguments(as_of.AsOfArgs, location="query")
@public.response(200, Rankings)
def public_rankings(args: dict, cycle: str):
    """Các phiên bản đã công bố (as_of: tại một thời điểm) / the published versions (no
    key needed; as_of: those published by a moment)"""
    await_position(args.get("position"))
    found = as_of.moment(args)
    doc = reads.found(
        reads.q().rankings(cycle, public=True, upto=_upto(found)), *_cycle_missing(cycle)
    )
    return as_of.stamped(doc, found)


@public.route("/cycles/<cycle>/rankings/<int:version>")
@public.arguments(as_of.AsOfArgs, location="query")
@public.response(200, RankingVersion)
def public_ranking(args: dict, cycle: str, version: int):
    """Bảng xếp hạng đã công bố / a published ranking (no key needed)"""
    await_position(args.get("position"))
    found = as_of.moment(args)
    doc = reads.found(
        reads.q().ranking_version(cycle, _known(version), public=True, upto=_upto(found)),
        f"bảng xếp hạng đã công bố {version} của {cycle}",
        f"published ranking {version} of {cycle}",
        "version_not_found",
    )
    return as_of.stamped(doc, found)


@public.route("/cycles/<cycle>/rankings/<int:version>/units/<unit>")
@public.arguments(PositionArgs, location="query")
@public.response(200, PublishedSheet)
def public_sheet(args: dict, cycle: str, version: int, unit: str):
    """Phiếu chấm điểm đã công bố của một đơn vị / a unit's published sheet (no key)"""
    await_position(args.get("position"))
    return reads.found(
        reads.q().published_sheet(cycle, _known(version), unit),
        f"phiếu đã công bố của {unit} (phiên bản {version})",
        f"the published sheet of {unit} (version {version})",
        "sheet_not_found",
    )


def _upto(found) -> int | None:
    return None if found is None else found.log_index
