"""CLI for improvement plans (docs/SEASON.md, "Improvement plans").

    parindex document plan --cycle C --unit U --out ke-hoach.xlsx --data-dir D   # the draft
    (the commune fills in targets, tasks, lead and partner units, deadlines, notes)
    parindex plan record --cycle C --unit U --year 2026 --from ke-hoach.xlsx --key chair.key
    parindex plan show --cycle C --unit U --key K

`plan record` reads the rows of the edited .xlsx or .docx (the document's
layout: STT is the leaf) and signs them as `record_improvement_plan`; row N of
the table is `items[N-1]` in any error the server names.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from domain.errors import DomainError
from domain.framework.decimals import canonical
from interfaces.cli.appraisal_cmd import _unit
from interfaces.cli.client_cmd import _client, _command, _receipt
from interfaces.cli.main import emit
from interfaces.documents import files


def register(sub: argparse._SubParsersAction) -> None:
    plans = sub.add_parser(
        "plan", help="kế hoạch khắc phục, nâng cao chỉ số / improvement plans"
    ).add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    p = _command(
        plans,
        "record",
        "ký kế hoạch từ tệp đã điền (Chủ tịch UBND xã) / sign a plan from the filled-in "
        "file (commune chair)",
        cmd_record,
    )
    _unit(p)
    p.add_argument("--year", type=int, required=True, help="năm của kế hoạch / the plan's year")
    p.add_argument("--from", dest="source", required=True, help="tệp .xlsx hoặc .docx")
    p = _command(plans, "show", "dự thảo và các phiên bản đã ký / draft and versions", cmd_show)
    _unit(p)


def items_from(path: Path) -> list[dict]:
    doc = files.read(path)
    if doc.kind != "improvement_plan" and doc.proof is not None:
        raise DomainError(
            "not_a_plan",
            f"Tệp {path.name[:80]} không phải kế hoạch khắc phục ({doc.kind}).",
            f"{path.name[:80]} is not an improvement plan ({doc.kind}).",
            field="from",
        )
    items = []
    for _key, cells in doc.rows:
        target = cells.get("target")
        item = {
            "leaf": cells.get("stt"),
            "target": canonical(target) if isinstance(target, Decimal) else target,
            "tasks": cells.get("tasks"),
            "lead": cells.get("lead"),
            "deadline": cells.get("deadline"),
        }
        for name in ("partners", "note"):
            if cells.get(name) is not None:
                item[name] = cells[name]
        items.append(item)
    return items


def cmd_record(args: argparse.Namespace) -> int:
    items = items_from(Path(args.source))
    receipt = _client(args).record_improvement_plan(args.cycle, args.unit, args.year, items)
    return _receipt(
        args, receipt, f"Đã ký kế hoạch năm {args.year} của {args.unit} ({len(items)} tiêu chí)"
    )


def cmd_show(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).improvement_plan(args.cycle, args.unit)
    lines = [f"Kế hoạch khắc phục của {doc['unit']} (kỳ {doc['cycle']}, năm {doc['year']})"]
    if not doc["plans"]:
        lines.append(
            f"Chưa ký kế hoạch nào. Dự thảo: {len(doc['draft'])} tiêu chí bị mất điểm."
            if doc["published"]
            else "Kỳ chưa công bố xếp hạng: chưa lập kế hoạch."
        )
        lines.extend(
            f"  {r['leaf']:<10} tối đa {r['max_points']:>6}  thẩm định {r['appraised']:>6}  "
            f"mất {r['lost']:>6}  {r['title'][:60]}"
            for r in doc["draft"]
        )
    for plan in doc["plans"]:
        lines.append(
            f"Phiên bản {plan['version']} (năm {plan['plan_year']}), ký bởi {plan['actor']} "
            f"lúc {plan['at']}:"
        )
        lines.extend(
            f"  {i['leaf']:<10} phấn đấu {i['target']:>6}  {i['lead']}  hạn {i['deadline']}: "
            f"{i['tasks'][:60]}"
            for i in plan["items"]
        )
    emit(args, doc, "\n".join(lines))
    return 0
