"""The published test vectors in ../shared/vectors (PARINDEX_SHARED_DIR overrides)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def vectors_dir() -> Path:
    override = os.environ.get("PARINDEX_SHARED_DIR")
    shared = Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared"
    return shared / "vectors"


def load(name: str) -> tuple[dict | None, str]:
    """The vector file's data (None if absent) and the skip reason to use then."""
    path = vectors_dir() / name
    missing = f"published vectors not found at {path} (set PARINDEX_SHARED_DIR)"
    return (json.loads(path.read_text("utf-8")) if path.is_file() else None), missing


def skipped(reason: str) -> list:
    """A single skipped param, so a parametrized test says why it did not run."""
    return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="missing")]
