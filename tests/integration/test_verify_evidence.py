"""verify --data-dir checks evidence files against the hashes their events signed."""

from __future__ import annotations

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from tests.support import command, make_env

PDF = b"%PDF-1.4\n% Ke hoach 15/KH-UBND\n%%EOF\n"


def _with_evidence(tmp_path):
    env = make_env(tmp_path, None)
    env.open_cycle()
    officer, _ = env.register("commune_officer", "commune:xa-a")
    blob = env.app.evidence.put(PDF, "application/pdf")
    receipt = env.send(
        command(
            officer,
            "attach_evidence",
            cycle="c",
            unit="xa-a",
            evidence_id="ev1",
            leaves=["1.1.1"],
            file={**blob, "filename": "kh.pdf"},
        ),
        officer,
    )
    return env, blob, receipt["log_index"]


def findings(env):
    report = verify(StoreSource(env.app.tlog, env.app.evidence), log_key=env.log_key)
    return [(f.kind, f.position.get("leaf_index")) for f in report.findings]


def test_intact_evidence_verifies_clean(tmp_path):
    env, _blob, _at = _with_evidence(tmp_path)
    assert findings(env) == []


def test_a_changed_evidence_file_is_evidence_mismatch_at_its_event(tmp_path):
    env, blob, at = _with_evidence(tmp_path)
    path = env.app.evidence.path(blob["sha256"])
    path.write_bytes(PDF.replace(b"15/KH", b"16/KH"))
    assert findings(env) == [("evidence_mismatch", at)]


def test_a_deleted_evidence_file_is_evidence_missing_at_its_event(tmp_path):
    env, blob, at = _with_evidence(tmp_path)
    env.app.evidence.path(blob["sha256"]).unlink()
    assert findings(env) == [("evidence_missing", at)]
