"""`parindex demo`: the main job on the embedded default (SQLite, no server needed)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.deployment import open_app
from interfaces.cli.main import EXIT_FINDINGS
from interfaces.demo_season import CORRECTED, CYCLE, LATE, WITHDRAWS, seed


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
    facts = data_dir / "demo.json"
    if (data_dir / "parindex.json").exists():
        print(f"Dùng lại bản demo đã có ở {data_dir} (thêm --fresh để dựng lại).")
        info = json.loads(facts.read_text("utf-8")) if facts.exists() else {}
    else:
        print(f"Đang dựng mùa đánh giá mẫu ở {data_dir} ...", flush=True)
        info = seed(data_dir)
        facts.write_text(json.dumps({"flagged": info["flagged"]}, ensure_ascii=False), "utf-8")
        print(season_text(info))
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
    corrected_at = (info.get("note") or {}).get("change")
    print(next_steps(data_dir, args.host, args.port, info.get("flagged") or {}, corrected_at))
    if args.no_serve:
        return 0
    from interfaces.http.server import serve

    print(f"Đang phục vụ API tại http://{args.host}:{args.port} (Ctrl-C để dừng) ...", flush=True)
    serve(str(data_dir), host=args.host, port=args.port, workers=2, timeout=60)
    return 0


def season_text(info: dict) -> str:
    v1, v2 = info["versions"]
    return (
        f"Đã ghi {info['commands']} lệnh có chữ ký; nhật ký có {info['log_size']} sự kiện.\n"
        f"  - {len(info['communes']) - 1} xã nộp đúng hạn ({WITHDRAWS} rút rồi nộp lại); "
        f"{LATE} ký nộp sau hạn 1 giây: bị từ chối [{info['late_refusal']}], không ghi gì.\n"
        f"  - {info['adjustments']} điều chỉnh vòng 1; {len(info['flagged'])} xã giải trình "
        f"({', '.join(info['flagged'])}), thẩm định lại vòng 2.\n"
        f"  - Hội đồng kết thúc thẩm định; xếp hạng phiên bản 1 ({len(v1['ranked'])} xã xếp hạng, "
        f"{len(v1['unranked'])} không) được phê duyệt và công bố.\n"
        f"  - Thanh tra phát hiện sai sót: điểm {CORRECTED[1]} của {CORRECTED[0]} được điều chỉnh; "
        f"phiên bản 2 được phê duyệt và công bố, phiên bản 1 vẫn đọc được.\n"
        f"  - Ủy ban MTTQ ghi chú giám sát về lần đính chính đó (vị trí nhật ký "
        f"{info['note']['change']}); Chủ tịch Hội đồng đã trả lời."
    )


def next_steps(
    data_dir: Path, host: str, port: int, flagged: dict, corrected_at: int | None = None
) -> str:
    url = f"http://{host}:{port}"
    k = data_dir / "keys"
    unit, leaf = CORRECTED
    explained, leaves = next(iter(flagged.items()), ("nam-hoa", ["1.1.1"]))
    c = f"--cycle {CYCLE}"
    mttq = f"--key {k}/observer-mttq.key"
    before = (corrected_at - 1) if corrected_at else 0
    return f"""
Thử tiếp / What to try next
  API (OpenAPI):       {url}/openapi.json
  Bảng xếp hạng công bố (không cần khóa):
                       {url}/api/v1/public/cycles/{CYCLE}/rankings/2

  # Lệnh parindex nằm ở .venv/bin (hoặc: source .venv/bin/activate)
  export PARINDEX_URL={url}
  # Lịch của kỳ (hạn nộp, giải trình, thẩm định), loại đơn vị, mọi thay đổi:
  parindex cycle show {c} --key {k}/admin.key
  # Tiến độ từng xã: đã nộp, giải trình, vòng thẩm định, đã kết thúc:
  parindex cycle status {c} {mttq}
  # Xếp hạng đã công bố, hai phiên bản (ai cũng đọc được, không cần khóa):
  parindex ranking versions --public {c}
  parindex ranking show --public {c} --version 1
  parindex ranking show --public {c} --version 2
  # Phiếu chấm đã công bố của {unit}, trước và sau khi điều chỉnh:
  parindex ranking sheet {c} --version 1 --unit {unit}
  parindex ranking sheet {c} --version 2 --unit {unit}
  # Điều chỉnh sau công bố, bên cạnh điểm gốc (ai, khi nào, lý do, kết luận thanh tra):
  parindex history {c} --unit {unit} --leaf {leaf} {mttq}
  # Giải trình của {explained}: câu hỏi, trả lời, thẩm định lại vòng 2:
  parindex history {c} --unit {explained} --leaf {leaves[0]} {mttq}
  # {WITHDRAWS} rút hồ sơ rồi nộp lại; {LATE} nộp muộn bị từ chối, không được xếp hạng:
  parindex scores {c} --unit {WITHDRAWS} {mttq}
  parindex scores {c} --unit {LATE} {mttq}
  parindex submit {c} --unit {LATE} --key {k}/chair-{LATE}.key    # bị từ chối
  # Giám sát (MTTQ): mọi thay đổi khi thẩm định trong một lệnh, ai, khi nào, vì sao;
  # trừ điểm lớn, sau công bố; tổng hợp theo thẩm định viên; xuất Excel:
  parindex oversight list {c} {mttq}
  parindex oversight list {c} --large {mttq}
  parindex oversight list {c} --after-publication {mttq}
  parindex oversight summary {c} --by actor --order deducted {mttq}
  parindex oversight list {c} --xlsx giam-sat.xlsx {mttq}
  # Ghi chú giám sát của MTTQ về lần đính chính và trả lời của Hội đồng:
  parindex note list {c} --unit {unit} {mttq}
  # Như tại một thời điểm: điểm của {unit} ngay trước lần đính chính (vị trí nhật ký
  # {before}), xếp hạng khi đó (phiên bản 1 mới công bố):
  parindex scores {c} --unit {unit} --as-of {before} {mttq}
  parindex ranking versions {c} --as-of {before} {mttq}
  # Xã tự theo dõi: mọi thay đổi của xã, tự kiểm chứng từng sự kiện trong nhật ký:
  parindex watch {c} --unit {unit} --all --once --key {k}/officer-{unit}.key
  # Vì sao có điểm này (kèm bằng chứng Merkle, kiểm tra tại máy):
  parindex why {c} --unit {unit} --leaf {leaf} {mttq}
  # Biểu mẫu Excel/Word (Phụ lục I của {unit}, Phụ lục II phiên bản 2), tự kiểm chứng:
  parindex document sheet {c} --unit {unit} --out phu-luc-1-{unit}.xlsx --data-dir {data_dir}
  parindex document ranking {c} --version 2 --out phu-luc-2.docx --data-dir {data_dir}
  parindex verify-document phu-luc-1-{unit}.xlsx --data-dir {data_dir}
  #   qua API, không cần khóa:
  #   {url}/api/v1/public/cycles/{CYCLE}/rankings/2/documents/ranking-table.xlsx
  # Kiểm toán độc lập, không cần máy chủ:
  parindex export --data-dir {data_dir} --out audit.jsonl.gz && parindex verify audit.jsonl.gz
"""
