"""`parindex demo`: the main job on the embedded default (SQLite, no server needed)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.deployment import open_app
from interfaces.cli.main import EXIT_FINDINGS
from interfaces.demo_season import CYCLE, STILL_SCORING, seed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="dựng mùa đánh giá mẫu và phục vụ API / demo season + API")
    p.add_argument("--data-dir", default="parindex-demo")
    p.add_argument("--fresh", action="store_true", help="xóa và dựng lại / start over")
    p.add_argument("--no-serve", action="store_true", help="không chạy máy chủ / don't serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    if args.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    if (data_dir / "parindex.json").exists():
        print(f"Dùng lại bản demo đã có ở {data_dir} (thêm --fresh để dựng lại).")
        info = None
    else:
        print(f"Đang dựng mùa đánh giá mẫu ở {data_dir} ...", flush=True)
        info = seed(data_dir)
        print(
            f"Đã ghi {info['commands']} lệnh có chữ ký ({info['adjustments']} điều chỉnh "
            f"thẩm định); nhật ký có {info['log_size']} sự kiện."
        )
    with open_app(data_dir) as app:
        report = verify(StoreSource(app.tlog, app.evidence))
    print(
        f"parindex verify: {report.events_checked} sự kiện, "
        + ("mọi kiểm tra đều đạt." if report.ok else f"{len(report.findings)} phát hiện!")
    )
    if not report.ok:
        for f in report.findings[:20]:
            print("  " + f.text())
        return EXIT_FINDINGS
    print(next_steps(data_dir, args.host, args.port))
    if args.no_serve:
        return 0
    from interfaces.http.server import serve

    print(f"Đang phục vụ API tại http://{args.host}:{args.port} (Ctrl-C để dừng) ...", flush=True)
    serve(str(data_dir), host=args.host, port=args.port, workers=2, timeout=60)
    return 0


def next_steps(data_dir: Path, host: str, port: int) -> str:
    url = f"http://{host}:{port}"
    k = data_dir / "keys"
    unit = "hoa-thuong"
    open_unit = STILL_SCORING  # the one commune that has not submitted yet
    return f"""
Thử tiếp / What to try next
  API (OpenAPI):       {url}/openapi.json
  Bộ tiêu chí:         {url}/api/v1/frameworks/thai-nguyen-2021-commune@1
  Điểm kiểm tra:       {url}/api/v1/log/checkpoint

  # Lệnh parindex nằm ở .venv/bin (hoặc: source .venv/bin/activate)
  export PARINDEX_URL={url}
  # Xếp hạng tạm thời (MTTQ xem):
  parindex ranking --cycle {CYCLE} --key {k}/observer-mttq.key
  # Điểm của xã Hóa Thượng:
  parindex scores --cycle {CYCLE} --unit {unit} --key {k}/observer-mttq.key
  # Xã Tân Lợi chưa nộp: công chức xã tự chấm lại tiêu chí 1.1.1, kèm văn bản
  # (các xã đã nộp bị khóa điểm tự chấm):
  parindex score set --cycle {CYCLE} --unit {open_unit} --leaf 1.1.1 --points 1 \\
      --note "Kế hoạch 15/KH-UBND ban hành đúng hạn" --key {k}/officer-{open_unit}.key
  parindex evidence add --cycle {CYCLE} --unit {open_unit} --leaves 1.1.1 \\
      --number 15/KH-UBND --date 2025-01-10 --issuer "UBND xã Tân Lợi" \\
      --key {k}/officer-{open_unit}.key
  # Tổ giúp việc thẩm định điều chỉnh, bắt buộc nêu lý do:
  parindex appraise --cycle {CYCLE} --unit {unit} --leaf 1.1.1 --points 0.5 \\
      --reason "Kế hoạch ban hành chậm" --key {k}/appraiser-1.key
  # Vì sao điểm thay đổi (kèm bằng chứng Merkle, kiểm tra tại máy):
  parindex history --cycle {CYCLE} --unit {unit} --leaf 1.1.1 --key {k}/observer-mttq.key
  parindex why --cycle {CYCLE} --unit {unit} --leaf 1.1.1 --key {k}/observer-mttq.key
  # Kiểm toán độc lập, không cần máy chủ:
  parindex export --data-dir {data_dir} --out audit.jsonl.gz && parindex verify audit.jsonl.gz
"""
