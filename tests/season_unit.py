"""One unit through the season (docs/SEASON.md, "One unit's states"): a cycle
opened with a schedule, its officer, chair, appraiser and council chair, and
one method per command they sign. Refusals are checked to write nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from domain.assessment import Assessment
from domain.cycle import Cycle
from domain.errors import DomainError
from domain.framework import Framework, to_dict
from interfaces.bundled import load_bundled
from tests.support import Env, Key, Written, command

C, U, OTHER = "c", "xa-a", "xa-b"


def at(moment: datetime) -> str:
    """A signed issued_at (RFC 3339 UTC, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def whole_seconds_from_now(seconds: int) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


def deadline_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def open_cycle(
    env: Env, cycle: str = C, units=(U, OTHER), year: int = 2025, **schedule: Any
) -> Framework:
    """The bundled Thái Nguyên framework (published once per deployment) and
    `cycle` on it; `schedule` holds open_cycle's level, rounds, deadlines."""
    framework = load_bundled("thai-nguyen-2021-commune")
    if env.app.framework(str(framework.id)) is None:
        env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=cycle,
            name=f"Kỳ {year}",
            framework=str(framework.id),
            year=year,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": u, "name": f"Xã {u}"} for u in units],
            **schedule,
        )
    )
    return framework


@dataclass
class Unit:
    env: Env
    officer: Key
    chair: Key
    appraiser: Key
    council: Key
    cycle: str = C
    unit: str = U

    @classmethod
    def open(cls, env: Env, cycle: str = C, unit: str = U, **schedule: Any) -> Unit:
        open_cycle(env, cycle, **schedule)
        return cls(
            env,
            officer=env.register("commune_officer", f"commune:{unit}")[0],
            chair=env.register("commune_chair", f"commune:{unit}")[0],
            appraiser=env.register("appraiser", "authority:dong-hy")[0],
            council=env.register("council_chair", "authority:dong-hy")[0],
            cycle=cycle,
            unit=unit,
        )

    # -- reading ---------------------------------------------------------------
    @property
    def assessment(self) -> Assessment:
        return self.env.app.get(Assessment.create_id(self.cycle, self.unit), for_update=False)

    @property
    def cycle_now(self) -> Cycle:
        return self.env.app.get(Cycle.create_id(self.cycle), for_update=False)

    def stage(self, moment: datetime | None = None) -> str:
        return self.assessment.stage(self.cycle_now, moment or datetime.now(UTC))

    # -- signing ---------------------------------------------------------------
    def cmd(self, signer: Key, type_: str, **fields: Any) -> dict:
        return command(signer, type_, cycle=self.cycle, unit=self.unit, **fields)

    def send(self, signer: Key, type_: str, **fields: Any) -> dict:
        return self.env.send(self.cmd(signer, type_, **fields), signer)

    def refused(self, signer: Key, type_: str, **fields: Any) -> DomainError:
        before = Written.read(self.env.app)
        with pytest.raises(DomainError) as e:
            self.send(signer, type_, **fields)
        assert Written.read(self.env.app) == before
        return e.value

    def score(self, leaf: str, points: str, **signing: Any) -> dict:
        return self.send(self.officer, "record_self_score", leaf=leaf, points=points, **signing)

    def submit(self, **signing: Any) -> Key:
        return self.env.submit_unit(self.unit, self.officer, self.chair, self.cycle, **signing)

    def adjust(self, leaf: str, points: str, **more: Any) -> dict:
        more.setdefault("reason", "Văn bản ban hành chậm")
        return self.send(self.appraiser, "adjust_score", leaf=leaf, points=points, **more)

    def confirm(self, leaf: str, **more: Any) -> dict:
        return self.send(self.appraiser, "confirm_score", leaf=leaf, **more)

    def flag(self, leaf: str, **more: Any) -> dict:
        more.setdefault("question", "Đề nghị bổ sung văn bản ban hành kế hoạch.")
        return self.send(self.appraiser, "request_explanation", leaf=leaf, **more)

    def answer(self, leaf: str, signer: Key | None = None, **more: Any) -> dict:
        more.setdefault("answer", "Kế hoạch số 15/KH-UBND ban hành ngày 10/01.")
        return self.send(signer or self.officer, "answer_explanation", leaf=leaf, **more)

    def submit_explanations(self, **more: Any) -> dict:
        return self.send(self.chair, "submit_explanations", **more)

    def close(self, confirm: list[str] | None = None, **more: Any) -> dict:
        if confirm is not None:
            more["confirm"] = confirm
        return self.send(self.council, "close_appraisal", **more)

    def unreviewed(self) -> list[str]:
        framework = self.env.app.framework(self.cycle_now.framework)
        return self.assessment.needs_review(framework)


def findings(env: Env) -> list[tuple[str, int | None]]:
    return sorted(
        (f.kind, f.position.get("leaf_index"))
        for f in verify(StoreSource(env.app.tlog), workers=1).findings
    )


def clean(env: Env) -> None:
    env.checkpoint()
    assert findings(env) == []
