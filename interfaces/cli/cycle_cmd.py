"""`parindex cycle open|list|show|status|extend|add-units|merge|link`: an assessment
cycle, from the command line.

`open` signs an `open_cycle` with the admin's key (--key) for the units listed
in a .csv or .xlsx file (interfaces/cli/units_file.py), checked before signing,
with its schedule when given: the appraising level, the rounds and the
deadlines. `extend`, `add-units` and `merge` change a running cycle's
calendar and units (docs/SEASON.md, "The calendar"). `list`, `show` and
`status` (where the cycle and each unit stand: stage, leaves scored,
explanations, deadlines; `--unit` for one) are signed reads of the cycles the
key's scope reaches.

A time is typed either as an RFC 3339 UTC time (`2025-11-30T16:59:59Z`) or
as a date, `2025-11-30` or `30/11/2025`, which means the end of that day in
Vietnam: 23:59:59 Asia/Ho_Chi_Minh (UTC+7), signed as `2025-11-30T16:59:59Z`.
"""

from __future__ import annotations

import argparse
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

from domain.errors import DomainError
from domain.schedule import DEADLINES, LEVELS, parse_time
from interfaces.cli import client_views as views
from interfaces.cli import past_cmd
from interfaces.cli.client_cmd import _client, _command, _receipt, _text
from interfaces.cli.main import emit
from interfaces.cli.units_file import read_units, unit_type

VN = timezone(timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_KINDS = ", ".join(DEADLINES)


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
        help="tệp .csv hoặc .xlsx có cột mã, tên (và loại) / .csv or .xlsx with code, name "
        "(and type) columns",
    )
    p.add_argument(
        "--level",
        choices=tuple(LEVELS),
        help="cấp thẩm định: district (huyện) hoặc province (tỉnh) / appraising level",
    )
    p.add_argument(
        "--rounds", type=int, choices=(1, 2), help="số vòng thẩm định (mặc định 2) / rounds"
    )
    p.add_argument(
        "--deadline",
        action="append",
        default=[],
        metavar="KIND=TIME",
        help=f"một hạn ({_KINDS}) = thời điểm UTC (…Z) hoặc ngày YYYY-MM-DD / DD/MM/YYYY "
        "(23:59:59 giờ Việt Nam); lặp lại cho mỗi hạn / repeat per deadline",
    )
    _command(actions, "list", "các kỳ đánh giá / the cycles", cmd_list)
    p = _command(actions, "show", "một kỳ đánh giá / one cycle", cmd_show)
    p.add_argument("--cycle", required=True, help="mã kỳ / cycle code")

    p = _command(
        actions,
        "status",
        "tiến độ kỳ, từng đơn vị / where the cycle and each unit stand",
        cmd_status,
    )
    p.add_argument("--cycle", required=True, help="mã kỳ / cycle code")
    p.add_argument("--unit", help="chỉ một đơn vị / one unit only")
    p.add_argument("--limit", type=int, default=100, help="số đơn vị mỗi trang / page size")
    p.add_argument("--offset", type=int, default=0, help="bỏ qua / skip")

    p = _command(
        actions, "extend", "gia hạn một hạn (quản trị) / extend a deadline (admin)", cmd_extend
    )
    p.add_argument("cycle", metavar="CYCLE", help="mã kỳ / cycle code")
    p.add_argument("--deadline", required=True, choices=tuple(DEADLINES), help="loại hạn / kind")
    p.add_argument(
        "--until",
        required=True,
        metavar="TIME",
        help="hạn mới: thời điểm UTC (…Z) hoặc ngày (23:59:59 giờ Việt Nam) / new time",
    )
    p.add_argument("--unit", help="chỉ cho một đơn vị / for one unit only")
    p.add_argument("--reason", required=True, help="lý do / reason")

    p = _command(actions, "add-units", "thêm đơn vị (quản trị) / add units (admin)", cmd_add_units)
    p.add_argument("cycle", metavar="CYCLE", help="mã kỳ / cycle code")
    p.add_argument("file", metavar="FILE", help="tệp .csv hoặc .xlsx như khi mở kỳ / unit file")
    p.add_argument("--reason", required=True, help="lý do / reason")

    p = _command(actions, "merge", "sáp nhập đơn vị (quản trị) / merge units (admin)", cmd_merge)
    p.add_argument("cycle", metavar="CYCLE", help="mã kỳ / cycle code")
    p.add_argument("--units", required=True, help="các mã, cách nhau dấu phẩy / codes, a,b")
    p.add_argument("--into-code", required=True, help="mã đơn vị mới / new unit's code")
    p.add_argument("--into-name", required=True, help="tên đơn vị mới / new unit's name")
    p.add_argument("--into-type", help="xã, phường, thị trấn, đặc khu")
    p.add_argument("--reason", required=True, help="lý do / reason")
    past_cmd.register_link(actions)


def signed_time(text: str, field: str) -> str:
    """A typed time as the command signs it: RFC 3339 UTC with Z; a date is the
    end of that day in Vietnam (23:59:59 UTC+7)."""
    text = text.strip()
    day = None
    m = _ISO_DATE.fullmatch(text)
    if m is not None:
        day = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _VN_DATE.fullmatch(text)
    if m is not None:
        day = (int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if day is not None:
        try:
            end = datetime(*day, 23, 59, 59, tzinfo=VN)
        except ValueError:
            day = None
        else:
            return end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        parse_time(text, field)
    except DomainError as e:
        raise DomainError(
            "invalid_time",
            f"'{field}': cần thời điểm UTC (2025-11-30T16:59:59Z) hoặc ngày "
            "(2025-11-30 hay 30/11/2025, hết ngày theo giờ Việt Nam).",
            f"'{field}': give a UTC time (2025-11-30T16:59:59Z) or a date "
            "(2025-11-30 or 30/11/2025, the end of that day in Vietnam).",
            field=field,
            status=400,
        ) from e
    return text


def _deadlines(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        kind, sep, when = item.partition("=")
        kind = kind.strip()
        if not sep or kind not in DEADLINES:
            raise DomainError(
                "invalid_deadline",
                f"--deadline cần dạng LOẠI=THỜI_ĐIỂM, LOẠI là một trong: {_KINDS}.",
                f"--deadline takes KIND=TIME, KIND one of: {_KINDS}.",
                field="deadline",
                status=400,
            )
        if kind in out:
            raise DomainError(
                "invalid_deadline",
                f"--deadline {kind} được nêu hai lần.",
                f"--deadline {kind} is given twice.",
                field="deadline",
                status=400,
            )
        out[kind] = signed_time(when, f"deadlines.{kind}")
    return out


def cmd_open(args: argparse.Namespace) -> int:
    units = read_units(args.units)
    deadlines = _deadlines(args.deadline)
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
    if args.level is not None:
        command["level"] = args.level
    if args.rounds is not None:
        command["rounds"] = args.rounds
    if deadlines:
        command["deadlines"] = deadlines
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"Đã mở kỳ {args.cycle} với {len(units)} đơn vị")


def cmd_extend(args: argparse.Namespace) -> int:
    until = signed_time(args.until, "until")
    command = {
        "type": "extend_deadline",
        "cycle": args.cycle,
        "deadline": args.deadline,
        "until": until,
        "reason": _text(args.reason),
    }
    if args.unit:
        command["unit"] = args.unit
    receipt = _client(args).send(command)
    whose = f" của {args.unit}" if args.unit else ""
    return _receipt(
        args,
        receipt,
        f"Đã gia hạn {DEADLINES[args.deadline][0]}{whose} (kỳ {args.cycle}) "
        f"tới {views.local_time(until)}",
    )


def cmd_add_units(args: argparse.Namespace) -> int:
    units = read_units(args.file)
    receipt = _client(args).send(
        {"type": "add_units", "cycle": args.cycle, "units": units, "reason": _text(args.reason)}
    )
    return _receipt(args, receipt, f"Đã thêm {len(units)} đơn vị vào kỳ {args.cycle}")


def cmd_merge(args: argparse.Namespace) -> int:
    codes = [c.strip() for c in args.units.split(",") if c.strip()]
    into = {"code": args.into_code.strip(), "name": _text(args.into_name.strip())}
    if args.into_type:
        into["type"] = unit_type(args.into_type)
    receipt = _client(args).send(
        {
            "type": "merge_units",
            "cycle": args.cycle,
            "units": codes,
            "into": into,
            "reason": _text(args.reason),
        }
    )
    return _receipt(
        args, receipt, f"Đã sáp nhập {', '.join(codes)} thành {into['code']} (kỳ {args.cycle})"
    )


def cmd_list(args: argparse.Namespace) -> int:
    cycles = _client(args, reading=True).cycles()
    emit(args, cycles, views.cycles_text(cycles.get("cycles") or []))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    found = _client(args, reading=True).cycle(args.cycle)
    emit(args, found, views.cycle_text(found))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    client = _client(args, reading=True)
    if args.unit:
        doc = client.unit_status(args.cycle, args.unit)
        emit(args, doc, views.unit_status_text(doc))
    else:
        doc = client.cycle_status(args.cycle, args.limit, args.offset)
        emit(args, doc, views.cycle_status_text(doc))
    return 0
