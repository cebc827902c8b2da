"""`parindex oversight list|summary`: who changed what, when and why (issue 9).

    parindex oversight list --cycle C [--unit U] [--leaf L] [--actor KEY] [--round N]
        [--kind K] [--min-change 0.5] [--after-deadline] [--after-approval]
        [--after-publication] [--large [--large-share 0.5]] [--csv F | --xlsx F] --key K
    parindex oversight summary --cycle C --by actor|unit|leaf|area [--order deducted] [--as-of T]

Without --cycle: every cycle the key reaches (--cycle may be repeated). A table in
Vietnamese, --json for machines, or every matching row written to a .csv or
.xlsx file (interfaces/cli/oversight_export.py keeps hostile text inert).
"""

from __future__ import annotations

import argparse
import re

from domain.errors import DomainError
from interfaces.cli import client_cmd
from interfaces.cli import oversight_export as export
from interfaces.cli import oversight_views as views
from interfaces.cli.client_cmd import _client, _command
from interfaces.cli.main import emit

_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,4})?")
KINDS = (
    "adjustment",
    "confirmation",
    "explanation_request",
    "explanation_answer",
    "unit_closed",
    "correction",
    "submission_withdrawn",
    "deadline_extended",
)
FLAGS = {
    "after_submission": "chỉ thay đổi khi đơn vị đang nộp hồ sơ / made while submitted",
    "after_deadline": "chỉ thay đổi ký sau hạn áp dụng / signed after its deadline",
    "after_approval": "chỉ sau khi phê duyệt xếp hạng / after a ranking's approval",
    "after_publication": "chỉ sau khi công bố xếp hạng / after a ranking's publication",
    "large": "chỉ các lần trừ điểm lớn / large deductions only",
}


def register(sub: argparse._SubParsersAction) -> None:
    actions = sub.add_parser(
        "oversight",
        help="giám sát: mọi thay đổi khi thẩm định, ai, khi nào, vì sao / oversight",
    ).add_subparsers(dest="oversight_command", required=True, metavar="ACTION")
    p = _command(
        actions,
        "list",
        "các thay đổi theo thứ tự nhật ký, có bộ lọc / the changes in log order, filtered",
        cmd_list,
    )
    _common(p)
    p.add_argument("--unit", default=None, help="mã đơn vị / unit code")
    p.add_argument("--leaf", default=None, help="tiêu chí thành phần, vd. 1.1.1")
    p.add_argument("--actor", default=None, help="mã khóa người thực hiện / key id")
    p.add_argument("--round", type=int, choices=(1, 2), default=None, help="vòng thẩm định")
    p.add_argument("--kind", choices=KINDS, default=None, help="loại thay đổi / kind")
    p.add_argument("--min-change", default=None, help="thay đổi ít nhất, vd. 0.5 (điểm)")
    client_cmd.as_of_flag(p)
    for flag, help_ in FLAGS.items():
        p.add_argument(f"--{flag.replace('_', '-')}", action="store_true", default=None, help=help_)
    p.add_argument(
        "--large-share", default=None, help="ngưỡng trừ lớn: phần của điểm tối đa (mặc định 0.5)"
    )
    p = _command(
        actions,
        "summary",
        "tổng hợp theo người thực hiện, đơn vị, tiêu chí / sums per actor, unit, criterion",
        cmd_summary,
    )
    _common(p)
    p.add_argument("--by", choices=("actor", "unit", "leaf", "area"), default="actor")
    p.add_argument("--order", choices=("key", "changes", "deducted", "added"), default="key")
    client_cmd.as_of_flag(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cycle",
        action="append",
        default=None,
        help="mã kỳ (lặp lại được); mặc định: mọi kỳ trong phạm vi của khóa",
    )
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", default=None, metavar="FILE", help="ghi mọi dòng ra tệp .csv")
    out.add_argument("--xlsx", default=None, metavar="FILE", help="ghi mọi dòng ra tệp .xlsx")


def _cycles(args: argparse.Namespace) -> str | list[str] | None:
    cycles = args.cycle or []
    return cycles[0] if len(cycles) == 1 else cycles or None


def _decimal(text: str | None, option: str) -> str | None:
    if text is not None and not _DECIMAL.fullmatch(text):
        raise DomainError(
            "invalid_decimal",
            f"--{option} phải là số thập phân dạng 0.5 (tối đa 4 chữ số thập phân).",
            f"--{option} must be a decimal such as 0.5 (at most 4 places).",
            field=option,
            status=400,
        )
    return text


def _file(args: argparse.Namespace) -> str | None:
    return args.csv or args.xlsx


def cmd_list(args: argparse.Namespace) -> int:
    filters = {
        "unit": args.unit,
        "leaf": args.leaf,
        "actor": args.actor,
        "round": args.round,
        "kind": args.kind,
        "min_change": _decimal(args.min_change, "min-change"),
        "large_share": _decimal(args.large_share, "large-share"),
        "as_of": args.as_of,
        **{flag: getattr(args, flag) for flag in FLAGS},
    }
    client = _client(args, reading=True)
    target = _file(args)
    if target:
        changes = client.oversight_rows(_cycles(args), **filters)
        path = export.write(
            target, export.CHANGE_HEADER, export.change_rows(changes), export.CHANGE_NUMBERS
        )
        emit(args, {"file": str(path), "rows": len(changes)}, _written(path, len(changes)))
        return 0
    doc = client.oversight(_cycles(args), limit=args.limit, offset=args.offset, **filters)
    emit(args, doc, client_cmd.as_of_line(doc) + views.changes_text(doc))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    client = _client(args, reading=True)
    cycles = _cycles(args)
    target = _file(args)
    if target:
        rows: list[dict] = []
        as_of = args.as_of
        while True:
            page = client.oversight_summary(
                cycles, args.by, order=args.order, limit=1000, offset=len(rows), as_of=as_of
            )
            if page.get("point_in_time"):  # every page at the index the first resolved
                as_of = str(page["point_in_time"]["log_index"])
            rows.extend(page["rows"])
            if not page["rows"] or len(rows) >= page["total"]:
                break
        path = export.write(
            target, export.SUMMARY_HEADER, export.summary_rows(rows), export.SUMMARY_NUMBERS
        )
        emit(args, {"file": str(path), "rows": len(rows)}, _written(path, len(rows)))
        return 0
    doc = client.oversight_summary(
        cycles, args.by, order=args.order, limit=args.limit, offset=args.offset, as_of=args.as_of
    )
    emit(args, doc, client_cmd.as_of_line(doc) + views.summary_text(doc))
    return 0


def _written(path: object, count: int) -> str:
    return f"Đã ghi {count} dòng vào {path}."
