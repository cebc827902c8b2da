"""The store the projection tests read: real signed commands, a known outcome.

Cycle tn-2025 scores four communes on the Thái Nguyên 2021 table so that the
appraised totals are 90, 80, 80 and 70 (ranks 1, 2, 2, 4; bands xuat_sac,
tot, tot, kha: every total sits exactly on a band's lower edge). xa-03 claims
81.5 but an appraiser takes one leaf to 0. Cycle thu-2025 uses a small table
with every rule kind (yes/no gate, ratios, optional leaves) for one commune.

The scenario keeps its own record of every input it signed, so tests can
recompute the expected scores with `domain.framework.compute` independently
of the projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path

from domain.assessment import leaf_input
from domain.framework import (
    Framework,
    FrameworkMeta,
    Level,
    NaPolicy,
    Node,
    RatioBand,
    Result,
    Rule,
    RuleKind,
    canonical,
    compute,
    to_dict,
)
from interfaces.bundled import load_bundled
from tests.support import Env, Key, command, make_env, new_key, register_command

TN, THU = "tn-2025", "thu-2025"


def rules_framework() -> Framework:
    """Ten points: a yes/no gate, a ratio, a ratio with bands, two optional leaves."""
    return Framework.build(
        FrameworkMeta(
            name="Bộ thử quy tắc", jurisdiction="Tỉnh Thử", level=Level.COMMUNE, year=2025
        ),
        [
            Node("1", "Chỉ đạo", D("6")),
            Node("1.1", "Kế hoạch", D("2")),
            Node("1.1.1", "Ban hành kế hoạch", D("1"), rule=Rule(RuleKind.YES_NO)),
            Node(
                "1.1.2",
                "Kết quả thực hiện",
                D("1"),
                rule=Rule(RuleKind.MANUAL, step=D("0.25"), gated_by=("1.1.1",)),
            ),
            Node("1.2", "Hồ sơ đúng hạn", D("3"), rule=Rule(RuleKind.RATIO_PROPORTIONAL)),
            Node("1.3", "Báo cáo (nếu có)", D("1"), rule=Rule(na_policy=NaPolicy.FULL_POINTS)),
            Node("2", "Kinh tế", D("4")),
            Node(
                "2.1",
                "Thu ngân sách",
                D("2"),
                rule=Rule(
                    RuleKind.RATIO_BANDS,
                    bands=(RatioBand(D("100"), D("2")), RatioBand(D("80"), D("1"))),
                ),
            ),
            Node(
                "2.2",
                "Giải phóng mặt bằng (nếu có)",
                D("2"),
                rule=Rule(na_policy=NaPolicy.EXCLUDED),
            ),
        ],
    )


@dataclass
class Scenario:
    env: Env
    tn: Framework
    rules: Framework
    officers: dict[str, Key] = field(default_factory=dict)
    appraiser: Key | None = None
    self_inputs: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    adjusted: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)
    receipts: list[dict] = field(default_factory=list)
    sent: dict[str, dict] = field(default_factory=dict)  # command id -> command

    @property
    def app(self):
        return self.env.app

    def send(self, signer: Key, type_: str, **fields) -> dict:
        cmd = command(signer, type_, **fields)
        receipt = self.env.send(cmd, signer)
        self.sent[cmd["id"]] = cmd
        self.receipts.append(receipt)
        return receipt

    def officer(self, unit: str) -> Key:
        if unit not in self.officers:
            key = new_key()
            self.env.send(
                register_command(
                    self.env.admin,
                    key,
                    role="commune_officer",
                    scope=f"commune:{unit}",
                    name=f"Cán bộ {unit}",
                )
            )
            self.officers[unit] = key
        return self.officers[unit]

    def score(self, cycle: str, unit: str, leaf: str, note: str | None = None, **given) -> dict:
        extra = {"note": note} if note is not None else {}
        receipt = self.send(
            self.officer(unit),
            "record_self_score",
            cycle=cycle,
            unit=unit,
            leaf=leaf,
            **given,
            **extra,
        )
        self.self_inputs.setdefault((cycle, unit), {})[leaf] = given
        return receipt

    def not_applicable(self, cycle: str, unit: str, leaf: str, reason: str) -> dict:
        receipt = self.send(
            self.officer(unit),
            "declare_not_applicable",
            cycle=cycle,
            unit=unit,
            leaf=leaf,
            reason=reason,
        )
        self.self_inputs.setdefault((cycle, unit), {})[leaf] = {"not_applicable": True}
        return receipt

    def adjust(
        self,
        cycle: str,
        unit: str,
        leaf: str,
        reason: str,
        evidence_ids: list | None = None,
        **given,
    ) -> dict:
        extra = {"evidence_ids": evidence_ids} if evidence_ids is not None else {}
        receipt = self.send(
            self.appraiser,
            "adjust_score",
            cycle=cycle,
            unit=unit,
            leaf=leaf,
            reason=reason,
            **given,
            **extra,
        )
        self.adjusted.setdefault((cycle, unit), {})[leaf] = given
        return receipt

    def submit(self, cycle: str, unit: str) -> dict:
        """Scores "0" every leaf not scored yet, then the unit's chair submits:
        nothing is appraised before (docs/SEASON.md)."""
        from domain.assessment import Assessment
        from domain.submission import digest

        framework = self.tn if cycle == TN else self.rules
        for leaf in framework.leaves:
            if leaf.code not in self.self_inputs.get((cycle, unit), {}):
                self.score(cycle, unit, leaf.code, points="0")
        chair = new_key()
        self.env.send(register_command(self.env.admin, chair, "commune_chair", f"commune:{unit}"))
        assessment = self.app.get(Assessment.create_id(cycle, unit), for_update=False)
        covered = assessment.submission(framework)
        return self.send(
            chair,
            "submit_assessment",
            cycle=cycle,
            unit=unit,
            digest=digest(covered),
            self_total=covered["self_total"],
        )

    def attach(
        self, cycle: str, unit: str, evidence_id: str, leaves: list[str], number: str = "15/KH-UBND"
    ) -> dict:
        return self.send(
            self.officer(unit),
            "attach_evidence",
            cycle=cycle,
            unit=unit,
            evidence_id=evidence_id,
            leaves=leaves,
            document={"number": number, "date": "2025-03-01", "issuer": "UBND xã"},
            description="Kế hoạch CCHC",
        )

    def withdraw(self, cycle: str, unit: str, evidence_id: str, reason: str) -> dict:
        return self.send(
            self.officer(unit),
            "withdraw_evidence",
            cycle=cycle,
            unit=unit,
            evidence_id=evidence_id,
            reason=reason,
        )

    def expected(self, cycle: str, unit: str) -> tuple[Result, Result]:
        """(self, appraised) results by the domain, from the inputs this scenario signed."""
        framework = self.tn if cycle == TN else self.rules
        mine = {k: leaf_input(v) for k, v in self.self_inputs.get((cycle, unit), {}).items()}
        theirs = dict(mine)
        theirs.update({k: leaf_input(v) for k, v in self.adjusted.get((cycle, unit), {}).items()})
        return (
            compute(framework, mine, allow_missing=True),
            compute(framework, theirs, allow_missing=True),
        )


def build_scenario(root: Path, database_url: str | None = None) -> Scenario:
    env = make_env(root, database_url)
    s = Scenario(env, load_bundled("thai-nguyen-2021-commune"), rules_framework())
    for framework in (s.tn, s.rules):
        s.send(env.admin, "publish_framework", framework=to_dict(framework))
    units = [{"code": f"xa-0{i}", "name": f"Xã Số {i}"} for i in range(1, 5)]
    s.send(
        env.admin,
        "open_cycle",
        cycle=TN,
        name="Kỳ đánh giá 2025",
        framework=str(s.tn.id),
        year=2025,
        authority="dong-hy",
        province="thai-nguyen",
        units=units,
    )
    s.send(
        env.admin,
        "open_cycle",
        cycle=THU,
        name="Kỳ thử quy tắc",
        framework=str(s.rules.id),
        year=2025,
        authority="dong-hy",
        province="thai-nguyen",
        units=[{"code": "xa-t1", "name": "Xã Thử"}],
    )
    s.appraiser = new_key()
    env.send(
        register_command(
            env.admin,
            s.appraiser,
            role="appraiser",
            scope="authority:dong-hy",
            name="Trần Thẩm Định",
        )
    )

    leaves = s.tn.leaves
    for unit, count in (("xa-01", 108), ("xa-02", 99), ("xa-03", 100), ("xa-04", 84)):
        for leaf in leaves[:count]:
            s.score(TN, unit, leaf.code, points=canonical(leaf.max_points))
    s.submit(TN, "xa-03")
    s.adjust(TN, "xa-03", leaves[99].code, "Không có văn bản chứng minh", points="0")

    # xa-04: a leaf scored, rescored, then adjusted with evidence; an optional leaf
    story = leaves[90]
    s.score(TN, "xa-04", story.code, note="Lần đầu", points=canonical(story.max_points / 2))
    s.score(TN, "xa-04", story.code, note="Bổ sung", points=canonical(story.max_points))
    s.attach(TN, "xa-04", "bb-1", [story.code], number="7/BC-UBND")
    s.not_applicable(TN, "xa-04", "1.8.1", "Không phát sinh trong năm")
    s.submit(TN, "xa-04")
    s.adjust(TN, "xa-04", story.code, "Báo cáo nộp muộn", evidence_ids=["bb-1"], points="0")

    # xa-01: evidence on three leaves, a second item later withdrawn
    s.attach(TN, "xa-01", "kh-1", ["1.1.1", "1.1.2", "1.2.1"])
    s.attach(TN, "xa-01", "kh-2", ["1.1.1"], number="16/KH-UBND")
    s.withdraw(TN, "xa-01", "kh-2", "Nhầm văn bản")
    # Ranked only once submitted (the live ranking, as the manifest ranks).
    s.submit(TN, "xa-01")
    s.submit(TN, "xa-02")

    # thu-2025: the gate closes for the commune, opens on appraisal
    s.score(THU, "xa-t1", "1.1.1", done=False)
    s.score(THU, "xa-t1", "1.1.2", points="0.75")
    s.score(THU, "xa-t1", "1.2", numerator="978", denominator="1000")
    s.not_applicable(THU, "xa-t1", "1.3", "Không có báo cáo đột xuất")
    s.score(THU, "xa-t1", "2.1", numerator="85", denominator="100")
    s.not_applicable(THU, "xa-t1", "2.2", "Không có dự án")
    s.submit(THU, "xa-t1")
    s.adjust(THU, "xa-t1", "1.1.1", "Kế hoạch đã ban hành (bản lưu)", done=True)
    return s


def test_the_scenario_signs_what_it_says():
    """The outcome the projection tests rely on, computed by the domain alone."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        s = build_scenario(Path(tmp))
        try:
            totals = [s.expected(TN, f"xa-0{i}")[1].total for i in range(1, 5)]
            assert totals == [D(90), D(80), D(80), D(70)]
            assert s.expected(TN, "xa-03")[0].total == D("81.5")
            mine, theirs = s.expected(THU, "xa-t1")
            assert mine.node("1.1.2").score == 0 and theirs.node("1.1.2").score == D("0.75")
            assert theirs.applicable_max == D(8)
        finally:
            s.app.close()
