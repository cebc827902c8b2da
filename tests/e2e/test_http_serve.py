"""A real `parindex serve` (gunicorn, two workers) on 127.0.0.1, used through the
stdlib client as a district tool would."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.errors import DomainError
from interfaces.client import ApiError, Client
from tests.e2e.http_support import CYCLE, UNITS, Served, World, make_world

PDF = b"%PDF-1.4\n% Bien ban kiem tra\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[World, Served]]:
    root = tmp_path_factory.mktemp("serve")
    world = make_world(root)
    server = Served(world.env.data_dir, workers=2)
    try:
        yield world, server
    finally:
        server.stop()
        world.env.app.close()


@pytest.fixture(scope="module")
def officer(served, tmp_path_factory) -> Client:
    world, server = served
    path = world.key_file(world.officer, tmp_path_factory.mktemp("k") / "officer.key")
    return Client(server.url, path, log_key=world.env.log_key)


def test_the_server_answers_health_and_its_spec(served):
    _, server = served
    with urllib.request.urlopen(server.url + "/healthz") as r:
        assert json.load(r)["status"] == "ok"
    with urllib.request.urlopen(server.url + "/openapi.json") as r:
        spec = json.load(r)
    assert spec["openapi"] == "3.0.3"
    assert "/api/v1/commands" in spec["paths"]


def test_a_write_is_read_back_on_any_worker_with_its_position(served, officer):
    for points in ("0.25", "0.5", "0.75", "1"):
        officer.send(
            {
                "type": "record_self_score",
                "cycle": CYCLE,
                "unit": UNITS[0],
                "leaf": "1.1.2",
                "points": points,
            }
        )
        for _ in range(3):  # successive connections land on either worker
            leaf = next(n for n in officer.scores(CYCLE, UNITS[0])["nodes"] if n["code"] == "1.1.2")
            assert leaf["self_score"] == points


def test_why_through_the_server_verifies_locally(served, officer):
    officer.send(
        {
            "type": "record_self_score",
            "cycle": CYCLE,
            "unit": UNITS[0],
            "leaf": "1.1.1",
            "points": "1",
        }
    )
    doc = officer.why(CYCLE, UNITS[0], "1.1.1")
    assert doc["verified"] and all(e["verified"] for e in doc["chain"])
    assert doc["chain"][-1]["signed_command"]["points"] == "1"


def test_an_uploaded_file_comes_back_byte_for_byte(served, officer, tmp_path):
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(PDF)
    blob = officer.upload(path)
    officer.send(
        {
            "type": "attach_evidence",
            "cycle": CYCLE,
            "unit": UNITS[0],
            "evidence_id": "ev-bb",
            "leaves": ["1.3.2"],
            "file": blob,
        }
    )
    data, media_type = officer.download(CYCLE, UNITS[0], "ev-bb")
    assert data == PDF and media_type == "application/pdf"


def test_concurrent_commands_all_land_and_none_fails(served, officer):
    world, server = served
    before = world.app.tlog.size()

    def one(i: int) -> dict:
        return officer.send(
            {
                "type": "attach_evidence",
                "cycle": CYCLE,
                "unit": UNITS[0],
                "evidence_id": f"ev-c{i}",
                "leaves": ["1.1.1"],
                "document": {"number": f"{i}/BC-UBND"},
            }
        )

    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(one, range(16)))
    assert sorted(r["log_index"] for r in receipts) == list(range(before, before + 16))
    assert len(officer.evidence_list(CYCLE, UNITS[0])["items"]) >= 16


def test_refusals_come_back_as_problems_in_either_language(served, officer):
    world, server = served
    with pytest.raises(ApiError) as info:
        officer.send(
            {
                "type": "record_self_score",
                "cycle": CYCLE,
                "unit": UNITS[1],
                "leaf": "1.1.1",
                "points": "1",
            }
        )
    assert (info.value.status, info.value.code) == (403, "not_permitted")
    assert info.value.message_vi.startswith("Vai trò")
    english = Client(server.url, None, lang="en")
    with pytest.raises(DomainError) as info:
        english.scores(CYCLE, UNITS[0])  # refused before anything is sent
    assert info.value.code == "key_required"
    with pytest.raises(ApiError) as info:
        english.framework("khong-co@1")
    assert info.value.status == 404 and info.value.message_en.startswith("Not found")
