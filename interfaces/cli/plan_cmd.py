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
import re
import sys
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


NEEDED = ("stt", "target", "tasks", "lead", "deadline")


def _not_a_plan(path: Path, why_vi: str, why_en: str) -> DomainError:
    return DomainError(
        "not_a_plan",
        f"Tệp {path.name[:80]} không phải kế hoạch khắc phục ({why_vi}).",
        f"{path.name[:80]} is not an improvement plan ({why_en}).",
        field="from",
    )


def items_from(path: Path, cycle: str | None = None, unit: str | None = None) -> list[dict]:
    """The rows of a filled-in plan (.xlsx or .docx) as `record_improvement_plan`
    items, in table order. The columns are read by their headings (those of
    `parindex document plan`), whether or not the file still carries its proof."""
    doc = files.read(path, kind="improvement_plan")
    if doc.proof is not None and doc.proof.kind != "improvement_plan":
        raise _not_a_plan(path, doc.proof.kind, doc.proof.kind)
    if doc.proof is not None and (cycle, unit) != (None, None):
        if (doc.proof.cycle, doc.proof.subject) != (cycle, unit):
            raise _not_a_plan(
                path,
                f"kế hoạch của {doc.proof.subject} kỳ {doc.proof.cycle}",
                f"the plan of {doc.proof.subject} in {doc.proof.cycle}",
            )
    missing = [n for n in NEEDED if n not in {c.id for c in doc.columns}]
    if missing:
        raise _not_a_plan(
            path, "thiếu cột " + ", ".join(missing), "no column " + ", ".join(missing)
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
    items = items_from(Path(args.source), args.cycle, args.unit)
    try:
        receipt = _client(args).record_improvement_plan(args.cycle, args.unit, args.year, items)
    except DomainError as e:
        # items[i] is the (i+1)-th row of the table: name it by its STT as well
        named = sorted({m.group(1) for p in e.problems if (m := _ITEM.match(p.field or ""))})
        for i in named:
            print(f"  items[{i}] = dòng STT {items[int(i)].get('leaf')}", file=sys.stderr)
        raise
    return _receipt(
        args, receipt, f"Đã ký kế hoạch năm {args.year} của {args.unit} ({len(items)} tiêu chí)"
    )


_ITEM = re.compile(r"items\[([0-9]+)\]")


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
