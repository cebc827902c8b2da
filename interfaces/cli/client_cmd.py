"""CLI commands that talk to a running server (`parindex serve`) through the HTTP API.

`score set|na`, `evidence add|withdraw|list`, `appraise` sign commands with --key
(the rest of a unit's appraisal season: appraisal_cmd.py, season_cmd.py);
`scores`, `ranking`, `history`, `why` are signed reads. --url (env PARINDEX_URL),
--key (env PARINDEX_KEY), --log-key (env PARINDEX_LOG_KEY: pins the log's
verifier key for `why`). Vietnamese output by default, --json for machines;
any error prints its code and exits 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
import uuid
from collections.abc import Callable

from domain.errors import DomainError
from domain.framework.decimals import parse_exact
from interfaces.cli import client_views as views
from interfaces.cli.main import add_json, emit
from interfaces.client import DEFAULT_URL, Client

_RATIO = re.compile(r"\s*([^/\s]+)\s*/\s*([^/\s]+)\s*")


def register(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser("score", help="tự chấm điểm qua máy chủ / self-score via the server")
    actions = score.add_subparsers(dest="score_command", required=True, metavar="ACTION")
    p = _command(
        actions, "set", "ghi điểm tự chấm một tiêu chí / record a self-score", cmd_score_set
    )
    _leaf(p)
    _value(p)
    p.add_argument("--note", default=None, help="ghi chú / note")
    p = _command(actions, "na", "khai báo không phát sinh / declare not applicable", cmd_score_na)
    _leaf(p)
    p.add_argument("--reason", required=True, help="lý do / reason")

    ev = sub.add_parser("evidence", help="tài liệu kiểm chứng / evidence").add_subparsers(
        dest="evidence_command", required=True, metavar="ACTION"
    )
    p = _command(ev, "add", "nộp minh chứng / attach evidence", cmd_evidence_add)
    _unit(p)
    p.add_argument("--leaves", required=True, help="vd. 1.1.1,1.1.2")
    p.add_argument("--file", default=None, help="tệp đính kèm / file to upload")
    p.add_argument("--number", default=None, help="số, ký hiệu văn bản, vd. 15/KH-UBND")
    p.add_argument("--date", default=None, help="ngày văn bản YYYY-MM-DD")
    p.add_argument("--issuer", default=None, help="cơ quan ban hành / issuer")
    p.add_argument("--title", default=None, help="trích yếu / title")
    p.add_argument("--description", default=None, help="mô tả / description")
    p.add_argument("--id", default=None, help="mã minh chứng (mặc định: tự sinh)")
    p = _command(ev, "withdraw", "rút minh chứng / withdraw evidence", cmd_evidence_withdraw)
    _unit(p)
    p.add_argument("--id", required=True, help="mã minh chứng / evidence id")
    p.add_argument("--reason", required=True)
    p = _command(ev, "list", "danh sách minh chứng / list evidence", cmd_evidence_list)
    _unit(p)

    p = _command(
        sub,
        "appraise",
        "điều chỉnh điểm khi thẩm định (thành viên thẩm định): vòng 1 mọi tiêu chí, vòng 2 "
        "chỉ tiêu chí đã yêu cầu giải trình; điểm cuối cùng là lần điều chỉnh sau cùng / "
        "adjust a score (appraiser): any leaf in round 1, only flagged leaves in round 2; "
        "the last value given is the appraised score",
        cmd_appraise,
    )
    _leaf(p)
    _value(p)
    p.add_argument("--reason", required=True, help="lý do điều chỉnh / reason")
    p.add_argument("--evidence", default=None, help="mã minh chứng, vd. EV1,EV2")

    p = _command(
        sub,
        "submit",
        "nộp hồ sơ tự đánh giá (chủ tịch UBND xã) / submit (commune chair)",
        cmd_submit,
    )
    _unit(p)
    p = _command(
        sub, "withdraw", "rút hồ sơ đã nộp (chủ tịch UBND xã) / withdraw a submission", cmd_withdraw
    )
    _unit(p)
    p.add_argument("--reason", required=True, help="lý do / reason")

    p = _command(sub, "scores", "điểm của một đơn vị / a unit's scores", cmd_scores)
    _unit(p)
    as_of_flag(p)
    p = _command(
        sub,
        "ranking",
        "xếp hạng của kỳ (hiện tại), hoặc: draft, propose, approve, publish, versions, show, "
        "sheet / a cycle's live ranking, or an action on its versions",
        cmd_ranking,
    )
    p.add_argument("--cycle", default=None, help="mã kỳ đánh giá / cycle code")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    from interfaces.cli import season_cmd

    season_cmd.ranking_actions(p)
    p = _command(sub, "history", "lịch sử một tiêu chí / a leaf's history", cmd_history)
    _leaf(p)
    as_of_flag(p)
    p = _command(
        sub, "why", "vì sao có điểm này, có bằng chứng nhật ký / why, with proofs", cmd_why
    )
    _leaf(p)


# -- argument helpers -------------------------------------------------------------------
def _command(
    sub: argparse._SubParsersAction,
    name: str,
    help_: str,
    func: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_)
    p.add_argument(
        "--url",
        default=os.environ.get("PARINDEX_URL", DEFAULT_URL),
        help=f"địa chỉ máy chủ / server URL (env PARINDEX_URL, mặc định {DEFAULT_URL})",
    )
    p.add_argument(
        "--key",
        default=os.environ.get("PARINDEX_KEY"),
        help="tệp khóa cá nhân / your key file (env PARINDEX_KEY)",
    )
    p.add_argument(
        "--log-key",
        default=os.environ.get("PARINDEX_LOG_KEY"),
        help="khóa xác minh nhật ký đã biết / pinned log verifier key",
    )
    witness_flags(p)
    p.add_argument(
        "--position",
        type=int,
        default=None,
        help="đợi tới vị trí nhật ký này (mặc định: mọi thứ đã ghi tới lúc đọc) / "
        "wait for this log position (default: all written so far)",
    )
    add_json(p)
    p.set_defaults(func=_guarded(func))
    return p


def witness_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="khóa nhân chứng tin cậy, lặp lại được (env PARINDEX_WITNESSES) / a witness key "
        "you trust, repeatable",
    )
    p.add_argument(
        "--min-witnesses",
        type=int,
        default=None,
        metavar="K",
        help="chỉ chấp nhận điểm kiểm tra có ít nhất K chữ ký nhân chứng (mặc định 1 khi có "
        "--witness) / accept a checkpoint only with K witness cosignatures",
    )


def _unit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cycle", required=True, help="mã kỳ đánh giá / cycle code")
    p.add_argument("--unit", required=True, help="mã đơn vị (xã) / unit code")


def _leaf(p: argparse.ArgumentParser) -> None:
    _unit(p)
    p.add_argument("--leaf", required=True, help="tiêu chí thành phần, vd. 1.1.1")


def _value(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--points", help="số điểm, vd. 0.75")
    g.add_argument("--done", choices=("yes", "no", "co", "khong"), help="đạt / không đạt")
    g.add_argument("--ratio", help="tỷ lệ tử/mẫu, vd. 978/1000")


def _given(args: argparse.Namespace) -> dict:
    """The score inputs, each checked here as the server will check it (one exact
    decimal text), so a typo is refused with the accepted form before signing."""
    if args.points is not None:
        return {"points": _exact(args.points, "points")}
    if args.done is not None:
        return {"done": args.done in ("yes", "co")}
    m = _RATIO.fullmatch(args.ratio or "")
    if m is None:
        raise DomainError(
            "invalid_ratio",
            "--ratio phải có dạng tử/mẫu, vd. 978/1000.",
            "--ratio must look like numerator/denominator, e.g. 978/1000.",
            field="ratio",
            status=400,
        )
    return {"numerator": _exact(m.group(1), "ratio"), "denominator": _exact(m.group(2), "ratio")}


def _exact(text: str, option: str) -> str:
    parse_exact(text, field=option)
    return text


def _text(value: str | None) -> str | None:
    """Typed text in NFC, the one form the server accepts (a terminal may pass NFD)."""
    return None if value is None else unicodedata.normalize("NFC", value)


def _client(args: argparse.Namespace, *, reading: bool = False) -> Client:
    """A client; for a read, one that waits for every write made before it started
    (the command before it in a script, even from another key), unless --position."""
    lang = "en" if os.environ.get("PARINDEX_LANG", "vi") == "en" else "vi"
    client = Client(
        args.url,
        args.key,
        log_key=args.log_key,
        lang=lang,
        witnesses=args.witness,
        min_witnesses=args.min_witnesses,
    )
    client.last_position = args.position
    if reading and args.position is None:
        client.catch_up()
    return client


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Every failure (refusal, unreachable server, bad proof) prints its code and exits 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except DomainError as e:
            lang = "en" if os.environ.get("PARINDEX_LANG", "vi") == "en" else "vi"
            print(
                f"{'Error' if lang == 'en' else 'Lỗi'} [{e.code}]: {e.message(lang)}",
                file=sys.stderr,
            )
            for p in e.problems:
                d = p.as_dict(lang)
                where = ", ".join(f"{k}={d[k]}" for k in ("field", "row", "column") if k in d)
                print(f"  - [{p.code}] {where}: {d['message']}", file=sys.stderr)
            return 1

    return run


def _receipt(args: argparse.Namespace, receipt: dict, text: str) -> int:
    note = " (đã gửi trước đó)" if receipt.get("replayed") else ""
    emit(
        args,
        receipt,
        f"{text}{note}; vị trí nhật ký {receipt['log_index']}, position {receipt['position']}.",
    )
    return 0


# -- writes -----------------------------------------------------------------------------
def cmd_score_set(args: argparse.Namespace) -> int:
    command = {
        "type": "record_self_score",
        "cycle": args.cycle,
        "unit": args.unit,
        "leaf": args.leaf,
        **_given(args),
    }
    if args.note:
        command["note"] = _text(args.note)
    r = _client(args).send(command)
    return _receipt(args, r, f"Đã ghi điểm tự chấm {args.leaf} cho {args.unit}")


def cmd_score_na(args: argparse.Namespace) -> int:
    r = _client(args).send(
        {
            "type": "declare_not_applicable",
            "cycle": args.cycle,
            "unit": args.unit,
            "leaf": args.leaf,
            "reason": _text(args.reason),
        }
    )
    return _receipt(args, r, f"Đã khai báo {args.leaf} không phát sinh cho {args.unit}")


def cmd_evidence_add(args: argparse.Namespace) -> int:
    client = _client(args)
    evidence_id = args.id or f"ev-{uuid.uuid4().hex[:10]}"
    command: dict = {
        "type": "attach_evidence",
        "cycle": args.cycle,
        "unit": args.unit,
        "evidence_id": evidence_id,
        "leaves": [x.strip() for x in args.leaves.split(",") if x.strip()],
    }
    if args.file:
        try:
            command["file"] = client.upload(args.file)
        except OSError as e:
            raise DomainError(
                "file_unreadable",
                f"Không đọc được tệp: {e}",
                f"Cannot read the file: {e}",
                status=400,
            ) from None
    document = {
        k: _text(getattr(args, k))
        for k in ("number", "date", "issuer", "title")
        if getattr(args, k)
    }
    if document:
        command["document"] = document
    if args.description:
        command["description"] = _text(args.description)
    r = client.send(command)
    return _receipt(
        args, {**r, "evidence_id": evidence_id}, f"Đã nộp minh chứng {evidence_id} cho {args.unit}"
    )


def cmd_evidence_withdraw(args: argparse.Namespace) -> int:
    r = _client(args).send(
        {
            "type": "withdraw_evidence",
            "cycle": args.cycle,
            "unit": args.unit,
            "evidence_id": args.id,
            "reason": _text(args.reason),
        }
    )
    return _receipt(args, r, f"Đã rút minh chứng {args.id}")


def cmd_appraise(args: argparse.Namespace) -> int:
    command = {
        "type": "adjust_score",
        "cycle": args.cycle,
        "unit": args.unit,
        "leaf": args.leaf,
        "reason": _text(args.reason),
        **_given(args),
    }
    if args.evidence:
        command["evidence_ids"] = [x.strip() for x in args.evidence.split(",") if x.strip()]
    r = _client(args).send(command)
    return _receipt(args, r, f"Đã điều chỉnh điểm {args.leaf} của {args.unit}")


# -- reads ------------------------------------------------------------------------------
def cmd_submit(args: argparse.Namespace) -> int:
    """Reads what the submission covers, checks its digest here, signs that."""
    client = _client(args, reading=True)
    doc = client.submission(args.cycle, args.unit)
    content = doc["content"]
    command = {
        "type": "submit_assessment",
        "id": str(uuid.uuid4()),
        "cycle": args.cycle,
        "unit": args.unit,
        "digest": doc["digest"],
        "self_total": content["self_total"],
    }
    receipt = client.send(command)
    return _receipt(args, receipt, views.submitted_text(content, doc["digest"]))


def cmd_withdraw(args: argparse.Namespace) -> int:
    command = {
        "type": "withdraw_submission",
        "id": str(uuid.uuid4()),
        "cycle": args.cycle,
        "unit": args.unit,
        "reason": _text(args.reason),
    }
    receipt = _client(args).send(command)
    return _receipt(args, receipt, f"Đã rút hồ sơ tự đánh giá của {args.unit}")


def cmd_evidence_list(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).evidence_list(args.cycle, args.unit)
    emit(args, doc, views.evidence_text(doc))
    return 0


def as_of_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--as-of",
        default=None,
        help="như tại một thời điểm: vị trí nhật ký hoặc thời gian UTC, vd. "
        "2025-12-20T17:00:00Z / as of a log index or a UTC time",
    )


def as_of_line(doc: dict) -> str:
    """What a read as of a moment says first: where it stands, and its checkpoint."""
    pit = doc.get("point_in_time")
    if not pit:
        return ""
    cp = pit.get("checkpoint") or {}
    return (
        f"Như tại vị trí nhật ký {pit['log_index']} ({views.local_time(pit.get('at'))}); "
        f"điểm kiểm tra bao hàm: {cp.get('size', '-')} sự kiện\n"
    )


def cmd_scores(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).scores(args.cycle, args.unit, args.as_of)
    emit(args, doc, as_of_line(doc) + views.scores_text(doc))
    return 0


def cmd_ranking(args: argparse.Namespace) -> int:
    if not args.cycle:
        raise DomainError(
            "cycle_required",
            "Cần --cycle (mã kỳ đánh giá).",
            "--cycle (the cycle code) is required.",
            status=400,
        )
    doc = _client(args, reading=True).ranking(args.cycle, args.limit, args.offset)
    emit(args, doc, views.ranking_text(doc))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    doc = _client(args, reading=True).history(args.cycle, args.unit, args.leaf, args.as_of)
    emit(args, doc, as_of_line(doc) + views.history_text(doc))
    return 0


def cmd_why(args: argparse.Namespace) -> int:
    """Exit 1 when a value shown differs from what the proven commands give."""
    doc = _client(args, reading=True).why(args.cycle, args.unit, args.leaf)
    lang = "en" if os.environ.get("PARINDEX_LANG", "vi") == "en" else "vi"
    emit(args, doc, views.why_text(doc, lang))
    return 1 if (doc.get("recomputed") or {}).get("mismatches") else 0
