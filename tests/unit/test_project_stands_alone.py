"""The repository needs nothing outside itself: no path out of it, every cited section exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.vectors import VECTORS_DIR, load

ROOT = Path(__file__).resolve().parents[2]
# Built from pieces so this file does not match itself.
OUTSIDE = [".." + "/shared", "/" + "work/", "shared" + "/vectors", "PARINDEX_" + "SHARED_DIR"]
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".toml",
    ".cfg",
    ".ini",
    ".txt",
    ".yml",
    ".yaml",
    ".json",
    ".sh",
    ".csv",
    ".html",
    ".js",
    ".css",
    "",
}


def tracked_files() -> list[Path]:
    """The files git tracks (or, outside a git checkout, every file but caches and venvs)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
        names = [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
        ]
    files = [ROOT / n for n in names if Path(n).suffix in TEXT_SUFFIXES]
    assert len(files) > 50, "the file listing found too little to prove anything"
    return files


def test_no_tracked_file_refers_to_a_place_outside_the_repository():
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue  # deleted in the work tree, not yet committed
        text = path.read_text("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{number}: {p}" for p in OUTSIDE if p in line]
    assert found == []


DESIGN = ROOT / "docs" / "DESIGN.md"
_CITATION = re.compile(r"DESIGN\.md[\s,(]*[\"'“]([^\"'”]+)[\"'”]")


def test_every_citation_of_the_design_names_a_section_of_docs_design():
    headings = {
        m.group(1).strip() for m in re.finditer(r"^## (.+)$", DESIGN.read_text("utf-8"), re.M)
    }
    cited, unrooted = [], []
    for path in tracked_files():
        if not path.is_file() or path == Path(__file__).resolve():
            continue
        text = path.read_text("utf-8", errors="replace")
        inside_docs = path.parent == DESIGN.parent
        for m in re.finditer(r"(\S*)DESIGN\.md", text):
            if not inside_docs and not m.group(1).endswith("docs/"):
                unrooted.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
        cited += [(path.relative_to(ROOT), c) for c in _CITATION.findall(text)]
    assert unrooted == []
    assert cited, "no citation found: the pattern is wrong"
    assert [(str(p), c) for p, c in cited if c not in headings] == []


def test_every_vector_file_is_listed_with_its_source_and_every_listed_file_is_there():
    readme = (VECTORS_DIR / "README.md").read_text("utf-8")
    listed = set(re.findall(r"^\| `([^`]+\.json)` \|", readme, re.M))
    present = {p.name for p in VECTORS_DIR.glob("*.json")}
    assert listed == present and len(present) == 9
    for row in re.findall(r"^\| `[^`]+\.json` \|.*$", readme, re.M):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert "http" in cells[2] and cells[3], row  # an upstream address and a licence


def test_a_missing_vector_file_fails_instead_of_skipping():
    with pytest.raises(FileNotFoundError):
        load("no-such-vectors.json")
