"""Appendix II: the ranking table of one ranking version, from the log.

The lines are the signed proposal's manifest (kept in `Ranking.Proposed`, and
re-derived from the units by verify's replay): every submitted unit with its
self total, appraised total, index, rank and band, highest first; then, apart,
the units that did not submit or were merged, never ranked as 0. Once the
version is approved the title carries the approval decision's number and date.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from application.documents.model import Cell, Column, Document, cell_text
from application.documents.previous import Previous
from domain.errors import DomainError
from domain.framework import Framework

COLUMNS = [
    Column("stt", "Số TT", number=True),
    Column("unit", "Mã đơn vị"),
    Column("name", "Đơn vị cấp xã"),
    Column("self", "Điểm tự chấm", number=True),
    Column("appraised", "Điểm thẩm định", number=True),
    Column("index", "Chỉ số CCHC (%)", number=True),
    Column("rank", "Xếp hạng", number=True),
    Column("band", "Xếp loại"),
    Column("note", "Ghi chú"),
]
PREVIOUS_COLUMNS = [
    Column("previous_total", "Điểm thẩm định năm trước", number=True),
    Column("previous_rank", "Xếp hạng năm trước", number=True),
]
STATES = {
    "proposed": "đề xuất, chưa phê duyệt",
    "approved": "đã phê duyệt, chưa công bố",
    "published": "đã công bố",
    "superseded": "đã được thay thế bằng phiên bản sau",
}
UNRANKED_HEADING = "ĐƠN VỊ KHÔNG XẾP HẠNG (chưa nộp hoặc đã sáp nhập)"


def _date(text: str) -> str:
    return f"{text[8:10]}/{text[5:7]}/{text[0:4]}" if len(text) == 10 else text


def version_of(ranking: Any, cycle: str, number: str) -> dict:
    if ranking is None or not number.isdigit() or not 1 <= int(number) <= len(ranking.versions):
        raise DomainError(
            "version_not_found",
            f"Kỳ {cycle} không có phiên bản xếp hạng {number[:20]}.",
            f"Cycle {cycle} has no ranking version {number[:20]}.",
            field="version",
            status=404,
        )
    return ranking.versions[int(number) - 1]


def build(
    cycle: Any,
    framework: Framework,
    version: dict,
    later: int = 0,
    previous: Previous | None = None,
) -> Document:
    """The table of `version`; `later` is the newest version number the log holds
    (a table of an earlier one says it has been replaced); `previous`: last
    year's totals and ranks beside this year's (documents/previous.py)."""
    manifest = version["manifest"]
    bands = {b.code: b.name_vi for b in framework.meta.bands.items}
    names = {u["code"]: u["name"] for u in cycle.units}
    rows: list[tuple[str, dict[str, Cell]]] = []
    levels: dict[str, int] = {}
    for place, line in enumerate(manifest["ranked"], start=1):
        rows.append(
            (
                line["unit"],
                {
                    "stt": Decimal(place),
                    "unit": line["unit"],
                    "name": cell_text(line["name"]),
                    "self": Decimal(line["self_total"]),
                    "appraised": Decimal(line["appraised_total"]),
                    "index": None if line.get("index") is None else Decimal(line["index"]),
                    "rank": Decimal(line["rank"]),
                    "band": bands.get(line.get("band"), line.get("band")),
                    "note": None,
                },
            )
        )
        levels[line["unit"]] = 1
    if manifest["unranked"]:
        rows.append((UNRANKED_HEADING, {"name": UNRANKED_HEADING}))
        levels[UNRANKED_HEADING] = -1
    for place, line in enumerate(manifest["unranked"], start=1):
        if line["status"] == "merged":
            into = line.get("into")
            note = cell_text(f"Đã sáp nhập vào {names.get(into, into)} (mã {into})")
        else:
            note = "Chưa nộp bản tự đánh giá"
        rows.append(
            (
                line["unit"],
                {
                    "stt": Decimal(place),
                    "unit": line["unit"],
                    "name": cell_text(line["name"]),
                    "note": note,
                },
            )
        )
        levels[line["unit"]] = 1
    decision = version.get("decision")
    title = [
        "PHỤ LỤC II",
        "THỐNG KÊ KẾT QUẢ XẾP HẠNG CHỈ SỐ CCHC ĐỐI VỚI UBND CẤP XÃ",
        cell_text(
            f"Kỳ đánh giá: {cycle.name} (mã {cycle.cycle}), năm {cycle.year}; "
            f"cơ quan thẩm định: {cycle.authority}"
        ),
        cell_text(
            f"(Ban hành kèm theo Quyết định số {decision['number']} ngày {_date(decision['date'])})"
            if decision
            else f"(Bản đề xuất phiên bản {version['version']}: chưa có quyết định phê duyệt)"
        ),
        f"Phiên bản xếp hạng {version['version']}: {STATES.get(version['state'], version['state'])}"
        f"; mã băm {version['digest']}",
    ]
    if later > version["version"]:
        title.append(f"Đã có phiên bản xếp hạng mới hơn: phiên bản {later}")
    columns = list(COLUMNS)
    if previous is not None:
        columns[-1:-1] = PREVIOUS_COLUMNS
        title.append(cell_text(previous.described()))
        for key, cells in rows:
            if key == UNRANKED_HEADING:
                continue
            total, rank = previous.total(cells["unit"])
            cells["previous_total"] = total
            cells["previous_rank"] = None if rank is None else Decimal(rank)
    return Document("ranking_table", title, columns, rows, levels=levels)
