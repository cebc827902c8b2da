"""The CLI's ranking text names each band in Vietnamese, from the bands the read carries."""

from __future__ import annotations

from interfaces.cli import ranking_views as views

BANDS = [
    {"code": "tot", "minimum": "80", "name_vi": "Tốt", "name_en": "Good"},
    {"code": "muc_a", "minimum": "0", "name_vi": "Mức A", "name_en": "Level A"},
]
LINE = {
    "unit": "xa-a",
    "name": "Xã A",
    "status": "submitted",
    "rank": 1,
    "self_total": "85",
    "appraised_total": "84.5",
    "index": "84.5",
    "band": "tot",
}


def _version(bands):
    return {
        "cycle": "c",
        "version": 1,
        "state": "published",
        "digest": "d",
        "position": 3,
        "ranked": [LINE, {**LINE, "unit": "xa-b", "band": "muc_a", "rank": 2}],
        "unranked": [],
        "bands": bands,
    }


def test_a_ranking_shows_band_names_not_codes():
    text = views.version_text(_version(BANDS))
    assert "Tốt" in text and "Mức A" in text
    assert " tot " not in text and "muc_a" not in text


def test_without_bands_the_code_is_shown_rather_than_nothing():
    text = views.version_text(_version([]))
    assert " tot " in text and "muc_a" in text


def test_the_manifest_and_the_sheet_name_the_band_too():
    content = {"cycle": "c", "version": 1, "ranked": [LINE], "unranked": []}
    assert "Tốt" in views.manifest_text(content, "d", BANDS)
    sheet = {"cycle": "c", "version": 1, "line": LINE, "nodes": [], "bands": BANDS}
    assert "xếp loại Tốt" in views.sheet_text(sheet)
