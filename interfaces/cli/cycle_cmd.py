"""`parindex cycle open|list|show`: an assessment cycle, from the command line.

`open` signs an `open_cycle` with the admin's key (--key) for the units listed
in a .csv or .xlsx file (interfaces/cli/units_file.py), checked before signing;
`list` and `show` are signed reads of the cycles the key's scope reaches.
"""

from __future__ import annotations

import argparse
import uuid

from domain.errors import DomainError
from interfaces.cli import client_views as views
from interfaces.cli.client_cmd import _client, _command, _receipt, _text
from interfaces.cli.main import emit
from interfaces.cli.units_file import read_units


def register(sub: argparse._SubParsersAction) -> None:
    cycle = sub.add_parser("cycle", help="kỳ đánh giá / assessment cycles")
    actions = cycle.add_subparsers(dest="cycle_command", required=True, metavar="ACTION")
    p = _command(actions, "open", "mở kỳ đánh giá (quản trị) / open a cycle (admin)", cmd_open)
    p.add_argument("--cycle", required=True, help="mã kỳ, vd. dong-hy-2025 / cycle code")
    p.add_argument("--name", required=True, help="tên kỳ / cycle name")
    p.add_argument("--framework", required=True, help="bộ tiêu chí, vd. thai-nguyen-2021-commune@1")
    p.add_argument("--year", required=True, type=int, help="năm đánh giá / year")
    p.add_argument("--authority", required=True, help="cơ quan thẩm định, vd. dong-hy")
    p.add_argument("--province", required=True, help="tỉnh, vd. thai-nguyen")
    p.add_argument(
        "--units",
        required=True,
        help="tệp .csv hoặc .xlsx có cột mã, tên / .csv or .xlsx with code and name columns",
    )
    _command(actions, "list", "các kỳ đánh giá / the cycles", cmd_list)
    p = _command(actions, "show", "một kỳ đánh giá / one cycle", cmd_show)
    p.add_argument("--cycle", required=True, help="mã kỳ / cycle code")


def cmd_open(args: argparse.Namespace) -> int:
    units = read_units(args.units)
    command = {
        "type": "open_cycle",
        "id": str(uuid.uuid4()),
        "cycle": args.cycle,
        "name": _text(args.name),
        "framework": args.framework,
        "year": args.year,
        "authority": args.authority,
        "province": args.province,
        "units": units,
    }
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"Đã mở kỳ {args.cycle} với {len(units)} đơn vị")


def cmd_list(args: argparse.Namespace) -> int:
    cycles = _client(args, reading=True).cycles()
    emit(args, cycles, views.cycles_text(cycles.get("cycles") or []))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    found = [
        c
        for c in (_client(args, reading=True).cycles().get("cycles") or [])
        if c.get("cycle") == args.cycle
    ]
    if not found:
        raise DomainError(
            "cycle_not_found",
            f"Không tìm thấy kỳ {args.cycle} (hoặc khóa không có quyền xem).",
            f"No cycle {args.cycle} (or the key may not read it).",
            status=404,
        )
    emit(args, found[0], views.cycle_text(found[0]))
    return 0
