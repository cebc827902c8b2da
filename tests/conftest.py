"""Shared fixtures: the storage backend, a fresh deployment, a clean environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support import (
    PARINDEX_ENV,
    PG_SKIP_REASON,
    Env,
    drop_pg_schema,
    make_env,
    pg_base_url,
    pg_schema_url,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        help="also run the tests marked slow (.ci/run does; PARINDEX_SLOW=1 too)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (minutes each) are skipped, visibly, unless asked for."""
    if config.getoption("--run-slow") or os.environ.get("PARINDEX_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (.ci/run does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_parindex_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PARINDEX_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database URL to deploy on: None for SQLite, else a fresh PG schema."""
    if request.param == "sqlite":
        yield None
        return
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    schema = f"t_{uuid.uuid4().hex}"
    try:
        yield pg_schema_url(base, schema)
    finally:
        drop_pg_schema(base, schema)


@pytest.fixture
def env(tmp_path, backend) -> Iterator[Env]:
    """An initialised deployment (genesis + first checkpoint), opened."""
    e = make_env(tmp_path, backend)
    try:
        yield e
    finally:
        e.app.close()
