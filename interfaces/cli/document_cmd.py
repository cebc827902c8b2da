"""`parindex document sheet|ranking` and `parindex verify-document`.

    parindex document sheet --cycle C --unit U --out xa-a.xlsx     (or .docx)
    parindex document ranking --cycle C [--version N] --out bang-xep-hang.docx
    parindex verify-document xa-a.xlsx --data-dir D                (or an audit bundle)

A document is computed from the log's events up to the latest signed
checkpoint (one is signed if the log has grown) and carries that checkpoint.
`verify-document` replays the whole log as `verify` does (every event must be
what its signed command yields), checks the document's checkpoint against
it, recomputes the document from the log at that checkpoint and lists every
cell of the file that differs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import sys
from pathlib import Path

from application.audit.bundle import BundleSource, StoreSource
from application.audit.verify import verify
from application.config import CONFIG_FILE
from application.deployment import open_app
from application.documents import export
from application.documents.model import Difference, differences
from application.documents.recompute import RecordsLog, recompute
from application.transparency import note
from application.transparency.cosignature import open_cosigned
from domain.errors import DomainError
from domain.ranking import Ranking
from interfaces.cli.audit_cmd import add_witness_args, witness_quorum
from interfaces.cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, add_data_dir, add_json, emit
from interfaces.documents import files


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("document", help="xuất biểu mẫu Excel/Word / write Excel or Word forms")
    inner = p.add_subparsers(dest="document_command", required=True, metavar="KIND")
    _kind(inner, "sheet", "Phụ lục I: bảng điểm một đơn vị / a unit's scoring sheet", cmd_sheet)
    r = _kind(inner, "ranking", "Phụ lục II: bảng xếp hạng / the ranking table", cmd_ranking)
    r.add_argument(
        "--version", type=int, default=None, help="phiên bản (mặc định: mới nhất) / default latest"
    )
    _kind(
        inner,
        "plan",
        "kế hoạch khắc phục: dự thảo hoặc bản đã ký / improvement plan: draft or signed",
        cmd_plan,
    )

    v = sub.add_parser(
        "verify-document",
        help="kiểm tra một biểu mẫu với nhật ký / check a form against the log",
    )
    v.add_argument("file", help="tệp .xlsx hoặc .docx do parindex xuất")
    v.add_argument("bundle", nargs="?", help="gói kiểm toán / audit bundle")
    v.add_argument("--data-dir", default=None)
    v.add_argument("--log-key", default=None, help="khóa xác minh nhật ký (vkey) / pin the log key")
    add_witness_args(v, "đã đồng ký điểm kiểm tra của tài liệu / on the document's checkpoint")
    v.add_argument(
        "--cells-only",
        action="store_true",
        help="chỉ so các ô (tệp đã được lưu lại bằng Excel/Word) / compare the cells only "
        "(a file saved again by Excel or Word): hidden content and formatting are not checked",
    )
    v.add_argument("--workers", type=int, default=None)
    add_json(v)
    v.set_defaults(func=cmd_verify_document)


def _kind(inner, name: str, help_: str, func) -> argparse.ArgumentParser:
    """One kind of document: --cycle, --unit (but for the ranking), --out, --data-dir."""
    p = inner.add_parser(name, help=help_)
    p.add_argument("--cycle", required=True)
    if name != "ranking":
        p.add_argument("--unit", required=True)
    p.add_argument("--out", required=True, help="tệp .xlsx hoặc .docx")
    add_data_dir(p)
    add_json(p)
    p.set_defaults(func=func)
    return p


def _write(args: argparse.Namespace, kind: str, subject: str) -> int:
    out = Path(args.out)
    files.format_of(out)  # refused before anything is computed
    with open_app(args.data_dir) as app:
        doc = export.make(app, kind, args.cycle, subject)
    files.write(doc, out)
    proof = doc.proof
    assert proof is not None
    data = {
        "out": str(out),
        "kind": kind,
        "cycle": args.cycle,
        "subject": subject,
        "rows": len(doc.rows),
        "size": proof.size,
        "root": proof.root,
    }
    emit(
        args,
        data,
        f"Đã ghi {out} ({len(doc.rows)} dòng), theo nhật ký đến điểm kiểm tra {proof.size} "
        f"(gốc {proof.root}).\nKiểm tra: parindex verify-document {out} --data-dir {args.data_dir}",
    )
    return EXIT_OK


def cmd_sheet(args: argparse.Namespace) -> int:
    return _write(args, "scoring_sheet", args.unit)


def cmd_plan(args: argparse.Namespace) -> int:
    return _write(args, "improvement_plan", args.unit)


def cmd_ranking(args: argparse.Namespace) -> int:
    version = args.version
    if version is None:
        with open_app(args.data_dir) as app:
            ranking = app.get(Ranking.create_id(args.cycle), for_update=False)
            if ranking is None or not ranking.versions:
                raise DomainError(
                    "version_not_found",
                    f"Kỳ {args.cycle[:64]} chưa có bản đề xuất xếp hạng nào.",
                    f"Cycle {args.cycle[:64]} has no ranking proposal yet.",
                    field="version",
                    status=404,
                )
            version = len(ranking.versions)
    return _write(args, "ranking_table", str(version))


def cmd_verify_document(args: argparse.Namespace) -> int:
    lang = "en" if os.environ.get("PARINDEX_LANG") == "en" else "vi"
    if bool(args.bundle) == bool(args.data_dir):
        print(
            "Cần đúng một nguồn nhật ký: BUNDLE hoặc --data-dir / give exactly one of BUNDLE "
            "or --data-dir",
            file=sys.stderr,
        )
        return EXIT_USAGE
    quorum = witness_quorum(args)
    if quorum is None:
        return EXIT_USAGE
    witnesses, minimum = quorum["witnesses"], quorum["min_witnesses"]
    path = Path(args.file)
    if not path.is_file():
        print(f"Không có tệp {args.file} / no such file", file=sys.stderr)
        return EXIT_USAGE
    if args.bundle and not Path(args.bundle).is_file():
        print(f"Không có tệp {args.bundle} / no such file", file=sys.stderr)
        return EXIT_USAGE
    if args.data_dir and not (Path(args.data_dir) / CONFIG_FILE).is_file():
        print(f"Không có triển khai tại {args.data_dir} / no deployment there", file=sys.stderr)
        return EXIT_USAGE
    doc = files.read(path)
    proof = doc.proof
    if proof is None:
        result = {
            "ok": False,
            "file": str(path),
            "problem": "document_unproven",
            "message": "Tệp không mang chứng thực từ nhật ký (trang/bảng «Chứng thực») / the "
            "file carries no proof from the log",
        }
        emit(args, result, result["message"])
        return EXIT_FINDINGS
    with _log(args) as (source, records):
        report = verify(
            source, log_key=args.log_key, workers=args.workers, extra_checkpoints=[proof.note]
        )
        expected = _recompute(records, proof, proof.size)
        newer = None
        if not isinstance(expected, DomainError) and report.size > proof.size:
            head = _recompute(records, proof, report.size)
            if not isinstance(head, DomainError):
                changed = differences(doc, head)
                newer = {"size": report.size, "differences": [d.as_dict() for d in changed]}
    mismatch = _proof_mismatch(proof)
    found: list[Difference] = []
    parts: list[str] = []
    if not isinstance(expected, DomainError):
        found = differences(doc, expected)
        expected.proof = proof
        if not args.cells_only:
            parts = files.altered(path, expected)
    cosigned = _cosigners(proof.note, report.log_key, witnesses)
    ok = (
        report.ok
        and mismatch is None
        and not isinstance(expected, DomainError)
        and not found
        and not parts
        and len(cosigned) >= minimum
    )
    result = {
        "ok": ok,
        "file": str(path),
        "document": {
            "kind": proof.kind,
            "cycle": proof.cycle,
            "subject": proof.subject,
            "origin": proof.origin,
            "size": proof.size,
            "root": proof.root,
            "made_at": proof.made_at,
        },
        "proof_mismatch": mismatch,
        "recompute_error": (
            {"code": expected.code, "message": expected.message(lang)}
            if isinstance(expected, DomainError)
            else None
        ),
        "differences": [d.as_dict() for d in found],
        "altered_parts": None if args.cells_only else parts,
        "witnesses": {"required": minimum, "cosigned": cosigned} if witnesses else None,
        "newer_log": newer,
        "log": report.as_dict(lang),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(_summary(result, report, found, lang))
    return EXIT_OK if ok else EXIT_FINDINGS


@contextlib.contextmanager
def _log(args: argparse.Namespace):
    """(the source verify replays, a function giving a fresh stream of its records)."""
    if args.bundle:
        source = BundleSource(args.bundle)
        yield source, source.records
        return
    with open_app(args.data_dir) as app:
        yield StoreSource(app.tlog, app.evidence), lambda: StoreSource(app.tlog).records()


def _cosigners(text: str, log_key: str | None, witnesses: list) -> list[str]:
    """The names of the trusted witnesses whose cosignature on the document's own
    checkpoint verifies (none without a log key or a valid log signature)."""
    if not witnesses or not log_key:
        return []
    try:
        opened = open_cosigned(text, [log_key], witnesses)
    except note.NoteError:
        return []
    trusted = {(w.name, w.key_hash) for w in witnesses}
    return sorted({c.name for c in opened.cosignatures if (c.name, c.key_hash) in trusted})


def _recompute(records, proof, size: int) -> object:
    """The document at `size` from records hashed as they are read, or the
    DomainError saying why not: the events read must make the tree whose root
    the file's signed checkpoint names (at the document's own size)."""
    log = RecordsLog(records, size, proof.kind, proof.cycle, proof.subject)
    if size == proof.size and (
        not log.complete or base64.b64encode(log.root).decode("ascii") != proof.root
    ):
        return DomainError(
            "log_changed",
            "Các sự kiện đọc được không tạo ra gốc Merkle mà điểm kiểm tra của tài liệu đã ký "
            "(nhật ký thiếu hoặc vừa bị sửa); hãy chạy lại.",
            "The events read do not make the root the document's signed checkpoint names "
            "(the log is short, or was changed while being read); run again.",
            status=409,
        )
    if not log.complete:
        return DomainError(
            "log_unreadable", "Nhật ký thiếu sự kiện.", "The log is missing events.", status=409
        )
    try:
        return recompute(log, proof.kind, proof.cycle, proof.subject)
    except DomainError as e:
        return e


def _proof_mismatch(proof) -> str | None:
    """The proof's own lines must say what its signed note says."""
    try:
        body = note.parse_checkpoint(proof.note.split("\n\n", 1)[0] + "\n")
    except (note.NoteError, ValueError) as e:
        return f"the signed checkpoint cannot be read: {e}"
    if body.size != proof.size:
        return f"tree size {proof.size} in the file, {body.size} in its signed checkpoint"
    if base64.b64encode(body.root).decode("ascii") != proof.root:
        return "the root in the file is not the root of its signed checkpoint"
    if body.origin != proof.origin:
        return "the origin in the file is not the origin of its signed checkpoint"
    return None


def _line(d: Difference) -> str:
    where = "tiêu đề" if d.row is None else f"dòng {d.row}"
    column = f", cột «{d.column}»" if d.column else ""
    return f"  {where}{column}: tệp ghi {d.document!r}, nhật ký ghi {d.log!r}"


def _summary(result: dict, report, found: list[Difference], lang: str) -> str:
    doc = result["document"]
    lines = [
        f"Tài liệu: {doc['kind']} {doc['cycle']}/{doc['subject']}, theo điểm kiểm tra "
        f"{doc['size']} của {doc['origin']} (gốc {doc['root']})",
        f"Nhật ký: {report.events_checked} sự kiện đã kiểm tra, kích thước {report.size}, "
        f"{len(report.findings)} phát hiện",
    ]
    lines.extend("  " + f.text(lang) for f in report.findings)
    if result["proof_mismatch"]:
        lines.append(f"Chứng thực không khớp / proof mismatch: {result['proof_mismatch']}")
    if result["witnesses"] is not None:
        w = result["witnesses"]
        names = ", ".join(w["cosigned"]) or "không có / none"
        lines.append(
            f"Nhân chứng đã đồng ký điểm kiểm tra của tài liệu: {names}; "
            f"cần ít nhất {w['required']}"
        )
    if result["recompute_error"]:
        err = result["recompute_error"]
        lines.append(f"Không tính lại được [{err['code']}]: {err['message']}")
    if found:
        lines.append(f"{len(found)} ô khác với nhật ký / cells that differ from the log:")
        lines.extend(_line(d) for d in found)
    if result["altered_parts"]:
        lines.append(
            "Tệp không đúng như parindex đã ghi (ẩn, định dạng, công thức hoặc nội dung thêm) ở: "
            + ", ".join(result["altered_parts"][:10])
            + " / the file is not as parindex wrote it"
        )
    elif result["altered_parts"] is None:
        lines.append(
            "Chỉ so các ô (--cells-only): nội dung ẩn, định dạng số và công thức không được kiểm "
            "tra / cells only: hidden content, number formats and formulas not checked"
        )
    if result["newer_log"] and result["newer_log"]["differences"]:
        n = len(result["newer_log"]["differences"])
        lines.append(
            f"Lưu ý: nhật ký đã dài thêm (kích thước {result['newer_log']['size']}); theo nhật ký "
            f"hiện tại {n} ô của tài liệu đã khác (đính chính, phiên bản mới) / note: at the "
            "log's head the document would differ"
        )
    lines.append(
        "KẾT QUẢ: tài liệu khớp với nhật ký." if result["ok"] else "KẾT QUẢ: tài liệu KHÔNG khớp."
    )
    return "\n".join(lines)
