"""`parindex past import|show` and `parindex cycle link`: year on year
(docs/SEASON.md "Year on year").

`past import FILE` reads a published results table, a unit's scoring sheet
(`--unit`) or the ranking table (`--ranking`), shows what it read, and signs
`import_past_results` with the admin's key: the figures as published and the
file's SHA-256. `past show` reads a past cycle back (no key needed).
`cycle link` signs `link_previous_cycle`: the cycle it is compared with and,
from a two-column file (this code, previous code; an empty previous code
means "none"), the code and unit maps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from domain.errors import DomainError
from domain.framework.decimals import display
from interfaces.cli.client_cmd import _client, _command, _receipt, _text
from interfaces.cli.main import emit
from interfaces.framework_io import past_results
from interfaces.framework_io.reader import read_rows


def register(sub: argparse._SubParsersAction) -> None:
    past = sub.add_parser("past", help="kết quả các năm trước / past years' results")
    actions = past.add_subparsers(dest="past_command", required=True, metavar="ACTION")
    p = _command(
        actions,
        "import",
        "nhập bảng kết quả đã công bố (quản trị) / import a published results table (admin)",
        cmd_import,
    )
    p.add_argument("file", metavar="FILE", help="tệp .xlsx hoặc .csv đã công bố / published file")
    p.add_argument("--cycle", required=True, help="mã kỳ trước, vd. dong-hy-2023 / code")
    p.add_argument("--name", required=True, help="tên kỳ / name")
    p.add_argument("--year", required=True, type=int, help="năm / year")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--unit", help="bảng điểm của một đơn vị (Phụ lục I) / one unit's sheet")
    kind.add_argument(
        "--ranking", action="store_true", help="bảng xếp hạng (Phụ lục II) / the ranking table"
    )
    p.add_argument("--unit-name", help="tên đơn vị (với --unit) / the unit's name")
    p.add_argument("--column", help="cột điểm cần nhập, vd. achieved_2023 / score column")
    p.add_argument("--reason", help="lý do khi nhập lại / why, when restating figures")
    p.add_argument("--dry-run", action="store_true", help="chỉ đọc và in / read and show only")

    p = _command(actions, "show", "một kỳ trước đã nhập / one imported past cycle", cmd_show)
    p.add_argument("cycle", metavar="CYCLE", help="mã kỳ / code")


def register_link(actions: argparse._SubParsersAction) -> None:
    p = _command(
        actions,
        "link",
        "nêu kỳ năm trước để so sánh (quản trị) / name the previous cycle (admin)",
        cmd_link,
    )
    p.add_argument("cycle", metavar="CYCLE", help="mã kỳ / cycle code")
    p.add_argument("--previous", required=True, help="mã kỳ năm trước / previous cycle")
    p.add_argument(
        "--code-map", help="tệp 2 cột: mã năm nay, mã năm trước / this code, previous code"
    )
    p.add_argument("--unit-map", help="tệp 2 cột: mã đơn vị năm nay, năm trước / units")
    p.add_argument("--reason", required=True, help="lý do / reason")


def cmd_import(args: argparse.Namespace) -> int:
    sha = past_results.sha256_of(args.file)
    if args.ranking:
        units, skipped = past_results.read_ranking(args.file)
        text = (
            f"Đọc {len(units)} đơn vị từ bảng xếp hạng (bỏ qua {skipped} dòng không có mã "
            "hoặc không có điểm, thứ hạng)"
        )
    else:
        if not args.unit_name:
            raise DomainError(
                "unit_name_required",
                "Cần --unit-name (tên đơn vị) khi nhập bảng điểm của một đơn vị.",
                "--unit-name is required with --unit.",
                field="unit_name",
                status=400,
            )
        figures = past_results.read_sheet(args.file, args.year, args.column)
        units = [
            {
                "unit": args.unit,
                "name": _text(args.unit_name),
                "total": figures.total,
                "scores": figures.scores,
            }
        ]
        text = (
            f"Đọc cột {figures.column}: {len(figures.scores)} tiêu chí, tổng {figures.total} "
            "(cộng từ các tiêu chí thành phần)"
        )
        for m in figures.mismatches:
            kind = "làm tròn" if m.rounding else "SAI"
            where = m.code or "Tổng cộng"
            text += (
                f"\n  Dòng {m.row} ({where}): bảng ghi {m.typed}, cộng lại {m.computed} "
                f"(chênh {m.difference}; {kind})"
            )
    command = {
        "type": "import_past_results",
        "cycle": args.cycle,
        "name": _text(args.name),
        "year": args.year,
        "source": {"file_name": _text(Path(args.file).name), "sha256": sha},
        "units": units,
    }
    if args.reason:
        command["reason"] = _text(args.reason)
    if args.dry_run:
        emit(args, command, f"{text}\nSHA-256 {sha}\n(chưa ký: --dry-run)")
        return 0
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"{text}\nĐã nhập vào kỳ {args.cycle} (SHA-256 {sha})")


def cmd_show(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).past_cycle(args.cycle)
    lines = [
        f"Kỳ {doc['cycle']}: {doc['name']} (năm {doc['year']}), nhập từ bảng đã công bố",
        f"  {doc['unit_count']} đơn vị; các lần nhập:",
    ]
    for i in doc["imports"]:
        reason = f"; lý do: {i['reason']}" if i.get("reason") else ""
        lines.append(
            f"    {i['source']['file_name']} (SHA-256 {i['source']['sha256']}): "
            f"{i['units']} đơn vị, vị trí nhật ký {i['leaf_index']}{reason}"
        )
    for u in doc["units"]:
        total = display(None) if u["total"] is None else u["total"]
        rank = "-" if u["rank"] is None else u["rank"]
        scored = f"; {len(u['scores'])} tiêu chí" if u.get("scores") else ""
        lines.append(f"  {u['unit']:<24} {total:>9}  hạng {rank:<5} {u['name']}{scored}")
    emit(args, doc, "\n".join(lines))
    return 0


def read_map(path: str) -> dict[str, str | None]:
    """Two columns, the first row a header: this code, the previous code (empty: none)."""
    rows = [r for r in read_rows(path) if any(c.strip() for c in r.cells)]
    out: dict[str, str | None] = {}
    for raw in rows[1:]:
        this = raw.cells[0].strip() if raw.cells else ""
        before = raw.cells[1].strip() if len(raw.cells) > 1 else ""
        if not this:
            continue
        if this in out:
            raise DomainError(
                "duplicate_code",
                f"Dòng {raw.number}: mã '{this[:40]}' đã có ở dòng trước.",
                f"Row {raw.number}: code '{this[:40]}' is listed twice.",
                field=path,
                status=400,
            )
        out[this] = before or None
    return out


def cmd_link(args: argparse.Namespace) -> int:
    command = {
        "type": "link_previous_cycle",
        "cycle": args.cycle,
        "previous": args.previous,
        "reason": _text(args.reason),
    }
    if args.code_map:
        command["code_map"] = read_map(args.code_map)
    if args.unit_map:
        command["unit_map"] = read_map(args.unit_map)
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"Kỳ {args.cycle} so sánh với kỳ {args.previous}")
