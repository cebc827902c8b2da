"""The published test vectors, kept in the repository (tests/data/vectors/README.md).

A missing or unreadable vector file fails the test that needs it: the vectors
are part of the project, never an optional extra found beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent / "data" / "vectors"


def load(name: str) -> dict:
    """The data of one vector file in tests/data/vectors."""
    return json.loads((VECTORS_DIR / name).read_text("utf-8"))
