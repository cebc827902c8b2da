"""Cycles, rankings, a unit's scores, a leaf's history and its proven why-chain (signed)."""

from __future__ import annotations

from flask_smorest import Blueprint

from application import submissions
from application.transparency import proofs
from interfaces.http import as_of, reads
from interfaces.http.auth import readable_cycle, readable_unit
from interfaces.http.leaf_schemas import LeafHistory, Why
from interfaces.http.read_schemas import (
    CycleDetail,
    CycleList,
    CycleStatus,
    Ranking,
    Submission,
    UnitScores,
    UnitStatus,
)
from interfaces.http.schemas import PositionArgs
from interfaces.http.services import services
from projections import as_of as as_of_q

blp = Blueprint(
    "cycles",
    __name__,
    url_prefix="/api/v1/cycles",
    description="Kỳ đánh giá, điểm, xếp hạng (cần chữ ký / signed reads)",
)
SIGNED = [{"ParindexSig": []}]
UNIT = "/<cycle>/units/<unit>"


@blp.route("")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, CycleList)
@blp.doc(security=SIGNED)
def cycles(args: dict):
    """Các kỳ đánh giá trong phạm vi của khóa / the cycles the key's scope reaches"""
    key = reads.begin(args)
    every = reads.q().cycles()
    return {"cycles": [c for c in every if reads.cycle_visible(key, c)]}


@blp.route("/<cycle>")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, CycleDetail)
@blp.doc(security=SIGNED)
def cycle(args: dict, cycle: str):
    """Một kỳ: lịch (các hạn, gia hạn), đơn vị (loại, sáp nhập) / one cycle: its
    calendar (deadlines, extensions) and units (types, merges)"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    return reads.found(
        reads.q().cycle(cycle), f"kỳ đánh giá {cycle}", f"cycle {cycle}", "cycle_not_found"
    )


@blp.route("/<cycle>/ranking")
@blp.arguments(as_of.AsOfPageArgs, location="query")
@blp.response(200, Ranking)
@blp.doc(security=SIGNED)
def ranking(args: dict, cycle: str):
    """Xếp hạng các đơn vị (as_of: như tại một thời điểm) / the ranking of the cycle's
    units (as_of: as the log gave it at a moment)"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    found = as_of.moment(args)
    page = (args["limit"], args["offset"])
    doc = reads.found(
        reads.q().ranking(cycle, *page)
        if found is None
        else as_of_q.ranking(services().read_model, cycle, found, *page),
        f"kỳ đánh giá {cycle}",
        f"cycle {cycle}",
        "cycle_not_found",
    )
    return as_of.stamped(doc, found)


@blp.route("/<cycle>/status")
@blp.arguments(as_of.AsOfPageArgs, location="query")
@blp.response(200, CycleStatus)
@blp.doc(security=SIGNED)
def cycle_status(args: dict, cycle: str):
    """Tiến độ kỳ: giai đoạn, điểm đã chấm, giải trình, hạn của từng đơn vị, tổng theo
    giai đoạn (theo đồng hồ máy chủ, chỉ để hiển thị) / where the cycle and each unit
    stand (the server's clock, for display only)"""
    key = reads.begin(args)
    readable_cycle(key, cycle)
    found = as_of.moment(args)
    page = (args["limit"], args["offset"])
    doc = reads.found(
        reads.q().cycle_status(cycle, *page)
        if found is None
        else as_of_q.cycle_status(services().read_model, cycle, found, *page),
        f"kỳ đánh giá {cycle}",
        f"cycle {cycle}",
        "cycle_not_found",
    )
    return as_of.stamped(doc, found)


@blp.route(f"{UNIT}/status")
@blp.arguments(as_of.AsOfArgs, location="query")
@blp.response(200, UnitStatus)
@blp.doc(security=SIGNED)
def unit_status(args: dict, cycle: str, unit: str):
    """Tiến độ một đơn vị (as_of: như tại một thời điểm) / where one unit stands"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    found = as_of.moment(args)
    doc = reads.found(
        reads.q().unit_status(cycle, unit)
        if found is None
        else as_of_q.unit_status(services().read_model, cycle, unit, found),
        f"đơn vị {unit}",
        f"unit {unit}",
        "unit_not_found",
    )
    return as_of.stamped(doc, found)


@blp.route(f"{UNIT}/submission")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, Submission)
@blp.doc(security=SIGNED)
def unit_submission(args: dict, cycle: str, unit: str):
    """Hồ sơ tự đánh giá sẽ nộp: nội dung và digest để chủ tịch xã ký / what a
    submission would cover now, and its digest"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    return submissions.preview(services().app, cycle, unit)


@blp.route(f"{UNIT}/scores")
@blp.arguments(as_of.AsOfArgs, location="query")
@blp.response(200, UnitScores)
@blp.doc(security=SIGNED)
def unit_scores(args: dict, cycle: str, unit: str):
    """Điểm của một đơn vị theo từng tiêu chí (as_of: như tại một thời điểm) / a unit's
    scores, node by node (as_of: as they stood at a moment)"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    found = as_of.moment(args)
    missing = (f"đơn vị {unit}", f"unit {unit}", "unit_not_found")
    if found is None:
        return reads.found(reads.q().unit_scores(cycle, unit), *missing)
    s = services()
    doc = reads.found(as_of_q.unit_scores(s.app, s.read_model, cycle, unit, found), *missing)
    return as_of.stamped(doc, found)


@blp.route(f"{UNIT}/leaves/<leaf>/history")
@blp.arguments(as_of.AsOfArgs, location="query")
@blp.response(200, LeafHistory)
@blp.doc(security=SIGNED)
def leaf_history(args: dict, cycle: str, unit: str, leaf: str):
    """Lịch sử một tiêu chí thành phần (as_of: tới một thời điểm) / a leaf's history"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    found = as_of.moment(args)
    doc = reads.found(
        reads.q().leaf_history(cycle, unit, leaf, None if found is None else found.log_index),
        f"tiêu chí {leaf}",
        f"leaf {leaf}",
        "leaf_not_found",
    )
    return as_of.stamped(doc, found)


@blp.route(f"{UNIT}/leaves/<leaf>/why")
@blp.arguments(PositionArgs, location="query")
@blp.response(200, Why)
@blp.doc(security=SIGNED)
def why(args: dict, cycle: str, unit: str, leaf: str):
    """Vì sao có điểm này: chuỗi sự kiện đã ký, mỗi sự kiện kèm bằng chứng bao hàm vào
    điểm kiểm tra đã ký / the signed events behind a leaf's score, each proven"""
    key = reads.begin(args)
    readable_unit(key, cycle, unit)
    doc = reads.found(
        reads.q().why(cycle, unit, leaf), f"tiêu chí {leaf}", f"leaf {leaf}", "leaf_not_found"
    )
    return proofs.prove_why(services().app, doc)
