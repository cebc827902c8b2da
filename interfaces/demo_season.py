"""A realistic demo season: one district, 12 communes, every role, the bundled
Thái Nguyên framework, run from opening to a corrected, republished ranking.

Eleven communes self-score all 119 leaves with evidence; ten submit on time,
one (Văn Lăng) withdraws and resubmits with more evidence, and one (Tân Lợi)
signs its submission a second after the deadline and is refused. Appraisers
adjust about a tenth of the leaves and ask three communes to explain some;
those answer (one with a revised score and new evidence), their chairs submit
the explanations, and the appraisers re-appraise the flagged leaves in round
2. The council closes every unit and the cycle, proposes the ranking, the
district chairman approves it, it is published; then an inspection finds an
error, one score is corrected, and version 2 is proposed, approved and
published. Deterministic (seeded) apart from the times.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from application.app import ParIndex
from application.commands import sign_command, utc_now_text
from application.deployment import init_deployment, issue_checkpoint, open_app
from application.signing import keys
from domain import ranking
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.framework import Framework, canonical, to_dict
from domain.ranking import Ranking
from domain.submission import digest as submission_digest
from interfaces.bundled import load_bundled

CYCLE = "dong-hy-2025"
AUTHORITY = "dong-hy"
PROVINCE = "thai-nguyen"
FRAMEWORK = "thai-nguyen-2021-commune"
COMMUNES = [
    ("hoa-thuong", "Xã Hóa Thượng"),
    ("hoa-trung", "Xã Hóa Trung"),
    ("nam-hoa", "Xã Nam Hòa"),
    ("cay-thi", "Xã Cây Thị"),
    ("hop-tien", "Xã Hợp Tiến"),
    ("tan-long", "Xã Tân Long"),
    ("van-han", "Xã Văn Hán"),
    ("van-lang", "Xã Văn Lăng"),
    ("quang-son", "Xã Quang Sơn"),
    ("khe-mo", "Xã Khe Mo"),
    ("minh-lap", "Xã Minh Lập"),
    ("tan-loi", "Xã Tân Lợi"),
]
LATE = "tan-loi"  # signs its submission a second after the deadline: refused
WITHDRAWS = "van-lang"  # withdraws its submission and submits again
EXPLAINS = ("hoa-trung", "nam-hoa", "cay-thi")  # asked to explain some leaves
REVISES = "nam-hoa"  # answers with a revised self-score and new evidence
CORRECTED = ("hoa-thuong", "1.1.1")  # corrected after publication
NOTE_ID = "mttq-01"  # the Fatherland Front's note on that correction
QUESTIONS = [
    "Đề nghị xã cung cấp văn bản ban hành kế hoạch và thời điểm gửi huyện.",
    "Tài liệu kiểm chứng chưa có báo cáo kết quả thực hiện: đề nghị bổ sung.",
]
REASONS = [
    "Kế hoạch CCHC ban hành chậm so với thời hạn quy định",
    "Tài liệu kiểm chứng chưa thể hiện đầy đủ nội dung tiêu chí",
    "Báo cáo gửi không đúng thời hạn",
    "Tỷ lệ hồ sơ giải quyết đúng hạn thực tế thấp hơn số tự chấm",
    "Chưa có văn bản xử lý sau kiểm tra",
    "Số liệu trên Cổng dịch vụ công không khớp với báo cáo",
]
DOC_KINDS = ["KH-UBND", "BC-UBND", "QĐ-UBND", "TB-UBND"]


class Season:
    """Signs and sends commands as the demo's people."""

    def __init__(self, app: ParIndex, key_dir: Path):
        self.app = app
        self.key_dir = key_dir
        self.people: dict[str, tuple[str, object]] = {}
        self.commands = 0

    def person(self, handle: str, path: Path) -> None:
        key_id, private, _ = keys.load_actor_key_file(path)
        self.people[handle] = (key_id, private)

    def send(self, handle: str, **command) -> dict:
        key_id, private = self.people[handle]
        command = {
            "id": f"demo-{uuid.uuid4()}",
            "issued_at": utc_now_text(),
            "actor": key_id,
            **command,
        }  # a command may name its own issued_at (the late submission)
        self.commands += 1
        return self.app.handle(sign_command(command, private))

    def new_person(self, handle: str, role: str, scope: str, name: str) -> Path:
        path = self.key_dir / f"{handle}.key"
        private = keys.generate()
        key_id = keys.save_actor_key_file(path, private, display_name=name)
        self.send(
            "admin",
            type="register_key",
            key_id=key_id,
            public_key=keys.b64(keys.public_raw(private)),
            role=role,
            scope=scope,
            display_name=name,
        )
        self.people[handle] = (key_id, private)
        return path


def _self_points(rng: random.Random, maximum: Decimal, strength: float) -> str:
    roll = rng.random()
    if roll < strength:
        value = maximum
    elif roll < strength + (1 - strength) * 0.6:
        value = maximum / 2
    else:
        value = Decimal(0)
    return canonical(value)


def seed(data_dir: Path, *, seed_value: int = 2025) -> dict:
    """Creates the deployment and plays the season; returns what the printout needs."""
    info = init_deployment(data_dir, admin_name="Phòng Nội vụ huyện Đồng Hỷ")
    rng = random.Random(seed_value)
    app = open_app(data_dir)
    try:
        s = Season(app, data_dir / "keys")
        s.person("admin", Path(info["admin_key_file"]))
        framework: Framework = load_bundled(FRAMEWORK)
        out = _play(s, app, framework, rng, info)
        checkpoint = issue_checkpoint(app)
        return {**out, "log_size": checkpoint.size, "checkpoint": checkpoint.note}
    finally:
        app.close()


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _play(s: Season, app: ParIndex, framework: Framework, rng: random.Random, info: dict) -> dict:
    # Every command is signed now; the deadlines are set so that the season
    # fits in the minutes the demo takes and the late commune can sign one
    # second after the self-assessment deadline (within the server's window).
    now = datetime.now(UTC).replace(microsecond=0)
    due = now + timedelta(minutes=2)
    s.send("admin", type="publish_framework", framework=to_dict(framework))
    s.send(
        "admin",
        type="open_cycle",
        cycle=CYCLE,
        name="Chỉ số CCHC cấp xã năm 2025",
        framework=str(framework.id),
        year=2025,
        authority=AUTHORITY,
        province=PROVINCE,
        units=[{"code": c, "name": n, "type": "xa"} for c, n in COMMUNES],
        level="district",
        rounds=2,
        deadlines={
            "self_assessment_due": _at(due),
            "explanation_due": _at(due + timedelta(days=10)),
            "appraisal_due": _at(due + timedelta(days=20)),
        },
    )
    key_files = {"admin": info["admin_key_file"]}
    for handle, role, scope, name in [
        ("appraiser-1", "appraiser", f"authority:{AUTHORITY}", "Nguyễn Thị Thu (Tổ giúp việc)"),
        ("appraiser-2", "appraiser", f"authority:{AUTHORITY}", "Trần Văn Hùng (Tổ giúp việc)"),
        (
            "council-chair",
            "council_chair",
            f"authority:{AUTHORITY}",
            "Lê Minh Đức (Chủ tịch Hội đồng thẩm định)",
        ),
        ("approver", "approver", f"authority:{AUTHORITY}", "Hoàng Văn Nam (Chủ tịch UBND huyện)"),
        ("observer-mttq", "observer", f"province:{PROVINCE}", "Ủy ban MTTQ huyện Đồng Hỷ"),
        ("auditor", "auditor", "*", "Thanh tra tỉnh Thái Nguyên"),
    ]:
        key_files[handle] = str(s.new_person(handle, role, scope, name))
    for code, name in COMMUNES:
        key_files[f"officer-{code}"] = str(
            s.new_person(
                f"officer-{code}", "commune_officer", f"commune:{code}", f"Công chức VP-TK {name}"
            )
        )
        key_files[f"chair-{code}"] = str(
            s.new_person(
                f"chair-{code}", "commune_chair", f"commune:{code}", f"Chủ tịch UBND {name}"
            )
        )

    scores = {code: _self_assess(s, app, framework, rng, code, name) for code, name in COMMUNES}

    # -- submission: on time, one withdrawal and resubmission, one late ----------------------
    late_refusal = ""
    for code, _name in COMMUNES:
        if code == LATE:
            try:
                _submit(s, app, framework, code, issued_at=_at(due + timedelta(seconds=1)))
            except DomainError as e:
                late_refusal = e.code
            continue
        _submit(s, app, framework, code)
        if code == WITHDRAWS:
            base = {"cycle": CYCLE, "unit": code}
            s.send(
                f"chair-{code}",
                type="withdraw_submission",
                reason="Bổ sung minh chứng tiêu chí 2.1",
                **base,
            )
            s.send(
                f"officer-{code}",
                type="attach_evidence",
                evidence_id=f"ev-{code}-bs-01",
                leaves=["2.1.1"],
                document={
                    "number": "27/BC-UBND",
                    "date": "2025-11-20",
                    "issuer": "UBND xã Văn Lăng",
                },
                **base,
            )
            _submit(s, app, framework, code)

    # -- appraisal round 1: adjustments, and questions to three communes ----------------------
    adjustments = 0
    flagged: dict[str, list[str]] = {}
    for code, _name in COMMUNES:
        if code == LATE:
            continue
        base = {"cycle": CYCLE, "unit": code}
        for leaf_code, points in scores[code].items():
            if rng.random() < 0.10 and Decimal(points) > 0:
                s.send(
                    rng.choice(["appraiser-1", "appraiser-2"]),
                    type="adjust_score",
                    leaf=leaf_code,
                    points=canonical(Decimal(points) / 2),
                    reason=rng.choice(REASONS),
                    **base,
                )
                adjustments += 1
        if code in EXPLAINS:
            chosen = [c for c, p in scores[code].items() if Decimal(p) > 0][:2]
            for leaf_code, question in zip(chosen, QUESTIONS, strict=False):
                s.send(
                    "appraiser-1",
                    type="request_explanation",
                    leaf=leaf_code,
                    question=question,
                    **base,
                )
            flagged[code] = chosen

    # -- explanation (giải trình), then round 2 on the flagged leaves ------------------------
    for code, leaves in flagged.items():
        base = {"cycle": CYCLE, "unit": code}
        for leaf_code in leaves:
            answer = {"answer": f"Xã đã ban hành văn bản đúng hạn; gửi kèm bản chụp ({leaf_code})."}
            if code == REVISES and leaf_code == leaves[0]:
                s.send(
                    f"officer-{code}",
                    type="attach_evidence",
                    evidence_id=f"ev-{code}-gt-01",
                    leaves=[leaf_code],
                    document={
                        "number": "31/BC-UBND",
                        "date": "2025-12-01",
                        "issuer": "UBND xã Nam Hòa",
                    },
                    **base,
                )
                maximum = framework.node(leaf_code).max_points
                answer.update(points=canonical(maximum), evidence_ids=[f"ev-{code}-gt-01"])
            s.send(f"officer-{code}", type="answer_explanation", leaf=leaf_code, **answer, **base)
        s.send(f"chair-{code}", type="submit_explanations", **base)
        for n, leaf_code in enumerate(leaves):
            if n == 0:
                s.send(
                    "appraiser-2",
                    type="confirm_score",
                    leaf=leaf_code,
                    note="Giải trình hợp lý",
                    **base,
                )
            else:
                s.send(
                    "appraiser-2",
                    type="adjust_score",
                    leaf=leaf_code,
                    points="0",
                    reason="Giải trình chưa có tài liệu kiểm chứng",
                    **base,
                )

    # -- the council closes every unit and the cycle; the ranking is published ---------------
    for code, _name in COMMUNES:
        if code == LATE:
            continue
        assessment = app.get(Assessment.create_id(CYCLE, code), for_update=False)
        s.send(
            "council-chair",
            type="close_appraisal",
            cycle=CYCLE,
            unit=code,
            confirm=assessment.needs_review(framework),
        )
    s.send("council-chair", type="close_appraisal", cycle=CYCLE)
    v1 = _rank(s, app, "1234/QĐ-UBND", "2025-12-20")

    # -- an inspection finds an error: one score corrected, version 2 published ---------------
    unit, leaf = CORRECTED
    s.send(
        "appraiser-1",
        type="attach_evidence",
        cycle=CYCLE,
        unit=unit,
        evidence_id="kl-thanh-tra-01",
        leaves=[leaf],
        document={
            "number": "05/KL-TTr",
            "date": "2026-01-15",
            "issuer": "Thanh tra tỉnh Thái Nguyên",
        },
    )
    correction = s.send(
        "appraiser-1",
        type="correct_score",
        cycle=CYCLE,
        unit=unit,
        leaf=leaf,
        points="0",
        reason="Kết luận thanh tra: kế hoạch CCHC ban hành sau thời hạn",
        evidence_ids=["kl-thanh-tra-01"],
    )
    # -- the Fatherland Front notes the correction; the council answers -----------------------
    s.send(
        "observer-mttq",
        type="record_oversight_note",
        cycle=CYCLE,
        unit=unit,
        note_id=NOTE_ID,
        change=correction["log_index"],
        text="Đề nghị Hội đồng cho biết xã đã được thông báo kết luận thanh tra trước khi "
        "đính chính điểm chưa.",
    )
    s.send(
        "council-chair",
        type="answer_oversight_note",
        cycle=CYCLE,
        unit=unit,
        note_id=NOTE_ID,
        answer="Kết luận 05/KL-TTr đã gửi UBND xã ngày 16/01/2026; xã không có ý kiến khác.",
    )
    v2 = _rank(s, app, "156/QĐ-UBND", "2026-01-20")
    return {
        "cycle": CYCLE,
        "framework": str(framework.id),
        "communes": [c for c, _ in COMMUNES],
        "key_files": key_files,
        "commands": s.commands,
        "adjustments": adjustments,
        "late_refusal": late_refusal,
        "flagged": flagged,
        "versions": [v1, v2],
        "note": {"unit": unit, "note_id": NOTE_ID, "change": correction["log_index"]},
    }


def _self_assess(
    s: Season, app: ParIndex, framework: Framework, rng: random.Random, code: str, name: str
) -> dict[str, str]:
    """The officer's self-scores (some leaves not applicable) and evidence."""
    n = [c for c, _ in COMMUNES].index(code)
    strength = 0.62 + 0.03 * (n % 10)
    officer = f"officer-{code}"
    base = {"cycle": CYCLE, "unit": code}
    scores: dict[str, str] = {}
    for leaf in framework.leaves:
        rule = leaf.rule
        if rule is not None and rule.optional and rng.random() < 0.15:
            s.send(
                officer,
                type="declare_not_applicable",
                leaf=leaf.code,
                reason="Trong năm không phát sinh nội dung này",
                **base,
            )
            continue
        points = _self_points(rng, leaf.max_points, strength)
        scores[leaf.code] = points
        s.send(
            officer,
            type="record_self_score",
            leaf=leaf.code,
            points=points,
            note=f"Tự chấm theo tài liệu kiểm chứng của {name}",
            **base,
        )
    parents = sorted({lf.code.rsplit(".", 1)[0] for lf in framework.leaves})
    for i, parent in enumerate(parents):
        leaves = [
            lf.code for lf in framework.leaves_under(parent) if lf.code.rsplit(".", 1)[0] == parent
        ] or [parent]
        number = f"{rng.randint(3, 180)}/{rng.choice(DOC_KINDS)}"
        evidence = {
            "evidence_id": f"ev-{code}-{i + 1:03d}",
            "leaves": leaves,
            "document": {
                "number": number,
                "date": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "issuer": f"UBND {name}",
            },
        }
        if i % 5 == 0:
            body = (
                f"%PDF-1.4\n% parindex demo: {number} - {name}\n"
                f"1 0 obj << /Title ({parent}) >> endobj\n%%EOF\n"
            ).encode()
            blob = app.evidence.put(body, "application/pdf")
            evidence["file"] = {**blob, "filename": f"{number.replace('/', '-')}.pdf"}
        s.send(officer, type="attach_evidence", **base, **evidence)
    return scores


def _submit(s: Season, app: ParIndex, framework: Framework, code: str, **signing: str) -> None:
    """The chair signs the digest of what the commune scored (domain.submission)."""
    covered = app.get(Assessment.create_id(CYCLE, code), for_update=False).submission(framework)
    s.send(
        f"chair-{code}",
        type="submit_assessment",
        cycle=CYCLE,
        unit=code,
        digest=submission_digest(covered),
        self_total=covered["self_total"],
        **signing,
    )


def _rank(s: Season, app: ParIndex, number: str, date: str) -> dict:
    """The council proposes the draft the log gives; the chairman approves and publishes."""
    cycle = app.get(Cycle.create_id(CYCLE), for_update=False)
    version = app.get(Ranking.create_id(CYCLE), for_update=False).next_version()
    content = ranking.manifest(
        cycle, version, app.framework(cycle.framework), app.assessments(cycle)
    )
    s.send("council-chair", type="propose_ranking", cycle=CYCLE, manifest=content)
    s.send(
        "approver",
        type="approve_ranking",
        cycle=CYCLE,
        version=version,
        digest=ranking.digest(content),
        decision_number=number,
        decision_date=date,
    )
    s.send("approver", type="publish_ranking", cycle=CYCLE, version=version)
    return content
