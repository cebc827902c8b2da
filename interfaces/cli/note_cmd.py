"""CLI for oversight notes (docs/SEASON.md, "Oversight notes").

`parindex note add` (observer, Ủy ban MTTQ) notes a unit, one of its leaves
(`--leaf`) or one change (`--change`, the log position `history` and
`oversight` show); `parindex note answer` (council chair) answers it once;
`parindex note list` shows a unit's notes and answers.
"""

from __future__ import annotations

import argparse
import secrets

from domain.errors import ValidationFailed
from domain.ids import NOTE_ID, id_problem
from interfaces.cli.appraisal_cmd import _unit, checked
from interfaces.cli.client_cmd import _client, _command, _receipt, as_of_flag, as_of_line
from interfaces.cli.client_views import notes_text
from interfaces.cli.main import emit


def register(sub: argparse._SubParsersAction) -> None:
    notes = sub.add_parser(
        "note", help="ghi chú giám sát của MTTQ và trả lời của Hội đồng / oversight notes"
    ).add_subparsers(dest="note_command", required=True, metavar="ACTION")
    p = _command(
        notes,
        "add",
        "ghi chú giám sát về một đơn vị, một tiêu chí hoặc một thay đổi (MTTQ) / note a "
        "unit, a leaf or one change (observer)",
        cmd_add,
    )
    _unit(p)
    about = p.add_mutually_exclusive_group()
    about.add_argument("--leaf", default=None, help="tiêu chí thành phần, vd. 1.1.1")
    about.add_argument(
        "--change", type=int, default=None, help="vị trí nhật ký của thay đổi / log index"
    )
    p.add_argument("--text", required=True, help="nội dung ghi chú / the note")
    p.add_argument("--note-id", default=None, help="mã ghi chú (mặc định: tự sinh) / note id")
    p = _command(
        notes,
        "answer",
        "trả lời một ghi chú giám sát (Chủ tịch Hội đồng) / answer a note (council chair)",
        cmd_answer,
    )
    _unit(p)
    p.add_argument("--note-id", required=True, help="mã ghi chú / note id")
    p.add_argument("--answer", required=True, help="nội dung trả lời / the answer")
    p = _command(
        notes,
        "list",
        "các ghi chú giám sát của một đơn vị và trả lời / a unit's notes and answers",
        cmd_list,
    )
    _unit(p)
    as_of_flag(p)


def _note_id(value: str | None) -> str:
    if value is None:
        return "gs-" + secrets.token_hex(4)
    found = id_problem(value, "note_id", NOTE_ID)
    if found is not None:
        raise ValidationFailed([found])
    return value


def cmd_add(args: argparse.Namespace) -> int:
    texts = checked(args, text=args.text)
    note_id = _note_id(args.note_id)
    receipt = _client(args).record_oversight_note(
        args.cycle, args.unit, note_id, texts["text"], leaf=args.leaf, change=args.change
    )
    return _receipt(args, receipt, f"Đã ghi chú giám sát {note_id} về {args.unit}")


def cmd_answer(args: argparse.Namespace) -> int:
    texts = checked(args, answer=args.answer)
    note_id = _note_id(args.note_id)
    receipt = _client(args).answer_oversight_note(args.cycle, args.unit, note_id, texts["answer"])
    return _receipt(args, receipt, f"Đã trả lời ghi chú giám sát {note_id} của {args.unit}")


def cmd_list(args: argparse.Namespace) -> int:
    checked(args)
    doc = _client(args, reading=True).notes(args.cycle, args.unit, args.as_of)
    emit(args, doc, as_of_line(doc) + notes_text(doc))
    return 0
