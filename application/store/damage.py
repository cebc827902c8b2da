"""What a damaged store can hold, and the errors its broken tables raise.

The operator can drop a table or write any value into any column. Readers that
must keep going (verify, the log routes) catch `STORE_ERRORS` and turn odd
values into something the verifier reports with `as_bytes` / `as_int`, instead
of stopping with a traceback.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError

# A missing table, a locked or corrupt file, a lost connection: the library
# wraps most of them in PersistenceError, the raw drivers raise the rest.
STORE_ERRORS: tuple[type[BaseException], ...] = (PersistenceError, sqlite3.Error, psycopg.Error)


def as_bytes(value: Any) -> bytes | None:
    """A BLOB column's value as bytes; text (SQLite keeps whatever was written) as
    its UTF-8 bytes, so a hash over it simply does not match."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")


def as_int(value: Any) -> int:
    """An INTEGER column's value; -1 (which no leaf or version can be) when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return -1
