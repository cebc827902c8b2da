"""A realistic demo season: one district, 12 communes, every role, the bundled
Thái Nguyên framework, self-scores with evidence on all 119 leaves, each
commune's chair but one submitting them, then appraisal adjustments with
reasons on about a tenth. Deterministic (seeded)."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from pathlib import Path

from application.app import ParIndex
from application.commands import sign_command, utc_now_text
from application.deployment import init_deployment, issue_checkpoint, open_app
from application.signing import keys
from domain.assessment import Assessment
from domain.framework import Framework, canonical, to_dict
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
STILL_SCORING = "tan-loi"  # has not submitted yet: its officer may still score
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
        }
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
            units=[{"code": c, "name": n} for c, n in COMMUNES],
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
            (
                "approver",
                "approver",
                f"authority:{AUTHORITY}",
                "Hoàng Văn Nam (Chủ tịch UBND huyện)",
            ),
            ("observer-mttq", "observer", f"province:{PROVINCE}", "Ủy ban MTTQ huyện Đồng Hỷ"),
            ("auditor", "auditor", "*", "Thanh tra tỉnh Thái Nguyên"),
        ]:
            key_files[handle] = str(s.new_person(handle, role, scope, name))
        for code, name in COMMUNES:
            key_files[f"officer-{code}"] = str(
                s.new_person(
                    f"officer-{code}",
                    "commune_officer",
                    f"commune:{code}",
                    f"Công chức VP-TK {name}",
                )
            )
            key_files[f"chair-{code}"] = str(
                s.new_person(
                    f"chair-{code}", "commune_chair", f"commune:{code}", f"Chủ tịch UBND {name}"
                )
            )
        adjustments = 0
        for n, (code, name) in enumerate(COMMUNES):
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
                    lf.code
                    for lf in framework.leaves_under(parent)
                    if lf.code.rsplit(".", 1)[0] == parent
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
            if code == STILL_SCORING:
                continue
            # The chair submits what was scored; appraisal starts after it.
            covered = app.get(Assessment.create_id(CYCLE, code), for_update=False).submission(
                framework
            )
            s.send(
                f"chair-{code}",
                type="submit_assessment",
                digest=submission_digest(covered),
                self_total=covered["self_total"],
                **base,
            )
            for leaf_code, points in scores.items():
                if rng.random() < 0.10 and Decimal(points) > 0:
                    lowered = Decimal(points) / 2
                    s.send(
                        rng.choice(["appraiser-1", "appraiser-2"]),
                        type="adjust_score",
                        leaf=leaf_code,
                        points=canonical(lowered),
                        reason=rng.choice(REASONS),
                        **base,
                    )
                    adjustments += 1
        checkpoint = issue_checkpoint(app)
        return {
            "data_dir": str(data_dir),
            "cycle": CYCLE,
            "framework": str(framework.id),
            "communes": [c for c, _ in COMMUNES],
            "key_files": key_files,
            "commands": s.commands,
            "adjustments": adjustments,
            "log_size": checkpoint.size,
            "checkpoint": checkpoint.note,
        }
    finally:
        app.close()
