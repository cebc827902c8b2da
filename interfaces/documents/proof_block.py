"""The proof a document carries, as labelled lines a person can read and a
reader can parse back, and as a QR code holding the same.

The labels are Vietnamese first with the English after a slash; the reader
finds each value by its label's English key (`FIELDS`), so a file whose proof
lines were moved or relabelled is reported as carrying no proof.
"""

from __future__ import annotations

import io

from application.documents.model import KINDS, Proof

HEADING = "CHỨNG THỰC TỪ NHẬT KÝ / PROOF FROM THE LOG"
FIELDS = (
    ("kind", "Loại tài liệu / kind"),
    ("cycle", "Kỳ đánh giá / cycle"),
    ("subject", "Đơn vị hoặc phiên bản / unit or version"),
    ("origin", "Nhật ký (origin) / log origin"),
    ("size", "Kích thước cây / tree size"),
    ("root", "Gốc Merkle / root hash"),
    ("made_at", "Lập lúc (UTC) / made at"),
    ("note", "Điểm kiểm tra đã ký / signed checkpoint"),
)
HOW = "Cách kiểm tra / how to check"


def lines(proof: Proof) -> list[tuple[str, str]]:
    values = {
        "kind": proof.kind,
        "cycle": proof.cycle,
        "subject": proof.subject,
        "origin": proof.origin,
        "size": str(proof.size),
        "root": proof.root,
        "made_at": proof.made_at,
        "note": proof.note.rstrip("\n"),
    }
    out = [(label, values[key]) for key, label in FIELDS]
    out.append(
        (
            HOW,
            "parindex verify-document <tệp này> --data-dir <thư mục dữ liệu>, hoặc "
            "parindex verify-document <tệp này> <gói kiểm toán .jsonl.gz>: dựng lại tệp từ "
            "nhật ký tại điểm kiểm tra này, so từng phần của tệp và chỉ ra ô nào khác.",
        )
    )
    return out


def footer(proof: Proof) -> str:
    return (
        f"parindex · {proof.origin} · cây {proof.size} · gốc {proof.root} · "
        "kiểm tra: parindex verify-document"
    )


def parse(pairs: dict[str, str]) -> Proof | None:
    """The proof from {label: value} as read back; None if a field is missing or odd."""
    values = {key: pairs.get(label) for key, label in FIELDS}
    if any(not isinstance(v, str) or not v for v in values.values()):
        return None
    if values["kind"] not in KINDS or not str(values["size"]).isdigit():
        return None
    note = str(values["note"]).replace("\r\n", "\n")
    return Proof(
        kind=str(values["kind"]),
        cycle=str(values["cycle"]),
        subject=str(values["subject"]),
        origin=str(values["origin"]),
        size=int(str(values["size"])),
        root=str(values["root"]),
        note=note if note.endswith("\n") else note + "\n",
        made_at=str(values["made_at"]),
    )


def qr_png(proof: Proof) -> bytes:
    """A QR code (segno, pure Python) holding the kind, subject, origin, size and root."""
    import segno

    text = (
        f"parindex-document/v1\n{proof.kind} {proof.cycle} {proof.subject}\n"
        f"{proof.origin}\n{proof.size}\n{proof.root}"
    )
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=3, border=2)
    return out.getvalue()
