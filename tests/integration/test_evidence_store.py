"""The evidence store opens nothing but its own blobs: a hex name, a regular file,
not a symlink, inside its folder; and it never writes through a planted link."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

import application.handlers.assessments as assessment_handlers
from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.evidence import EvidenceStore, is_sha256
from domain.errors import DomainError
from tests.support import command

PDF = b"%PDF-1.4\n% Ke hoach 15/KH-UBND\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
SECRET = b"PRIVATE+KEY+parindex.local/par-index+deadbeef+c2VjcmV0IGtleSBtYXRlcmlhbA==\n"


@pytest.fixture
def store(tmp_path) -> EvidenceStore:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "log.key").write_bytes(SECRET)
    return EvidenceStore(tmp_path / "evidence", max_bytes=1 << 20)


def _plant(store: EvidenceStore, sha: str):
    shard = store.root / sha[:2]
    shard.mkdir(parents=True, exist_ok=True)
    return shard / sha


@pytest.mark.parametrize(
    "sha",
    [
        "../" + "./" * 22 + "data/keys/log.key",
        "/" * 50 + "/etc/passwd",
        PDF_SHA.upper(),
        PDF_SHA[:63],
        PDF_SHA + "0",
        PDF_SHA[:63] + "\n",
        PDF_SHA[:32] + "\x00" + PDF_SHA[33:],
        "\uff10" * 64,
        "٠" * 64,
        "g" * 64,
        "",
        None,
        64,
        b"a" * 64,
    ],
)
def test_only_64_lowercase_hex_characters_are_a_hash(store, sha):
    assert not is_sha256(sha)
    with pytest.raises(ValueError):
        store.path(sha)
    assert store.open(sha) is None and not store.has(sha) and store.describe(sha) is None
    assert store.check(sha) == "evidence_missing"


def test_an_uploaded_blob_is_described_by_its_real_size_and_type(store):
    blob = store.put(PDF, "application/pdf")
    assert blob == {"sha256": PDF_SHA, "size": len(PDF), "media_type": "application/pdf"}
    assert store.describe(PDF_SHA) == blob and store.check(PDF_SHA, len(PDF)) is None
    assert list(store.all()) == [PDF_SHA]


def test_a_blob_that_is_a_symlink_is_not_in_the_store(store, tmp_path):
    _plant(store, PDF_SHA).symlink_to(tmp_path / "keys" / "log.key")
    assert store.open(PDF_SHA) is None and store.describe(PDF_SHA) is None
    assert store.check(PDF_SHA) == "evidence_missing"
    assert list(store.all()) == []


def test_a_shard_folder_linked_out_of_the_store_is_not_in_it(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / PDF_SHA).write_bytes(PDF)
    store.root.mkdir()
    (store.root / PDF_SHA[:2]).symlink_to(outside, target_is_directory=True)
    assert store.open(PDF_SHA) is None and store.check(PDF_SHA) == "evidence_missing"
    with pytest.raises(DomainError) as refused:
        store.put(PDF, "application/pdf")
    assert refused.value.code == "evidence_store_unsafe"
    assert sorted(p.name for p in outside.iterdir()) == [PDF_SHA]


def test_an_upload_replaces_a_planted_link_and_leaves_its_target_alone(store, tmp_path):
    key = tmp_path / "keys" / "log.key"
    _plant(store, PDF_SHA).symlink_to(key)
    store.put(PDF, "application/pdf")
    path = store.path(PDF_SHA)
    assert not path.is_symlink() and path.read_bytes() == PDF
    assert key.read_bytes() == SECRET


def test_an_upload_repairs_a_damaged_copy(store):
    _plant(store, PDF_SHA).write_bytes(b"damaged")
    assert store.describe(PDF_SHA) is None and store.check(PDF_SHA) == "evidence_mismatch"
    store.put(PDF, "application/pdf")
    assert store.describe(PDF_SHA)["size"] == len(PDF)


def test_a_hex_name_holding_other_bytes_is_not_an_upload(store):
    sha = hashlib.sha256(b"something else").hexdigest()
    _plant(store, sha).write_bytes(SECRET)
    assert store.describe(sha) is None


def test_a_blob_over_the_size_limit_is_not_described(tmp_path):
    small = EvidenceStore(tmp_path / "evidence", max_bytes=len(PDF) - 1)
    _plant(small, PDF_SHA).write_bytes(PDF)
    assert small.describe(PDF_SHA) is None


def test_a_fifo_or_a_folder_under_a_hex_name_is_refused_without_waiting(store):
    fifo_sha = hashlib.sha256(b"fifo").hexdigest()
    os.mkfifo(_plant(store, fifo_sha))
    _plant(store, PDF_SHA).mkdir()
    result: list = []
    t = threading.Thread(
        target=lambda: result.extend([store.open(fifo_sha), store.open(PDF_SHA)]), daemon=True
    )
    t.start()
    t.join(5)
    assert result == [None, None]


def test_a_store_folder_that_is_itself_a_link_still_works(tmp_path):
    real = tmp_path / "disk" / "evidence"
    real.mkdir(parents=True)
    (tmp_path / "evidence").symlink_to(real, target_is_directory=True)
    store = EvidenceStore(tmp_path / "evidence", max_bytes=1 << 20)
    store.put(PDF, "application/pdf")
    assert store.describe(PDF_SHA)["size"] == len(PDF)
    assert (real / PDF_SHA[:2] / PDF_SHA).read_bytes() == PDF


def test_verify_reports_an_event_aimed_at_the_log_key_as_missing_evidence(env, monkeypatch):
    """A store written before the hash rule may hold such an event: verify names it
    and never reads the file it points at."""
    env.open_cycle()
    officer, _ = env.register("commune_officer", "commune:xa-a")
    env.app.evidence.put(PDF, "application/pdf")
    sha = "../" + "./" * 22 + "data/keys/log.key"
    assert len(sha) == 64 and (env.app.evidence.root / ".." / sha).is_file()
    monkeypatch.setattr(assessment_handlers, "_file", lambda ctx, problems: ctx.command["file"])
    receipt = env.send(
        command(
            officer,
            "attach_evidence",
            cycle="c",
            unit="xa-a",
            evidence_id="ev1",
            leaves=["1.1.1"],
            file={"sha256": sha, "size": 91, "media_type": "text/plain"},
        ),
        officer,
    )
    report = verify(StoreSource(env.app.tlog, env.app.evidence), log_key=env.log_key)
    assert [(f.kind, f.position.get("leaf_index")) for f in report.findings] == [
        ("evidence_missing", receipt["log_index"])
    ]
