"""`parindex serve`: the HTTP API under gunicorn (each worker: app + read-model follower)."""

from __future__ import annotations

import argparse

from application.config import Settings
from interfaces.cli.main import EXIT_FINDINGS, EXIT_OK, add_data_dir, add_json, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="chạy API HTTP / run the HTTP API (gunicorn)")
    add_data_dir(p)
    p.add_argument("--host", default="127.0.0.1", help="địa chỉ lắng nghe / bind address")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=2, help="số tiến trình / worker processes")
    p.add_argument(
        "--threads", type=int, default=None, help="luồng mỗi tiến trình / threads per worker (16)"
    )
    p.add_argument("--timeout", type=int, default=60, help="giây / worker timeout, seconds")
    p.add_argument(
        "--witness-interval",
        type=float,
        default=300.0,
        help="giây giữa hai lần hỏi nhân chứng, 0 = không hỏi định kỳ / seconds between "
        "scheduled asks of the witnesses, 0 = none (docs/API.md)",
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser(
        "rebuild-read-model",
        help="dựng lại dữ liệu đọc từ nhật ký / rebuild the read model from the log",
    )
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=cmd_rebuild)


def cmd_serve(args: argparse.Namespace) -> int:
    from interfaces.http.server import serve

    Settings.load(args.data_dir)  # a clear error now, not one per worker after the fork
    serve(
        args.data_dir,
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout=args.timeout,
        witness_interval=max(0.0, args.witness_interval),
        **({"threads": args.threads} if args.threads else {}),
    )
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Exit 1 when the old read model was ahead of the log: the rebuild is done, but
    the event store went back in time and someone must find out why."""
    from interfaces.http.server import rebuild_read_model

    Settings.load(args.data_dir)
    r = rebuild_read_model(args.data_dir)
    lines = []
    if r["rollback"]:
        lines += [
            f"CẢNH BÁO [{r['rollback']['code']}]: {r['message']['vi']}",
            f"Bản dữ liệu đọc cũ được giữ lại để kiểm toán: {r['kept']}",
        ]
    lines.append(
        f"Đã dựng lại dữ liệu đọc từ nhật ký: {r['events']} sự kiện, vị trí {r['position']}."
    )
    emit(args, r, "\n".join(lines))
    return EXIT_FINDINGS if r["rollback"] else EXIT_OK
