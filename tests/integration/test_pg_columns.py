"""Rows sent to PostgreSQL as one array literal per column come back exactly."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from application.store.pg_columns import column_params, unnest_select
from tests.support import PG_SKIP_REASON, pg_base_url

pytestmark = pytest.mark.postgres

KINDS = ("uuid", "bigint", "text", "bytea")
HOSTILE_TEXT = [
    "",
    "NULL",
    "null",
    '"',
    "\\",
    '\\"',
    "{}",
    "{a,b}",
    ",",
    " lead",
    "trail ",
    "Xã Đồng Văn",
    "🙂",
    "a'b); DROP TABLE t; --",
    "\\x00ff",
    "line\nbreak",
]
HOSTILE_BYTES = [b"", b"\x00", b'"', b"\\", b"{,}", bytes(range(256)), b"NULL"]


def test_hostile_text_bytes_nulls_and_big_numbers_round_trip_exactly():
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    rows = [
        (uuid.uuid4(), n, text, data)
        for n, (text, data) in enumerate((t, b) for t in HOSTILE_TEXT for b in HOSTILE_BYTES)
    ]
    rows += [
        (uuid.uuid4(), None, None, None),
        (uuid.uuid4(), 2**63 - 1, "x", b"x"),
        (uuid.uuid4(), -(2**63), "y", b"y"),
    ]
    with psycopg.connect(base) as conn:
        conn.execute("CREATE TEMP TABLE t (k serial, a uuid, b bigint, c text, d bytea)")
        conn.execute(
            f"INSERT INTO t (a, b, c, d) {unnest_select(KINDS)}", column_params(KINDS, rows)
        )
        back = [tuple(r) for r in conn.execute("SELECT a, b, c, d FROM t ORDER BY k")]
    assert back == rows


def test_a_single_empty_value_is_one_row_not_none():
    base = pg_base_url()
    if not base:
        pytest.skip(PG_SKIP_REASON)
    with psycopg.connect(base) as conn:
        got = conn.execute(
            unnest_select(("text", "bytea")), column_params(("text", "bytea"), [("", b"")])
        ).fetchall()
    assert got == [("", b"")]
