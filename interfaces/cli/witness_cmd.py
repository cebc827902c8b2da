"""`parindex witness init|serve|key`: an independent witness (c2sp.org/tlog-witness)."""

from __future__ import annotations

import argparse
from pathlib import Path

from application.transparency.witness_home import init_witness, open_witness
from interfaces.cli.main import EXIT_FINDINGS, EXIT_OK, add_data_dir, add_json, emit


def register(sub: argparse._SubParsersAction) -> None:
    witness = sub.add_parser(
        "witness", help="nhân chứng độc lập ký đồng nhật ký / an independent log witness"
    ).add_subparsers(dest="witness_command", required=True, metavar="ACTION")
    p = witness.add_parser("init", help="tạo khóa và trạng thái / create key and state")
    p.add_argument("--data-dir", required=True, help="thư mục của nhân chứng / witness directory")
    p.add_argument("--name", required=True, help="tên khóa, vd. mttq.example/witness / key name")
    p.add_argument("--log", action="append", default=[], help="vkey của nhật ký / a log's vkey")
    add_json(p)
    p.set_defaults(func=cmd_init)
    p = witness.add_parser("serve", help="chạy nhân chứng HTTP / run the witness over HTTP")
    p.add_argument("--data-dir", required=True, help="thư mục của nhân chứng / witness directory")
    p.add_argument("--log", action="append", default=[], help="vkey của nhật ký / a log's vkey")
    p.add_argument("--listen", default="127.0.0.1:7380", help="HOST:PORT (127.0.0.1:7380)")
    p.set_defaults(func=cmd_serve)
    p = witness.add_parser(
        "use", help="triển khai dùng một nhân chứng / make a deployment use a witness"
    )
    add_data_dir(p)
    p.add_argument("--url", required=True, help="http(s)://máy:cổng của nhân chứng")
    p.add_argument("--vkey", required=True, help="khóa xác minh của nhân chứng / its vkey")
    add_json(p)
    p.set_defaults(func=cmd_use)
    p = witness.add_parser(
        "ask", help="xin các nhân chứng ký đồng điểm kiểm tra mới nhất / ask for cosignatures"
    )
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=cmd_ask)
    p = witness.add_parser("key", help="khóa xác minh của nhân chứng / the witness's vkey")
    p.add_argument("--data-dir", required=True, help="thư mục của nhân chứng / witness directory")
    add_json(p)
    p.set_defaults(func=cmd_key)


def cmd_init(args: argparse.Namespace) -> int:
    vkey = init_witness(args.data_dir, args.name, args.log)
    key_file = Path(args.data_dir) / "witness.key"
    emit(
        args,
        {"vkey": vkey, "key_file": str(key_file), "logs": args.log},
        f"Đã tạo nhân chứng {args.name}. Khóa bí mật: {key_file} (0600).\n"
        f"Khóa xác minh (gửi cho người vận hành nhật ký và kiểm toán viên):\n{vkey}",
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from interfaces.witness.server import serve

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit("parindex witness serve: --listen HOST:PORT")
    serve(args.data_dir, args.log, host.strip("[]"), int(port))
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    witness = open_witness(args.data_dir)
    vkey = witness.cosigner.verifier().vkey
    emit(args, {"vkey": vkey, "logs": sorted(witness.logs)}, vkey)
    return 0


def cmd_use(args: argparse.Namespace) -> int:
    from application.config import Settings
    from application.transparency.witness_client import check_witness_entry

    settings = Settings.load(args.data_dir)
    entry = check_witness_entry(args.url, args.vkey)
    kept = [w for w in settings.witnesses if w.get("vkey") != entry["vkey"]]
    settings.witnesses = [*kept, entry]
    settings.save()
    emit(
        args,
        {"witnesses": settings.witnesses},
        f"Triển khai sẽ xin nhân chứng {args.vkey.split('+')[0]} ({args.url}) ký đồng "
        f"({len(settings.witnesses)} nhân chứng).",
    )
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    """Exit 1 unless every witness cosigned: a witness ahead of the log is a rollback."""
    from application.deployment import open_app
    from application.transparency.witness_client import ask_for_latest

    with open_app(args.data_dir) as app:
        checkpoint, answers = ask_for_latest(app)
    words = {"cosigned": "đã ký đồng", "witness_ahead": "NHẬT KÝ BỊ LÙI", "failed": "lỗi"}
    lines = [f"Điểm kiểm tra kích thước {checkpoint.size}:"]
    for a in answers:
        extra = f" (nhân chứng đã ký kích thước {a.witness_size})" if a.witness_size else ""
        detail = f" [{a.status}] {a.detail}" if a.detail else ""
        lines.append(f"  {a.witness} {a.url}: {words[a.status]}{extra}{detail}")
    if not answers:
        lines.append("  chưa cấu hình nhân chứng nào ('parindex witness use').")
    emit(
        args,
        {"size": checkpoint.size, "answers": [a.as_dict() for a in answers]},
        "\n".join(lines),
    )
    return EXIT_OK if all(a.status == "cosigned" for a in answers) else EXIT_FINDINGS
