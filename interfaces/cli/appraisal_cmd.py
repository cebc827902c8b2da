"""CLI for one unit's appraisal season (docs/SEASON.md, "One unit's states").

`parindex confirm` (appraiser) accepts a self-score as it stands;
`parindex explain request|answer|submit` runs the explanation between the two
rounds (appraiser asks; commune officer or chair answers, optionally revising
the self-score; the commune chair submits); `parindex review` shows what a
unit's close must still review; `parindex correct` (appraiser) corrects a leaf
of a closed unit after publication. `parindex close --unit` is in season_cmd.

What is typed is checked here as the server will check it (leaf codes,
evidence ids, text: printable, NFC, at most 4,000 characters) before anything
is signed; the server checks it again.
"""

from __future__ import annotations

import argparse

from domain.errors import Problem, ValidationFailed
from domain.ids import CODE, EVIDENCE_ID, LEAF, id_problem
from domain.text import NOTE, text_problems
from interfaces.cli import client_cmd
from interfaces.cli.client_cmd import _client, _command, _receipt, _text
from interfaces.cli.main import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = _command(
        sub,
        "confirm",
        "xác nhận điểm tự chấm khi thẩm định (thành viên thẩm định) / confirm a self-score "
        "as it stands (appraiser)",
        cmd_confirm,
    )
    _leaf(p)
    p.add_argument("--note", default=None, help="ghi chú / note")

    explain = sub.add_parser(
        "explain", help="giải trình giữa hai vòng thẩm định / the explanation between rounds"
    ).add_subparsers(dest="explain_command", required=True, metavar="ACTION")
    p = _command(
        explain,
        "request",
        "yêu cầu giải trình một tiêu chí (thành viên thẩm định, vòng 1) / ask the commune "
        "to explain a leaf (appraiser, round 1)",
        cmd_request,
    )
    _leaf(p)
    p.add_argument("--question", required=True, help="nội dung yêu cầu / the question")
    p = _command(
        explain,
        "answer",
        "trả lời yêu cầu giải trình (công chức hoặc chủ tịch xã), có thể sửa điểm tự chấm / "
        "answer a flagged leaf (commune officer or chair), optionally revising the self-score",
        cmd_answer,
    )
    _leaf(p)
    p.add_argument("--answer", required=True, help="nội dung giải trình / the answer")
    p.add_argument("--evidence", default=None, help="mã minh chứng, vd. EV1,EV2")
    client_cmd._value(p, required=False)
    p = _command(
        explain,
        "submit",
        "gửi giải trình (chủ tịch UBND xã): mọi tiêu chí được yêu cầu đã trả lời / submit "
        "the explanations (commune chair)",
        cmd_submit,
    )
    _unit(p)

    p = _command(
        sub,
        "review",
        "giai đoạn thẩm định của đơn vị, tiêu chí còn phải xem xét / a unit's stage and "
        "the leaves its close must still review",
        cmd_review,
    )
    _unit(p)

    p = _command(
        sub,
        "correct",
        "đính chính điểm sau khi công bố (thành viên thẩm định) / correct a score after "
        "publication (appraiser)",
        cmd_correct,
    )
    _leaf(p)
    client_cmd._value(p)
    p.add_argument("--reason", required=True, help="lý do đính chính / reason")
    p.add_argument("--evidence", required=True, help="mã minh chứng, vd. EV1,EV2")


def _unit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cycle", required=True, help="mã kỳ đánh giá / cycle code")
    p.add_argument("--unit", required=True, help="mã đơn vị (xã) / unit code")


def _leaf(p: argparse.ArgumentParser) -> None:
    _unit(p)
    p.add_argument("--leaf", required=True, help="tiêu chí thành phần, vd. 1.1.1")


# -- what is typed, checked before signing -------------------------------------------
def checked(args: argparse.Namespace, **texts: str | None) -> dict[str, str | None]:
    """The codes of `args` (cycle, unit, leaf when present) and the named texts
    (in NFC), each checked as the server will; ValidationFailed listing every
    fault, before anything is signed or sent."""
    problems: list[Problem] = []
    for name, rule in (("cycle", CODE), ("unit", CODE), ("leaf", LEAF)):
        value = getattr(args, name, None)
        if value is not None and (found := id_problem(value, name, rule)) is not None:
            problems.append(found)
    out = {}
    for name, value in texts.items():
        out[name] = _text(value)
        # A blank text is left to the server, which names it (question_required...).
        problems += text_problems(out[name], name, NOTE, required=False)
    if problems:
        raise ValidationFailed(problems)
    return out


def listed(text: str | None, field: str, rule=LEAF) -> list[str]:
    """A comma-separated list of codes (leaf codes, or evidence ids), each checked."""
    items = [x.strip() for x in (text or "").split(",") if x.strip()]
    problems = [p for i, x in enumerate(items) if (p := id_problem(x, f"{field}[{i}]", rule))]
    if problems:
        raise ValidationFailed(problems)
    return items


def _revised(args: argparse.Namespace) -> dict:
    """The value flags of `explain answer`, when one is given: {} otherwise."""
    if args.points is None and args.done is None and args.ratio is None:
        return {}
    return client_cmd._given(args)


# -- the commands ---------------------------------------------------------------------
def cmd_confirm(args: argparse.Namespace) -> int:
    texts = checked(args, note=args.note)
    receipt = _client(args).confirm(args.cycle, args.unit, args.leaf, texts["note"])
    return _receipt(args, receipt, f"Đã xác nhận điểm tự chấm {args.leaf} của {args.unit}")


def cmd_request(args: argparse.Namespace) -> int:
    texts = checked(args, question=args.question)
    receipt = _client(args).request_explanation(args.cycle, args.unit, args.leaf, texts["question"])
    return _receipt(args, receipt, f"Đã yêu cầu {args.unit} giải trình tiêu chí {args.leaf}")


def cmd_answer(args: argparse.Namespace) -> int:
    texts = checked(args, answer=args.answer)
    evidence = listed(args.evidence, "evidence_ids", EVIDENCE_ID) or None
    revised = _revised(args)
    receipt = _client(args).answer_explanation(
        args.cycle, args.unit, args.leaf, texts["answer"], evidence, **revised
    )
    note = " (có sửa điểm tự chấm)" if revised else ""
    return _receipt(args, receipt, f"Đã giải trình tiêu chí {args.leaf} của {args.unit}{note}")


def cmd_submit(args: argparse.Namespace) -> int:
    checked(args)
    receipt = _client(args).submit_explanations(args.cycle, args.unit)
    return _receipt(args, receipt, f"Đã gửi giải trình của {args.unit}")


def cmd_review(args: argparse.Namespace) -> int:
    checked(args)
    doc = _client(args, reading=True).review(args.cycle, args.unit)
    emit(args, doc, review_text(doc))
    return 0


def cmd_correct(args: argparse.Namespace) -> int:
    texts = checked(args, reason=args.reason)
    evidence = listed(args.evidence, "evidence_ids", EVIDENCE_ID)
    given = client_cmd._given(args)
    receipt = _client(args).correct_score(
        args.cycle, args.unit, args.leaf, texts["reason"], evidence, **given
    )
    return _receipt(args, receipt, f"Đã đính chính điểm {args.leaf} của {args.unit}")


# -- text -------------------------------------------------------------------------------
STAGE_VI = {
    "not_submitted": "chưa nộp hồ sơ",
    "round_1": "thẩm định vòng 1",
    "explanation": "đang giải trình",
    "round_2": "thẩm định vòng 2",
    "closed": "đã kết thúc thẩm định",
}


def review_text(doc: dict) -> str:
    stage = STAGE_VI.get(doc["stage"], doc["stage"])
    lines = [f"{doc['unit']} ({doc['cycle']}): {stage}"]
    leaves = doc["needs_review"]
    if leaves:
        lines.append(f"Còn {len(leaves)} tiêu chí phải xem xét: {', '.join(leaves)}")
    else:
        lines.append("Mọi tiêu chí đã được xem xét.")
    for flag in doc["flags"]:
        answered = "đã trả lời" if flag.get("answer") is not None else "chưa trả lời"
        lines.append(f"  {flag['leaf']}: {flag['question']} ({answered})")
    return "\n".join(lines)
