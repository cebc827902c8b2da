"""`parindex framework ...`: check, import (publish), install, list, show, export."""

from __future__ import annotations

import argparse
import json

from domain.errors import DomainError
from domain.framework import to_dict
from domain.framework.meta import FrameworkMeta
from interfaces.bundled import BUNDLED, chain, load_bundled
from interfaces.cli.deploy_cmd import submit
from interfaces.cli.main import add_data_dir, add_json, emit
from interfaces.framework_io.check import check_table, format_text, report_of
from interfaces.framework_io.exporter import export
from interfaces.framework_io.importer import parse_table
from interfaces.framework_io.partial import PartialReport
from interfaces.framework_io.show import format_tree, tree_json


def register(sub: argparse._SubParsersAction) -> None:
    fw = sub.add_parser("framework", help="bộ tiêu chí / criteria frameworks").add_subparsers(
        dest="framework_command", required=True, metavar="ACTION"
    )
    p = fw.add_parser("check", help="kiểm tra bảng, không nhập / check a table, import nothing")
    p.add_argument("file")
    p.add_argument(
        "--partial",
        action="store_true",
        help="bảng một phần (kế hoạch khắc phục): kiểm tra từng dòng / a partial table: "
        "check each row, build no tree",
    )
    add_json(p)
    p.set_defaults(func=cmd_check)

    p = fw.add_parser("import", help="nhập và công bố (ký bởi quản trị) / import and publish")
    p.add_argument("file")
    add_data_dir(p)
    add_json(p)
    p.add_argument("--admin-key", required=True)
    p.add_argument(
        "--url",
        default=None,
        help="gửi qua API HTTP thay vì ghi trực tiếp / publish through the HTTP API",
    )
    p.add_argument("--name", required=True)
    p.add_argument("--jurisdiction", required=True)
    p.add_argument("--level", required=True, help="commune | district | province")
    p.add_argument("--year", required=True)
    p.add_argument("--source", default=None, help="văn bản nguồn / source document")
    p.add_argument(
        "--bands", default=None, help="vd. xuat_sac:90,tot:80,kha:70,trung_binh:50,yeu:0"
    )
    p.add_argument("--slug", default=None)
    p.add_argument("--version", default=1)
    p.add_argument("--supersedes", default=None, help="slug@version được thay thế")
    p.set_defaults(func=cmd_import)

    p = fw.add_parser("install", help="cài bộ tiêu chí kèm theo / install a bundled framework")
    p.add_argument("name", choices=sorted(BUNDLED))
    add_data_dir(p)
    add_json(p)
    p.add_argument("--admin-key", required=True)
    p.add_argument(
        "--url",
        default=None,
        help="gửi qua API HTTP thay vì ghi trực tiếp / publish through the HTTP API",
    )
    p.set_defaults(func=cmd_install)

    p = fw.add_parser("list", help="các bộ tiêu chí đã công bố / published frameworks")
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=cmd_list)

    p = fw.add_parser("show", help="xem cây tiêu chí / show the tree")
    p.add_argument("id", help="slug@version")
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=cmd_show)

    p = fw.add_parser("export", help="xuất ra .csv/.xlsx / export to .csv or .xlsx")
    p.add_argument("id")
    add_data_dir(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)


def _mismatch(m) -> dict:
    return m.__dict__ | {
        "typed": str(m.typed),
        "computed": str(m.computed),
        "difference": str(m.difference),
        "rounding": m.rounding,
    }


def cmd_check(args: argparse.Namespace) -> int:
    report = check_table(args.file, partial=True if args.partial else None)
    if isinstance(report, PartialReport):
        if args.json:
            print(
                json.dumps(
                    {
                        "ok": report.ok,
                        "partial": True,
                        "rows": len(report.rows),
                        "score_columns": list(report.score_columns),
                        "mismatches": [_mismatch(m) for m in report.mismatches],
                        "problems": [p.as_dict() for p in report.problems],
                        "warnings": [w.as_dict() for w in report.warnings],
                    },
                    ensure_ascii=False,
                    indent=2,
                    default=str,
                )
            )
        else:
            print(format_text(report))
        return 0 if report.ok else 1
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "nodes": report.nodes,
                    "leaves": report.leaves,
                    "max_total": str(report.max_total),
                    "totals": {k: str(v) for k, v in report.totals.items()},
                    "areas": [
                        {
                            "code": a.code,
                            "label": a.label,
                            "title": a.title,
                            "max_points": str(a.max_points),
                            "scores": {k: str(v) for k, v in a.scores.items()},
                        }
                        for a in report.areas
                    ],
                    "places": report.places,
                    "parent_mismatches": [_mismatch(m) for m in report.mismatches],
                    "warnings": [w.as_dict() for w in report.warnings],
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
    else:
        print(format_text(report))
    return 0 if report.ok else 1


def _publish(args: argparse.Namespace, framework) -> dict:
    command = {"type": "publish_framework", "framework": to_dict(framework)}
    if args.url:
        # The table is parsed and checked here; the server receives the same
        # signed command, so no file has to be trusted to the server.
        from interfaces.client import Client

        receipt = Client(args.url, args.admin_key).send(command)
    else:
        receipt = submit(args.data_dir, args.admin_key, command)
    return {
        "framework": str(framework.id),
        "leaves": len(framework.leaves),
        "max_total": str(framework.max_total),
        "receipt": receipt,
    }


def cmd_import(args: argparse.Namespace) -> int:
    meta = FrameworkMeta.create(
        name=args.name,
        jurisdiction=args.jurisdiction,
        level=args.level,
        year=args.year,
        source=args.source,
        bands=args.bands,
        slug=args.slug,
        version=args.version,
        supersedes=args.supersedes,
    )
    result = parse_table(args.file, meta)
    report = report_of(result)
    out = _publish(args, result.framework)
    out["warnings"] = [w.as_dict() for w in result.warnings]
    emit(
        args,
        out,
        format_text(report) + f"\n\nĐã công bố {out['framework']} "
        f"({out['leaves']} tiêu chí thành phần, {out['max_total']} điểm); "
        f"vị trí nhật ký {out['receipt']['log_index']}.",
    )
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    # A version that supersedes another needs it published first: install the chain.
    for earlier in chain(args.name)[:-1]:
        try:
            _publish(args, load_bundled(earlier))
        except DomainError as e:
            if e.code != "framework_exists":
                raise
    out = _publish(args, load_bundled(args.name))
    emit(
        args,
        out,
        f"Đã cài {out['framework']} ({out['leaves']} tiêu chí thành phần, "
        f"{out['max_total']} điểm); vị trí nhật ký {out['receipt']['log_index']}.",
    )
    return 0


def _framework(args: argparse.Namespace):
    from application.deployment import open_app

    with open_app(args.data_dir) as app:
        framework = app.framework(args.id)
    if framework is None:
        raise DomainError(
            "framework_not_found",
            f"Không có bộ tiêu chí {args.id}.",
            f"No framework {args.id}.",
            status=404,
        )
    return framework


def cmd_list(args: argparse.Namespace) -> int:
    from application.deployment import open_app

    with open_app(args.data_dir) as app:
        rows = []
        for event in app.published_frameworks():
            rows.append(
                {
                    "id": event.framework_id,
                    "name": event.framework["name"],
                    "year": event.framework["year"],
                    "digest": event.digest,
                }
            )
    emit(
        args,
        rows,
        "\n".join(f"{r['id']}  {r['name']} ({r['year']})" for r in rows)
        or "Chưa có bộ tiêu chí nào.",
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    framework = _framework(args)
    print(tree_json(framework) if args.json else format_tree(framework))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    path = export(_framework(args), args.out)
    print(f"Đã xuất {args.id} ra {path}")
    return 0
