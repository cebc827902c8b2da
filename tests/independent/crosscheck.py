"""A pytest plugin for exploring: after every test that uses `env`, export its
log as a bundle and run both verifiers on it; write each disagreement (and a
count of agreements) as a line of JSON to $CROSSCHECK_OUT.

    PYTHONPATH=. CROSSCHECK_OUT=/tmp/x.jsonl \
        pytest -p tests.independent.crosscheck tests/integration/test_ranking.py

It never fails a test: a disagreement is data to read, not a verdict.
"""

from __future__ import annotations

import json
import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """Before the fixtures are torn down: the test's `env`, if it has one."""
    env = getattr(item, "funcargs", {}).get("env")
    if env is None:
        return
    import tempfile
    from pathlib import Path

    from application.audit.bundle import BundleSource, export_bundle
    from application.audit.verify import verify
    from tests.independent.verifier import verify_bundle

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "crosscheck.jsonl"
        try:
            export_bundle(env.app.tlog, path, log_key=env.log_key, origin=env.app.settings.origin)
        except Exception:  # the test closed or broke its store
            return
        report = verify(BundleSource(path), log_key=env.log_key, workers=1)
        theirs = sorted(
            (f.kind, json.dumps(f.position, sort_keys=True), f.detail) for f in report.findings
        )
        try:
            mine = sorted(
                (f.kind, json.dumps(f.position, sort_keys=True), f.detail)
                for f in verify_bundle(path, env.log_key)
            )
        except Exception as e:  # the outsider crashed: that is a finding of its own
            mine = [("crash", "{}", repr(e))]
    same = [x[:2] for x in theirs] == [x[:2] for x in mine]
    line = {"test": item.nodeid, "same": same, "findings": len(theirs)}
    if not same:
        line.update(theirs=theirs, mine=mine)
    with open(os.environ.get("CROSSCHECK_OUT", "/tmp/crosscheck.jsonl"), "a") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
