"""One key cannot fill the server's disk with files nothing refers to: new
evidence bytes per key per 24 hours are bounded (PARINDEX_MAX_UPLOAD_BYTES_PER_DAY),
with a clear 429 that says when uploads are possible again."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.uploads import DAY, UploadQuota
from tests.e2e.http_support import assert_problem, flask_client


def pdf(n: int) -> bytes:
    return b"%PDF-1.4\n" + f"% file {n}\n".encode() + b"x" * 1000 + b"\n%%EOF\n"


def test_uploads_past_a_keys_daily_bound_are_429_and_nothing_is_stored(world, monkeypatch):
    monkeypatch.setenv("PARINDEX_MAX_UPLOAD_BYTES_PER_DAY", "2500")  # two such files
    with flask_client(world) as http:
        assert http.put_blob(pdf(1), "application/pdf", world.officer).status_code == 201
        assert http.put_blob(pdf(2), "application/pdf", world.officer).status_code == 201
        # A file already stored costs nothing.
        assert http.put_blob(pdf(1), "application/pdf", world.officer).status_code == 200

        refused = http.put_blob(pdf(3), "application/pdf", world.officer)
        body = assert_problem(refused, 429, "upload_quota_exceeded")
        assert body["errors"][0]["field"] == "file" and "24" in body["detail"]
        assert 0 < int(refused.headers["Retry-After"]) <= DAY + 1
        evidence = Path(world.env.data_dir) / "evidence"
        assert len([p for p in evidence.rglob("*") if p.is_file()]) == 2

        # Another key's uploads are its own.
        assert http.put_blob(pdf(3), "application/pdf", world.appraiser).status_code == 201


def test_a_refused_file_is_not_charged_and_a_day_later_the_bound_is_free_again(tmp_path):
    quota = UploadQuota(tmp_path / "uploads.sqlite", per_day=1000)
    with pytest.raises(ValueError), quota.charged("k1", 900, now=0):
        raise ValueError("not a file the store accepts")
    with quota.charged("k1", 900, now=10):
        pass
    with pytest.raises(Exception) as over, quota.charged("k1", 200, now=20):
        pass
    assert over.value.code == "upload_quota_exceeded"
    with quota.charged("k1", 900, now=10 + DAY + 1):
        pass
