"""A whole season on PostgreSQL through two `parindex serve` processes (issue 8):
every step goes through one server or the other, a deadline holds on both and
across a restart (it is judged on the signed time, nothing runs at the
deadline), the ranking is read without a key, and `verify` is clean at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.deployment import open_app
from domain import submission
from domain.framework import to_dict
from interfaces.client import ApiError, Client
from tests.e2e import test_postgres_two_servers as two
from tests.e2e.http_support import AUTHORITY, PROVINCE, Served
from tests.e2e.test_postgres_two_servers import FRAMEWORK, Cluster, _new_person

# The two-server cluster of that module (module-scoped: one of its own here).
pg_url = two.pg_url
cluster = two.cluster

pytestmark = pytest.mark.postgres

CYCLE = "pg-season-2025"
UNITS = ("xa-11", "xa-12", "xa-13")


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class People:
    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.admin = cluster.admin_key_file
        self.files: dict[str, Path] = {}

    def add(self, name: str, role: str, scope: str) -> None:
        path = self.cluster.key_dir / f"season-{name}.key"
        admin = self.cluster.client(self.cluster.a, self.admin)
        _new_person(admin, path, role, scope, f"Người {name}")
        self.files[name] = path

    def client(self, name: str, server: Served) -> Client:
        return self.cluster.client(server, self.files[name])


def restart(cluster: Cluster, which: int) -> None:
    """Stops one server and starts a fresh process on the same data directory."""
    old = cluster.servers[which]
    old.stop()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PARINDEX_DATABASE_URL", cluster.database_url)
        fresh = Served(cluster.dirs[which], workers=2)
    servers = list(cluster.servers)
    servers[which] = fresh
    cluster.servers = (servers[0], servers[1])


def test_a_season_across_two_servers_with_a_deadline_a_restart_and_a_correction(cluster):
    try:
        play(cluster)
    finally:
        cluster.a.stop()  # the restarted server (the fixture stops the ones it started)


def play(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    admin = cluster.client(a, cluster.admin_key_file)
    framework = to_dict(FRAMEWORK)
    if not any(f["id"] == framework["id"] for f in admin.frameworks()["frameworks"]):
        admin.send({"type": "publish_framework", "framework": framework})
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=3)
    admin.send(
        {
            "type": "open_cycle",
            "cycle": CYCLE,
            "name": "Kỳ 2025 (PostgreSQL)",
            "framework": framework["id"],
            "year": 2025,
            "authority": AUTHORITY,
            "province": PROVINCE,
            "units": [{"code": u, "name": f"Xã {u[-2:]}", "type": "xa"} for u in UNITS],
            "level": "district",
            "deadlines": {
                "self_assessment_due": at(due),
                "explanation_due": at(due + timedelta(days=5)),
                "appraisal_due": at(due + timedelta(days=10)),
            },
        }
    )
    people = People(cluster)
    for u in UNITS:
        people.add(f"officer-{u}", "commune_officer", f"commune:{u}")
        people.add(f"chair-{u}", "commune_chair", f"commune:{u}")
    people.add("appraiser", "appraiser", f"authority:{AUTHORITY}")
    people.add("council", "council_chair", f"authority:{AUTHORITY}")
    people.add("approver", "approver", f"province:{PROVINCE}")

    # Self-scores through both servers, alternating.
    leaves = [n.code for n in FRAMEWORK.leaves]
    for u in UNITS:
        officers = (people.client(f"officer-{u}", a), people.client(f"officer-{u}", b))
        for i, leaf in enumerate(leaves):
            points = "1" if leaf == "1.1.1" and u == UNITS[0] else "0"
            officers[i % 2].send(
                {
                    "type": "record_self_score",
                    "cycle": CYCLE,
                    "unit": u,
                    "leaf": leaf,
                    "points": points,
                }
            )

    def submit(u: str, server: Served, **signing: str) -> dict:
        chair = people.client(f"chair-{u}", server)
        doc = chair.submission(CYCLE, u)
        fields = {"digest": doc["digest"], "self_total": doc["content"]["self_total"]}
        assert submission.digest(doc["content"]) == doc["digest"]
        command = {"type": "submit_assessment", "cycle": CYCLE, "unit": u, **fields, **signing}
        return chair.send(command)

    submit(UNITS[0], a)
    submit(UNITS[1], b)
    # A second after the deadline: refused on B, and on A after A restarts.
    late = {"issued_at": at(due + timedelta(seconds=1))}
    with pytest.raises(ApiError) as refused:
        submit(UNITS[2], b, **late)
    assert (refused.value.code, refused.value.status) == ("deadline_passed", 409)
    restart(cluster, 0)
    a = cluster.a
    with pytest.raises(ApiError) as again:
        submit(UNITS[2], a, **late)
    assert again.value.code == "deadline_passed"

    # Appraisal: round 1 on B, an explanation answered through the other server.
    appraiser_a, appraiser_b = people.client("appraiser", a), people.client("appraiser", b)
    where = {"cycle": CYCLE, "unit": UNITS[0]}
    appraiser_b.send(
        {
            "type": "adjust_score",
            **where,
            "leaf": "1.1.1",
            "points": "0.5",
            "reason": "Ban hành chậm",
        }
    )
    flagged = {"cycle": CYCLE, "unit": UNITS[1], "leaf": "1.1.2"}
    appraiser_a.send(
        {"type": "request_explanation", **flagged, "question": "Đề nghị bổ sung văn bản."}
    )
    people.client(f"officer-{UNITS[1]}", b).send(
        {"type": "answer_explanation", **flagged, "answer": "Văn bản số 15/KH-UBND."}
    )
    people.client(f"chair-{UNITS[1]}", a).send(
        {"type": "submit_explanations", "cycle": CYCLE, "unit": UNITS[1]}
    )
    appraiser_b.send({"type": "confirm_score", **flagged})

    # The council closes each unit (one per server) and the cycle.
    council_a, council_b = people.client("council", a), people.client("council", b)
    for u, council in ((UNITS[0], council_a), (UNITS[1], council_b)):
        review = _needs_review(cluster, u)
        council.send({"type": "close_appraisal", "cycle": CYCLE, "unit": u, "confirm": review})
    council_b.send({"type": "close_appraisal", "cycle": CYCLE})

    # Proposal through A, approval through B, publication through A.
    approver_a, approver_b = people.client("approver", a), people.client("approver", b)
    draft = council_a.ranking_draft(CYCLE)
    proposed = council_a.send(
        {"type": "propose_ranking", "cycle": CYCLE, "manifest": draft["manifest"]}
    )
    # B's read model follows the log on its own: the approver reads at A's position
    # (the server waits for it) and checks the digest.
    approver_b.last_position = proposed["position"]
    proposal = approver_b.ranking_version(CYCLE, 1)
    decision = {"decision_number": "12/QĐ-UBND", "decision_date": "2025-12-20"}
    approver_b.send(
        {
            "type": "approve_ranking",
            "cycle": CYCLE,
            "version": 1,
            "digest": proposal["digest"],
            **decision,
        }
    )
    receipt = approver_a.send({"type": "publish_ranking", "cycle": CYCLE, "version": 1})

    public = Client(b.url, None, log_key=cluster.log_key, timeout=30)
    public.last_position = receipt["position"]
    v1 = public.ranking_version(CYCLE, 1, public=True)
    assert [(x["unit"], x["rank"]) for x in v1["ranked"]] == [(UNITS[0], 1), (UNITS[1], 2)]
    assert [(x["unit"], x["status"]) for x in v1["unranked"]] == [(UNITS[2], "not_submitted")]

    # A correction after publication through B; version 2 through both servers.
    appraiser_b.send(
        {
            "type": "attach_evidence",
            **where,
            "evidence_id": "kl-01",
            "leaves": ["1.1.1"],
            "file": None,
            "document": {"number": "05/KL-TTr"},
            "description": None,
        }
    )
    corrected = appraiser_a.send(
        {
            "type": "correct_score",
            **where,
            "leaf": "1.1.1",
            "points": "1",
            "reason": "Kết luận thanh tra",
            "evidence_ids": ["kl-01"],
        }
    )
    council_b.last_position = corrected["position"]
    draft = council_b.ranking_draft(CYCLE)
    assert draft["version"] == 2
    council_b.send({"type": "propose_ranking", "cycle": CYCLE, "manifest": draft["manifest"]})
    approver_a.send(
        {
            "type": "approve_ranking",
            "cycle": CYCLE,
            "version": 2,
            "digest": draft["digest"],
            **decision,
        }
    )
    receipt = approver_b.send({"type": "publish_ranking", "cycle": CYCLE, "version": 2})
    public.last_position = receipt["position"]
    versions = public.rankings(CYCLE, public=True)["versions"]
    assert [(v["version"], v["state"]) for v in versions] == [(1, "published"), (2, "published")]
    assert public.ranking_version(CYCLE, 1, public=True)["ranked"] == v1["ranked"]

    with open_app(cluster.dirs[1]) as app:
        report = verify(StoreSource(app.tlog, app.evidence), log_key=cluster.log_key)
    assert report.ok, [f.text() for f in report.findings[:5]]


def _needs_review(cluster: Cluster, unit: str) -> list[str]:
    from domain.assessment import Assessment

    with open_app(cluster.dirs[1]) as app:
        found = app.get(Assessment.create_id(CYCLE, unit), for_update=False)
        return found.needs_review(app.framework(str(FRAMEWORK.id)))
