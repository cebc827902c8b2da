"""`parindex export` and `parindex verify`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from application.audit.bundle import BundleSource, StoreSource, export_bundle
from application.audit.verify import verify
from application.config import CONFIG_FILE
from application.deployment import log_verifier_key, open_app
from application.store.damage import STORE_ERRORS
from application.transparency.cosignature import parse_cosignature_vkey
from application.transparency.note import NoteError
from interfaces.cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, add_json, default_data_dir
from interfaces.http.app import READ_MODEL_FILE
from projections.rebuilder import compare
from projections.rollback import check_file as rollback_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="xuất gói kiểm toán / write an audit bundle")
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--out", required=True, help="tệp .jsonl hoặc .jsonl.gz")
    add_json(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("verify", help="kiểm tra toàn bộ nhật ký / verify the whole log")
    p.add_argument("bundle", nargs="?", help="gói kiểm toán / audit bundle")
    p.add_argument("--data-dir", default=None)
    p.add_argument(
        "--log-key", default=None, help="khóa xác minh nhật ký đã biết (vkey) / pin the log key"
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        help="tệp điểm kiểm tra đã lưu trước đây / a checkpoint you kept",
    )
    add_witness_args(p, "trên điểm kiểm tra mới nhất / on the newest checkpoint")
    p.add_argument("--workers", type=int, default=None)
    add_json(p)
    p.set_defaults(func=cmd_verify)


def add_witness_args(p: argparse.ArgumentParser, where: str) -> None:
    p.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="khóa nhân chứng tin cậy (lặp lại được) / a witness key you trust (repeatable)",
    )
    p.add_argument(
        "--min-witnesses",
        type=int,
        default=None,
        metavar="K",
        help=f"số nhân chứng tối thiểu {where} (mặc định 1 khi có --witness) / witnesses "
        "required (default: 1 with --witness)",
    )


def witness_quorum(args: argparse.Namespace) -> dict | None:
    """{witnesses, min_witnesses} from --witness and --min-witnesses, or None after
    printing why they are unusable (a usage error)."""
    try:
        witnesses = [parse_cosignature_vkey(v) for v in args.witness]
    except NoteError as e:
        print(f"Khóa nhân chứng không hợp lệ / bad witness key: {e}", file=sys.stderr)
        return None
    minimum = args.min_witnesses if args.min_witnesses is not None else min(1, len(witnesses))
    if minimum < 0 or minimum > len(witnesses):
        print(
            "--min-witnesses phải từ 0 đến số --witness / must be between 0 and the number "
            "of --witness keys",
            file=sys.stderr,
        )
        return None
    return {"witnesses": witnesses, "min_witnesses": minimum}


def cmd_export(args: argparse.Namespace) -> int:
    with open_app(args.data_dir) as app:
        r = export_bundle(
            app.tlog, args.out, log_key=log_verifier_key(app), origin=app.settings.origin
        )
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"Đã xuất {r['events']} sự kiện, {r['checkpoints']} điểm kiểm tra vào {r['out']}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    lang = "en" if os.environ.get("PARINDEX_LANG") == "en" else "vi"
    if bool(args.bundle) == bool(args.data_dir):
        print(
            "Cần đúng một nguồn: BUNDLE hoặc --data-dir / give exactly one of BUNDLE or --data-dir",
            file=sys.stderr,
        )
        return EXIT_USAGE
    quorum = witness_quorum(args)
    if quorum is None:
        return EXIT_USAGE
    extra = []
    for path in args.checkpoint:
        try:
            extra.append(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            print(f"Không đọc được {path}: {e}", file=sys.stderr)
            return EXIT_USAGE
    if args.bundle:
        if not Path(args.bundle).is_file():
            print(f"Không có tệp {args.bundle} / no such file", file=sys.stderr)
            return EXIT_USAGE
        report = verify(
            BundleSource(args.bundle),
            log_key=args.log_key,
            workers=args.workers,
            extra_checkpoints=extra,
            **quorum,
        )
    else:
        if not (Path(args.data_dir) / CONFIG_FILE).is_file():
            # Nothing to verify is a usage error (2), not a finding (1).
            print(f"Không có triển khai tại {args.data_dir} / no deployment there", file=sys.stderr)
            return EXIT_USAGE
        with open_app(args.data_dir) as app:
            report = verify(
                StoreSource(app.tlog, app.evidence),
                log_key=args.log_key,
                workers=args.workers,
                extra_checkpoints=extra,
                **quorum,
            )
            read_model = Path(args.data_dir) / READ_MODEL_FILE
            if read_model.exists():
                # The read model a server serves must equal one rebuilt from the log.
                try:
                    # Found first and on its own: the tables then differ as a consequence.
                    rollback = rollback_of(app, read_model)
                    if rollback is not None:
                        report.add(
                            rollback.code,
                            {
                                "position": rollback.position,
                                "log_position": rollback.log_position,
                                "size": rollback.size,
                                "log_size": rollback.log_size,
                            },
                        )
                    diffs = compare(app, read_model)
                except STORE_ERRORS as e:  # the log tables broke: reported above
                    diffs = [
                        {
                            "kind": "read_model_rebuild_failed",
                            "table": None,
                            "position": None,
                            "detail": str(e),
                        }
                    ]
                for diff in diffs:
                    report.add(
                        "read_model_differs",
                        {"table": diff.get("table"), "position": diff.get("position")},
                        diff["kind"],
                    )
    if args.json:
        print(json.dumps(report.as_dict(lang), ensure_ascii=False, indent=2))
    else:
        print(summary(report, lang))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def summary(report, lang: str = "vi") -> str:
    lines = [
        f"Sự kiện đã kiểm tra: {report.events_checked}; kích thước nhật ký: {report.size}",
        f"Điểm kiểm tra đã kiểm tra: {report.checkpoints_checked}",
        f"Gốc Merkle: {report.root}",
        f"Khóa nhật ký: {report.log_key}" + ("" if report.log_key_pinned else " (chưa ghim)"),
    ]
    if report.witnesses is not None:
        w = report.witnesses
        seen = next((c for c in w["checkpoints"] if c["size"] == w["newest"]), None)
        names = ", ".join(seen["witnesses"]) if seen and seen["witnesses"] else "không có / none"
        lines.append(
            f"Nhân chứng trên điểm kiểm tra mới nhất ({w['newest']}): {names}; "
            f"cần ít nhất {w['min']}"
        )
    if report.ok:
        lines.append("KẾT QUẢ: mọi kiểm tra đều đạt.")
    else:
        lines.append(f"KẾT QUẢ: {len(report.findings)} phát hiện:")
        lines.extend("  " + f.text(lang) for f in report.findings)
    return "\n".join(lines)
