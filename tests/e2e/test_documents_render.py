"""The documents open in LibreOffice (Debian's package, headless) without error,
convert to PDF, and their first page renders to PNG so a person can look at it.

Set PARINDEX_RENDER_DIR to keep the PDFs and PNGs (the closing notes show them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from application.documents import export
from interfaces.documents import files
from tests.oversight_season import U, play
from tests.support import make_env

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
pytestmark = pytest.mark.skipif(
    SOFFICE is None or PDFTOPPM is None,
    reason="LibreOffice or poppler-utils not installed (Debian: libreoffice-calc-nogui, "
    "libreoffice-writer-nogui, poppler-utils; .ci/run installs them)",
)

DOCUMENTS = {
    "phu-luc-1.xlsx": ("scoring_sheet", U),
    "phu-luc-1-word.docx": ("scoring_sheet", U),
    "phu-luc-2.xlsx": ("ranking_table", "2"),
    "phu-luc-2-word.docx": ("ranking_table", "2"),
    "ke-hoach.xlsx": ("improvement_plan", U),
    "ke-hoach-word.docx": ("improvement_plan", U),
}
PLAN = [
    {
        "leaf": "1.1.1",
        "target": "1",
        "tasks": "Ban hành kế hoạch CCHC năm 2026 trước ngày 15/12/2025; "
        "đôn đốc các ngành thực hiện",
        "lead": "Văn phòng UBND xã",
        "partners": "Các ngành chuyên môn",
        "deadline": "Quý IV/2025",
    },
    {
        "leaf": "1.2.1",
        "target": "0.5",
        "tasks": "Báo cáo CCHC đúng số lượng, thời gian",
        "lead": "Văn phòng UBND xã",
        "deadline": "Hằng quý",
    },
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("render")
    env = make_env(root, None)
    try:
        played = play(env)
        env.season_end("c", played.unit.council, played.approver, close=False)
        played.unit.send(played.unit.chair, "record_improvement_plan", plan_year=2026, items=PLAN)
        out = root / "out"
        out.mkdir()
        for name, (kind, subject) in DOCUMENTS.items():
            files.write(export.make(env.app, kind, "c", subject), out / name)
    finally:
        env.app.close()
    profile = (root / "lo-profile").as_uri()
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(out), *(str(out / n) for n in DOCUMENTS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for name in DOCUMENTS:
        pdf = out / (Path(name).stem + ".pdf")
        subprocess.run(
            [PDFTOPPM, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf)]
            + [str(out / Path(name).stem)],
            check=True,
            timeout=120,
        )
    keep = os.environ.get("PARINDEX_RENDER_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for f in out.iterdir():
            shutil.copy(f, keep)
    return out


def _text(pdf: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext (poppler-utils) is needed beside pdftoppm"
    return subprocess.run(
        [tool, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_each_document_converts_to_a_pdf_with_its_content(rendered, name):
    pdf = rendered / (Path(name).stem + ".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _text(pdf)
    kind = DOCUMENTS[name][0]
    heading = {
        "scoring_sheet": "PHỤ LỤC I",
        "ranking_table": "PHỤ LỤC II",
        "improvement_plan": "KẾ HOẠCH KHẮC PHỤC",
    }[kind]
    assert heading in text
    assert "Xã xa-a" in text
    if kind == "improvement_plan":
        assert "Văn phòng" in text and "Ban hành kế hoạch" in text
    elif kind == "scoring_sheet":
        assert "Thời điểm ban hành" in text and "9,375" in text.replace("9.375", "9,375")
    else:
        assert "2/QĐ-UBND" in text


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_the_first_page_renders_to_a_png(rendered, name):
    from PIL import Image

    png = rendered / (Path(name).stem + ".png")
    with Image.open(png) as image:
        width, height = image.size
        assert width > height  # A4 landscape
        # Not a blank page: a real share of the pixels are dark (text and rules).
        histogram = image.convert("L").histogram()
    dark = sum(histogram[:128])
    assert dark > 0.005 * width * height
