"""`parindex survey record FILE --cycle C`: a survey's results (khảo sát sự hài
lòng, SIPAS) for the survey leaves of a framework (docs/FRAMEWORKS.md,
"Variations: a survey component"), signed by the survey's own key (role
`survey`) or the admin's.

The file (.xlsx or .csv, the first non-blank row its header) has a unit code
column (`Mã đơn vị`, `mã`, `unit`) and one column per survey leaf, headed by
the leaf's code (`8.1`, `8.2`); other columns are ignored. Each row with a
unit code becomes one `record_survey_result` for that unit, carrying the
file's name and SHA-256. Every row is checked before anything is signed; a
refusal names its row.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from pathlib import Path

from domain.errors import DomainError, Problem, ValidationFailed
from domain.framework.decimals import canonical
from domain.framework.text import fold
from domain.ids import LEAF
from interfaces.cli.client_cmd import _client, _command, _text
from interfaces.cli.main import emit
from interfaces.framework_io.past_results import sha256_of
from interfaces.framework_io.reader import read_rows

UNIT_COLUMN = ("ma don vi", "ma", "unit", "code")


def register(sub: argparse._SubParsersAction) -> None:
    survey = sub.add_parser("survey", help="kết quả khảo sát (SIPAS) / survey results")
    actions = survey.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    p = _command(
        actions,
        "record",
        "ghi kết quả khảo sát từ tệp (khóa khảo sát hoặc quản trị) / record survey results",
        cmd_record,
    )
    p.add_argument("file", metavar="FILE", help="tệp .xlsx hoặc .csv / results file")
    p.add_argument("--cycle", required=True, help="mã kỳ / cycle code")
    p.add_argument("--reason", help="lý do khi ghi lại / why, when restating results")
    p.add_argument("--dry-run", action="store_true", help="chỉ đọc và in / read and show only")


def read_results(path: str | Path) -> list[tuple[int, str, dict[str, str]]]:
    """(row number, unit, {leaf: points}) per row with a unit code."""
    rows = [r for r in read_rows(path) if any(c.strip() for c in r.cells)]
    if not rows:
        raise ValidationFailed(
            [Problem("survey_file_empty", "Tệp không có dòng nào.", "The file has no rows.")]
        )
    header = rows[0]
    labels = [fold(c).strip() for c in header.cells]
    units = [i for i, label in enumerate(labels) if label in UNIT_COLUMN]
    leaves = {i: c.strip() for i, c in enumerate(header.cells) if LEAF.pattern.fullmatch(c.strip())}
    if len(units) != 1 or not leaves:
        raise ValidationFailed(
            [
                Problem(
                    "survey_header",
                    "Dòng tiêu đề cần một cột 'Mã đơn vị' và các cột mang mã tiêu chí khảo sát "
                    "(vd. 8.1).",
                    "The header needs one unit code column and columns headed by survey leaf "
                    "codes (e.g. 8.1).",
                    row=header.number,
                )
            ]
        )
    out, problems = [], []
    for raw in rows[1:]:
        unit = raw.cells[units[0]].strip() if units[0] < len(raw.cells) else ""
        if not unit:
            continue
        scores = {}
        for i, leaf in leaves.items():
            text = raw.cells[i].strip().replace(",", ".") if i < len(raw.cells) else ""
            if not text:
                continue
            try:
                scores[leaf] = canonical(Decimal(text))
            except InvalidOperation:
                problems.append(
                    Problem(
                        "invalid_decimal",
                        f"Dòng {raw.number}, cột {leaf}: '{text[:20]}' không phải số.",
                        f"Row {raw.number}, column {leaf}: '{text[:20]}' is not a number.",
                        row=raw.number,
                        column=leaf,
                    )
                )
        if scores:
            out.append((raw.number, unit, scores))
    if problems:
        raise ValidationFailed(problems)
    return out


def cmd_record(args: argparse.Namespace) -> int:
    results = read_results(args.file)
    source = {"file_name": _text(Path(args.file).name), "sha256": sha256_of(args.file)}
    commands = []
    for _row, unit, scores in results:
        command = {
            "type": "record_survey_result",
            "cycle": args.cycle,
            "unit": unit,
            "scores": scores,
            "source": source,
        }
        if args.reason:
            command["reason"] = _text(args.reason)
        commands.append(command)
    text = f"Đọc kết quả khảo sát của {len(commands)} đơn vị (SHA-256 {source['sha256']})"
    if args.dry_run:
        emit(args, commands, f"{text}\n(chưa ký: --dry-run)")
        return 0
    client = _client(args)
    receipts = []
    for (row, unit, _scores), command in zip(results, commands, strict=True):
        try:
            receipts.append(client.send(command))
        except DomainError as e:  # name the file's row, and what was recorded before it
            e.message_vi = f"Dòng {row} ({unit}): {e.message_vi} (đã ghi {len(receipts)} đơn vị)"
            e.message_en = f"Row {row} ({unit}): {e.message_en} ({len(receipts)} units recorded)"
            raise
    emit(args, receipts, f"{text}\nĐã ghi {len(receipts)} đơn vị.")
    return 0
