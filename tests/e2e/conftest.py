"""Fixtures shared by the HTTP end-to-end tests: a fresh world per test and a
Flask test client on it (modules that need a shared world define their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.http_support import Http, World, flask_client, make_world


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    w = make_world(tmp_path)
    try:
        yield w
    finally:
        w.env.app.close()


@pytest.fixture
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client
