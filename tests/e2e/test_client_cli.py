"""The `parindex` client commands against a real `parindex serve`, as an officer, an
appraiser and an observer would type them."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.http_support import (
    AUTHORITY,
    CYCLE,
    PROVINCE,
    UNITS,
    World,
    cli_site,
    free_port,
    run_cli,
)
from tests.support import command

PDF = b"%PDF-1.4\n% Ke hoach\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    with cli_site(
        tmp_path_factory.mktemp("cli"),
        lambda w: {
            "officer": w.officer,
            "appraiser": w.appraiser,
            "observer": w.key("observer", "*"),
        },
    ) as site:
        yield site


def parindex(site: dict, who: str, *args: str) -> list[str]:
    return [*args, "--url", site["url"], "--key", site[who], "--log-key", site["world"].env.log_key]


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = run_cli(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


UNIT = ["--cycle", CYCLE, "--unit", UNITS[0]]
# A cycle of its own for the appraisal: submitting locks the commune's scores,
# which the other tests here still change on CYCLE.
APPRAISED_CYCLE = "tn-2025-tham-dinh"
APPRAISED = ["--cycle", APPRAISED_CYCLE, "--unit", UNITS[0]]


def _open_cycle_fields(world: World, cycle: str) -> dict:
    return {
        "cycle": cycle,
        "name": "Kỳ thẩm định",
        "framework": world.framework_id,
        "year": 2025,
        "authority": AUTHORITY,
        "province": PROVINCE,
        "units": [{"code": u, "name": f"Xã {u[-2:]}"} for u in UNITS],
    }


def test_an_officer_scores_adds_evidence_and_an_appraiser_adjusts(site, capsys):
    world = site["world"]
    opened = _open_cycle_fields(world, APPRAISED_CYCLE)
    world.env.send(command(world.env.admin, "open_cycle", **opened))
    code, out, _ = run(
        capsys,
        parindex(
            site,
            "officer",
            "score",
            "set",
            *APPRAISED,
            "--leaf",
            "1.1.1",
            "--points",
            "1",
            "--note",
            "Kế hoạch 15/KH-UBND",
        ),
    )
    assert code == 0 and "Đã ghi điểm tự chấm 1.1.1" in out

    pdf = site["root"] / "ke-hoach.pdf"
    pdf.write_bytes(PDF)
    code, out, _ = run(
        capsys,
        parindex(
            site,
            "officer",
            "evidence",
            "add",
            *APPRAISED,
            "--leaves",
            "1.1.1,1.1.2",
            "--file",
            str(pdf),
            "--number",
            "15/KH-UBND",
            "--date",
            "2025-01-10",
            "--issuer",
            "UBND xã",
            "--id",
            "ev-kh",
            "--json",
        ),
    )
    assert code == 0 and json.loads(out)["evidence_id"] == "ev-kh"

    # Nothing is appraised before the chair submits (every other leaf "0").
    world.env.submit_unit(UNITS[0], world.officer, cycle=APPRAISED_CYCLE)
    code, out, _ = run(
        capsys,
        parindex(
            site,
            "appraiser",
            "appraise",
            *APPRAISED,
            "--leaf",
            "1.1.1",
            "--points",
            "0.5",
            "--reason",
            "Ban hành muộn",
            "--evidence",
            "ev-kh",
        ),
    )
    assert code == 0 and "Đã điều chỉnh điểm 1.1.1" in out
    position = out.rsplit("position ", 1)[1].rstrip(".\n")  # read-your-writes: as printed

    code, out, _ = run(
        capsys, parindex(site, "officer", "scores", *APPRAISED, "--position", position)
    )
    assert code == 0
    assert "Tổng tự chấm: 1.00" in out and "sau thẩm định: 0.50" in out
    assert "1.1.1" in out and "*" in out

    code, out, _ = run(capsys, parindex(site, "officer", "history", *APPRAISED, "--leaf", "1.1.1"))
    assert code == 0
    assert "tự chấm" in out and "thẩm định điều chỉnh" in out and "Ban hành muộn" in out
    # Each change reads from what to what: nothing -> 1 when scored, 1 -> 0.5 on appraisal.
    assert "tự chấm: — → 1 điểm" in out and "1 → 0.5 điểm" in out

    code, out, _ = run(capsys, parindex(site, "observer", "why", *APPRAISED, "--leaf", "1.1.1"))
    assert code == 0
    assert out.count("đã xác minh bằng chứng") == 2
    assert "điểm kiểm tra đã ký" in out

    code, out, _ = run(capsys, parindex(site, "observer", "ranking", "--cycle", APPRAISED_CYCLE))
    assert code == 0 and UNITS[0] in out and "Xếp hạng" in out

    code, out, _ = run(capsys, parindex(site, "officer", "evidence", "list", *APPRAISED))
    assert code == 0 and "ev-kh" in out and "15/KH-UBND" in out


def test_done_ratio_and_not_applicable_values(site, capsys):
    code, out, _ = run(
        capsys,
        parindex(
            site,
            "officer",
            "score",
            "na",
            *UNIT,
            "--leaf",
            "1.8.1",
            "--reason",
            "Không phát sinh",
            "--json",
        ),
    )
    assert code == 0 and json.loads(out)["type"] == "declare_not_applicable"
    # Every bundled leaf is scored by hand: yes/no and ratios are refused with a field error.
    code, _, err = run(
        capsys, parindex(site, "officer", "score", "set", *UNIT, "--leaf", "1.1.2", "--done", "yes")
    )
    assert code == 1 and "Lỗi [" in err
    code, _, err = run(
        capsys,
        parindex(site, "officer", "score", "set", *UNIT, "--leaf", "1.1.2", "--ratio", "978/1000"),
    )
    assert code == 1 and "Lỗi [" in err
    code, _, err = run(
        capsys,
        parindex(site, "officer", "score", "set", *UNIT, "--leaf", "1.1.2", "--ratio", "nhiều"),
    )
    assert code == 1 and "Lỗi [invalid_ratio]" in err


def test_withdrawing_evidence(site, capsys):
    run(
        capsys,
        parindex(
            site,
            "officer",
            "evidence",
            "add",
            *UNIT,
            "--leaves",
            "1.1.1",
            "--number",
            "1/TB-UBND",
            "--id",
            "ev-rut",
        ),
    )
    code, out, _ = run(
        capsys,
        parindex(
            site, "officer", "evidence", "withdraw", *UNIT, "--id", "ev-rut", "--reason", "Nộp nhầm"
        ),
    )
    assert code == 0 and "Đã rút minh chứng ev-rut" in out
    code, out, _ = run(capsys, parindex(site, "officer", "evidence", "list", *UNIT, "--json"))
    item = next(e for e in json.loads(out)["items"] if e["evidence_id"] == "ev-rut")
    assert item["status"] == "withdrawn"


def test_text_typed_in_decomposed_unicode_is_signed_in_nfc_and_accepted(site, capsys):
    # The server refuses text that is not NFC; what a person types is normalised first.
    nfd = unicodedata.normalize("NFD", "Đã ban hành kế hoạch")
    assert nfd != unicodedata.normalize("NFC", nfd)
    code, _, err = run(
        capsys,
        parindex(
            site,
            "officer",
            "score",
            "set",
            *UNIT,
            "--leaf",
            "1.2.1",
            "--points",
            "0.5",
            "--note",
            nfd,
        ),
    )
    assert code == 0, err


def test_refusals_print_the_code_in_vietnamese_and_exit_1(site, capsys):
    code, out, err = run(
        capsys,
        parindex(
            site,
            "officer",
            "score",
            "set",
            "--cycle",
            CYCLE,
            "--unit",
            UNITS[1],
            "--leaf",
            "1.1.1",
            "--points",
            "1",
        ),
    )
    assert code == 1 and out == ""
    assert "Lỗi [not_permitted]: Vai trò" in err

    code, _, err = run(
        capsys, parindex(site, "officer", "score", "set", *UNIT, "--leaf", "1.1.1", "--points", "5")
    )
    assert code == 1 and "Lỗi [validation_failed]" in err and "[points_above_max]" in err

    code, _, err = run(
        capsys, parindex(site, "officer", "scores", "--cycle", CYCLE, "--unit", UNITS[1])
    )
    assert code == 1 and "Lỗi [not_permitted]" in err


def test_english_messages_on_request(site, capsys, monkeypatch):
    monkeypatch.setenv("PARINDEX_LANG", "en")
    code, _, err = run(
        capsys, parindex(site, "officer", "scores", "--cycle", CYCLE, "--unit", UNITS[1])
    )
    assert code == 1 and "Error [not_permitted]" in err


def test_an_unreachable_server_is_an_error_not_a_traceback(site, capsys):
    argv = parindex(site, "officer", "scores", *UNIT)
    argv[argv.index("--url") + 1] = f"http://127.0.0.1:{free_port()}"
    code, _, err = run(capsys, argv)
    assert code == 1 and "Lỗi [connection_failed]" in err


def test_a_why_against_another_log_key_fails_verification(site, capsys):
    from application.signing import keys
    from application.transparency import note

    other = note.format_verifier_key("parindex.local/par-index", keys.generate().public_key())
    argv = parindex(site, "observer", "why", *UNIT, "--leaf", "1.1.1")
    argv[argv.index("--log-key") + 1] = other
    code, out, err = run(capsys, argv)
    assert code == 1 and "Lỗi [proof_invalid]" in err and "đã xác minh" not in out


def test_the_command_line_works_as_a_separate_process(site):
    world: World = site["world"]
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tests.e2e.http_support import run_cli; "
            "sys.exit(run_cli(sys.argv[1:]))",
            *parindex(site, "observer", "ranking", "--cycle", CYCLE, "--json"),
        ],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cycle"] == CYCLE
    assert world.app.tlog.size() > 0


def test_a_framework_table_is_checked_here_and_published_through_the_api(site, capsys, tmp_path):
    # An admin parses and checks the table on their own machine; the server
    # receives only the signed publish_framework command.
    world = site["world"]
    admin_file = world.key_file(world.admin, tmp_path / "admin.key")
    table = tmp_path / "bang.csv"
    table.write_text(
        'code,title,max_points\n1,Lĩnh vực I,2\n1.1,Tiêu chí 1,"1,5"\n1.2,Tiêu chí 2,0.5\n', "utf-8"
    )
    code, out, _ = run(
        capsys,
        [
            "framework",
            "import",
            str(table),
            "--url",
            site["url"],
            "--admin-key",
            str(admin_file),
            "--name",
            "Bảng thử",
            "--jurisdiction",
            "Thử",
            "--level",
            "commune",
            "--year",
            "2026",
            "--slug",
            "bang-thu",
            "--json",
        ],
    )
    assert code == 0, _
    assert json.loads(out)["framework"] == "bang-thu@1"
    code, _out, err = run(
        capsys,
        [
            "framework",
            "import",
            str(table),
            "--url",
            site["url"],
            "--admin-key",
            str(admin_file),
            "--name",
            "Bảng thử",
            "--jurisdiction",
            "Thử",
            "--level",
            "commune",
            "--year",
            "2026",
            "--slug",
            "bang-thu",
        ],
    )
    assert code == 1 and "framework_exists" in err
