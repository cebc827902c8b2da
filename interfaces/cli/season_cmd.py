"""CLI for the council's close and the ranking versions (docs/SEASON.md).

`parindex close --cycle C` (council chair) closes the cycle's appraisal;
`parindex close --cycle C --unit U [--confirm L1,L2 | --confirm-remaining]`
closes one unit's, confirming as self-scored the leaves listed (or every leaf
that still needs a review, read from the server and shown before signing);
`parindex ranking draft|propose|approve|publish|versions|show|sheet --cycle C`
reads the server's draft, checks it here, and signs it; `--public` reads what
was published without a key.
"""

from __future__ import annotations

import argparse
import uuid

from domain.errors import DomainError
from interfaces.cli import appraisal_cmd, client_cmd, note_cmd, watch_cmd
from interfaces.cli import ranking_views as views
from interfaces.cli.client_cmd import _client, _command, _receipt, _text
from interfaces.cli.main import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = _command(
        sub,
        "close",
        "kết thúc thẩm định (chủ tịch hội đồng): của một đơn vị với --unit, của cả kỳ nếu "
        "không / close a unit's appraisal (--unit) or the cycle's (council chair)",
        cmd_close,
    )
    p.add_argument("--cycle", required=True, help="mã kỳ đánh giá / cycle code")
    p.add_argument("--unit", default=None, help="mã đơn vị (xã) / unit code")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--confirm",
        default=None,
        help="xác nhận theo điểm tự chấm các tiêu chí chưa xem xét, vd. 1.1.1,1.2.3 / "
        "confirm these unreviewed leaves as self-scored",
    )
    g.add_argument(
        "--confirm-remaining",
        action="store_true",
        help="xác nhận theo điểm tự chấm mọi tiêu chí còn phải xem xét (in ra trước khi ký) / "
        "confirm every leaf still needing a review (listed before signing)",
    )
    appraisal_cmd.register(sub)
    note_cmd.register(sub)
    watch_cmd.register(sub)


def ranking_actions(p: argparse.ArgumentParser) -> None:
    """`ranking ACTION`; `ranking --cycle C` alone still reads the live ranking."""
    actions = p.add_subparsers(dest="ranking_command", metavar="ACTION")
    q = _command(actions, "draft", "bảng xếp hạng dự thảo / the draft to propose", cmd_draft)
    _cycle(q)
    q = _command(
        actions,
        "propose",
        "đề xuất xếp hạng (chủ tịch hội đồng) / propose the ranking (council chair)",
        cmd_propose,
    )
    _cycle(q)
    q = _command(
        actions, "approve", "phê duyệt xếp hạng / approve a ranking (approver)", cmd_approve
    )
    _cycle(q)
    _version(q)
    q.add_argument("--decision-number", required=True, help="số quyết định, vd. 1234/QĐ-UBND")
    q.add_argument("--decision-date", required=True, help="ngày quyết định YYYY-MM-DD")
    q = _command(actions, "publish", "công bố xếp hạng / publish an approved ranking", cmd_publish)
    _cycle(q)
    _version(q)
    q = _command(actions, "versions", "các phiên bản xếp hạng / the versions", cmd_versions)
    _cycle(q)
    _public(q)
    client_cmd.as_of_flag(q)
    q = _command(actions, "show", "một phiên bản xếp hạng / one version", cmd_show)
    _cycle(q)
    _version(q)
    _public(q)
    q = _command(
        actions, "sheet", "phiếu đã công bố của một đơn vị / a unit's published sheet", cmd_sheet
    )
    _cycle(q)
    _version(q)
    q.add_argument("--unit", required=True, help="mã đơn vị / unit code")


def _cycle(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cycle", required=True, help="mã kỳ đánh giá / cycle code")


def _version(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", type=int, required=True, help="phiên bản xếp hạng / version")


def _public(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--public",
        action="store_true",
        help="chỉ đọc bản đã công bố, không cần khóa / published only, no key needed",
    )


def cmd_close(args: argparse.Namespace) -> int:
    if args.unit is not None:
        return _close_unit(args)
    if args.confirm is not None or args.confirm_remaining:
        raise DomainError(
            "unit_required",
            "--confirm và --confirm-remaining cần --unit (đơn vị kết thúc thẩm định).",
            "--confirm and --confirm-remaining need --unit (the unit to close).",
            field="unit",
            status=400,
        )
    command = {"type": "close_appraisal", "id": str(uuid.uuid4()), "cycle": args.cycle}
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"Đã kết thúc thẩm định kỳ {args.cycle}")


def _close_unit(args: argparse.Namespace) -> int:
    """Closes one unit; with --confirm-remaining, reads what still needs a review
    and shows it before signing exactly that list."""
    appraisal_cmd.checked(args)
    client = _client(args, reading=args.confirm_remaining)
    if args.confirm_remaining:
        confirm = client.review(args.cycle, args.unit)["needs_review"]
        if not args.json:
            shown = ", ".join(confirm) if confirm else "không còn tiêu chí nào"
            print(f"Xác nhận theo điểm tự chấm {len(confirm)} tiêu chí: {shown}", flush=True)
    else:
        confirm = appraisal_cmd.listed(args.confirm, "confirm")
    receipt = client.close_unit(args.cycle, args.unit, confirm)
    text = f"Đã kết thúc thẩm định {args.unit} (kỳ {args.cycle})"
    if confirm:
        text += f", xác nhận {len(confirm)} tiêu chí theo điểm tự chấm"
    return _receipt(args, {**receipt, "confirmed": confirm}, text)


def cmd_draft(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).ranking_draft(args.cycle)
    emit(args, doc, views.manifest_text(doc["manifest"], doc["digest"], doc.get("bands")))
    return 0


def cmd_propose(args: argparse.Namespace) -> int:
    """Reads the draft, checks it here, signs exactly that manifest."""
    client = _client(args, reading=True)
    doc = client.ranking_draft(args.cycle)
    command = {
        "type": "propose_ranking",
        "id": str(uuid.uuid4()),
        "cycle": args.cycle,
        "manifest": doc["manifest"],
    }
    receipt = client.send(command)
    shown = views.manifest_text(doc["manifest"], doc["digest"], doc.get("bands"))
    return _receipt(args, receipt, f"Đã đề xuất xếp hạng phiên bản {doc['version']}\n{shown}")


def cmd_approve(args: argparse.Namespace) -> int:
    """Reads the proposal, checks its lines against the digest, signs the digest."""
    client = _client(args, reading=True)
    doc = client.ranking_version(args.cycle, args.version)
    if doc["state"] != "proposed":
        raise DomainError(
            "not_proposed",
            f"Phiên bản {args.version} đang ở trạng thái '{doc['state']}'.",
            f"Version {args.version} is '{doc['state']}'.",
            status=409,
        )
    command = {
        "type": "approve_ranking",
        "id": str(uuid.uuid4()),
        "cycle": args.cycle,
        "version": args.version,
        "digest": doc["digest"],
        "decision_number": _text(args.decision_number),
        "decision_date": args.decision_date,
    }
    receipt = client.send(command)
    return _receipt(
        args,
        receipt,
        f"Đã phê duyệt xếp hạng phiên bản {args.version} "
        f"(Quyết định {command['decision_number']} ngày {args.decision_date})",
    )


def cmd_publish(args: argparse.Namespace) -> int:
    command = {
        "type": "publish_ranking",
        "id": str(uuid.uuid4()),
        "cycle": args.cycle,
        "version": args.version,
    }
    receipt = _client(args).send(command)
    return _receipt(
        args,
        receipt,
        f"Đã công bố xếp hạng phiên bản {args.version}; ai cũng đọc được: "
        f"parindex ranking show --public --cycle {args.cycle} --version {args.version}",
    )


def cmd_versions(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).rankings(args.cycle, public=args.public, as_of=args.as_of)
    emit(args, doc, client_cmd.as_of_line(doc) + views.versions_text(doc))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).ranking_version(args.cycle, args.version, public=args.public)
    emit(args, doc, views.version_text(doc))
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).published_sheet(args.cycle, args.version, args.unit)
    emit(args, doc, views.sheet_text(doc))
    return 0
