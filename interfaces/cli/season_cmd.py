"""CLI for the council's close and the ranking versions (docs/SEASON.md).

`parindex close --cycle C` (council chair) closes the cycle's appraisal;
`parindex ranking draft|propose|approve|publish|versions|show|sheet --cycle C`
reads the server's draft, checks it here, and signs it; `--public` reads what
was published without a key.
"""

from __future__ import annotations

import argparse
import uuid

from domain.errors import DomainError
from interfaces.cli import ranking_views as views
from interfaces.cli.client_cmd import _client, _command, _receipt, _text
from interfaces.cli.main import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = _command(
        sub,
        "close",
        "kết thúc thẩm định của kỳ (chủ tịch hội đồng) / close the cycle's appraisal",
        cmd_close,
    )
    p.add_argument("--cycle", required=True, help="mã kỳ đánh giá / cycle code")


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
    command = {"type": "close_appraisal", "id": str(uuid.uuid4()), "cycle": args.cycle}
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"Đã kết thúc thẩm định kỳ {args.cycle}")


def cmd_draft(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).ranking_draft(args.cycle)
    emit(args, doc, views.manifest_text(doc["manifest"], doc["digest"]))
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
    shown = views.manifest_text(doc["manifest"], doc["digest"])
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
    doc = _client(args, reading=True).rankings(args.cycle, public=args.public)
    emit(args, doc, views.versions_text(doc))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).ranking_version(args.cycle, args.version, public=args.public)
    emit(args, doc, views.version_text(doc))
    return 0


def cmd_sheet(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).published_sheet(args.cycle, args.version, args.unit)
    emit(args, doc, views.sheet_text(doc))
    return 0
