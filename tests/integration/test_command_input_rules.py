"""Every free-text field, decimal and id of every command is checked before anything is
written: a control character, a bidi override, text not in NFC, an oversized value, a
non-canonical decimal or a malformed id is refused with a stable code and the field's
path, and the log, the events and the checkpoints stay exactly as they were."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from domain.errors import DomainError
from domain.framework import to_dict
from interfaces.bundled import load_bundled
from tests.integration.test_projections_scenario import rules_framework
from tests.support import Env, Key, Written, command, make_env, new_key, register_command

CYCLE, RULES_CYCLE, UNIT = "tn-2025", "thu-2025", "xa-01"
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Thị Hoa")


@dataclass
class Season:
    env: Env
    officer: Key
    appraiser: Key
    framework: dict

    def send(self, signer: Key, type_: str, **fields) -> dict:
        return self.env.send(command(signer, type_, **fields), signer)


@pytest.fixture
def season(tmp_path, backend) -> Iterator[Season]:
    env = make_env(tmp_path, backend)
    try:
        framework = to_dict(load_bundled("thai-nguyen-2021-commune"))
        rules = to_dict(rules_framework())
        admin = env.admin
        for data in (framework, rules):
            env.send(command(admin, "publish_framework", framework=data))
        for code, fw in ((CYCLE, framework), (RULES_CYCLE, rules)):
            env.send(
                command(
                    admin,
                    "open_cycle",
                    cycle=code,
                    name="Kỳ đánh giá 2025",
                    framework=fw["id"],
                    year=2025,
                    authority="dong-hy",
                    province="thai-nguyen",
                    units=[{"code": UNIT, "name": "Xã Một"}, {"code": "xa-02", "name": "Xã Hai"}],
                )
            )
        officer, appraiser = new_key(), new_key()
        env.send(register_command(admin, officer, "commune_officer", f"commune:{UNIT}"))
        env.send(register_command(admin, appraiser, "appraiser", "authority:dong-hy"))
        s = Season(env, officer, appraiser, framework)
        s.send(
            officer,
            "attach_evidence",
            cycle=CYCLE,
            unit=UNIT,
            evidence_id="ev-1",
            leaves=["1.1.1"],
            document={"number": "15/KH-UBND", "issuer": "UBND xã"},
        )
        yield s
    finally:
        env.app.close()


def refused(season: Season, signer: str, type_: str, code: str, field: str, **fields) -> None:
    """The command is refused with a problem `code` at `field`, and nothing is written."""
    before = Written.read(season.env.app)
    key = {"admin": season.env.admin, "officer": season.officer, "appraiser": season.appraiser}[
        signer
    ]
    with pytest.raises(DomainError) as caught:
        season.send(key, type_, **fields)
    error = caught.value
    found = [(p.code, p.field) for p in error.problems] or [(error.code, error.field)]
    assert (code, field) in found, (error.code, found, error.message_en)
    assert 400 <= error.status < 500
    assert error.message_vi and error.message_vi != error.message_en
    assert Written.read(season.env.app) == before


SCORE = {"cycle": CYCLE, "unit": UNIT, "leaf": "1.1.1"}
RATIO = {"cycle": RULES_CYCLE, "unit": UNIT, "leaf": "1.2"}


# -- text ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("có\x00NUL", "control_character"),
        ("dòng\r\nhai", "control_character"),
        ("cột\tTAB", "control_character"),
        ("\x1b[31mđỏ", "control_character"),
        ("C1\x85", "control_character"),
        ("đảo\u202echiều", "control_character"),
        ("cô lập\u2066x\u2069", "control_character"),
        ("dòng\u2028mới", "control_character"),
        (NFD_NAME, "text_not_nfc"),
        ("x" * 4001, "text_too_long"),
    ],
)
def test_a_self_score_note_with_unacceptable_text_is_refused(season, bad, code):
    refused(season, "officer", "record_self_score", code, "note", points="1", note=bad, **SCORE)


def test_a_ten_mebibyte_note_is_refused_before_anything_else(season):
    refused(
        season,
        "officer",
        "record_self_score",
        "command_too_large",
        "command",
        points="1",
        note="x" * (10 << 20),
        **SCORE,
    )


def test_line_feeds_are_kept_in_multi_line_notes_and_reasons(season):
    season.send(
        season.officer,
        "record_self_score",
        points="1",
        note="Đã ban hành.\nXem kế hoạch số 15.",
        **SCORE,
    )
    season.env.submit_unit(UNIT, season.officer, cycle=CYCLE)  # appraised after submission
    season.send(
        season.appraiser,
        "adjust_score",
        points="0.5",
        reason="Thiếu minh chứng.\nĐề nghị bổ sung.",
        **SCORE,
    )


def test_reasons_of_every_command_follow_the_text_rule(season):
    refused(
        season,
        "officer",
        "declare_not_applicable",
        "control_character",
        "reason",
        cycle=RULES_CYCLE,
        unit=UNIT,
        leaf="1.3",
        reason="không\x00phát sinh",
    )
    refused(
        season,
        "officer",
        "withdraw_evidence",
        "text_too_long",
        "reason",
        cycle=CYCLE,
        unit=UNIT,
        evidence_id="ev-1",
        reason="x" * 4001,
    )
    refused(
        season,
        "appraiser",
        "adjust_score",
        "control_character",
        "reason",
        points="0.5",
        reason="lý do\u202e",
        **SCORE,
    )
    refused(
        season,
        "appraiser",
        "adjust_score",
        "reason_required",
        "reason",
        points="0.5",
        reason=" \n ",
        **SCORE,
    )
    other = new_key()
    season.env.send(register_command(season.env.admin, other, "observer", "*"))
    refused(
        season,
        "admin",
        "revoke_key",
        "control_character",
        "reason",
        key_id=other.key_id,
        reason="mất\x07khóa",
    )


@pytest.mark.parametrize(
    ("member", "value", "code"),
    [
        ("number", "15/KH\nUBND", "control_character"),
        ("number", "1" * 101, "text_too_long"),
        ("issuer", "UBND\u202exã", "control_character"),
        ("issuer", NFD_NAME, "text_not_nfc"),
        ("section", "Điều\t1", "control_character"),
        ("title", "Kế hoạch\nCCHC", "control_character"),
        ("title", "x" * 1001, "text_too_long"),
        ("number", 15, "invalid_text"),
        ("date", "2025-02-30", "invalid_date"),
        ("date", "2025-1-01", "invalid_date"),
        ("date", "٢٠٢٥-٠١-٠١", "invalid_date"),
    ],
)
def test_every_document_field_is_checked_and_named(season, member, value, code):
    document = {"number": "15/KH-UBND", "issuer": "UBND xã", member: value}
    refused(
        season,
        "officer",
        "attach_evidence",
        code,
        f"document.{member}",
        cycle=CYCLE,
        unit=UNIT,
        evidence_id="ev-2",
        leaves=["1.1.1"],
        document=document,
    )


def test_an_evidence_description_follows_the_text_rule(season):
    refused(
        season,
        "officer",
        "attach_evidence",
        "control_character",
        "description",
        cycle=CYCLE,
        unit=UNIT,
        evidence_id="ev-2",
        leaves=["1.1.1"],
        document={"number": "1"},
        description="mô tả\x00",
    )


def test_key_holder_names_follow_the_text_rule(season):
    for name, code in (
        ("Nguyễn\u202eAn", "control_character"),
        (NFD_NAME, "text_not_nfc"),
        ("Nguyễn\nAn", "control_character"),
    ):
        refused(
            season,
            "admin",
            "register_key",
            code,
            "display_name",
            **{
                k: v
                for k, v in register_command(season.env.admin, new_key(), name=name).items()
                if k not in ("type", "id", "issued_at", "actor")
            },
        )
    fresh = new_key()
    refused(
        season,
        "admin",
        "rotate_key",
        "control_character",
        "display_name",
        old_key_id=season.officer.key_id,
        key_id=fresh.key_id,
        public_key=fresh.public_key,
        display_name="Hoa\x00",
    )


def test_cycle_and_unit_names_are_checked_with_their_position(season):
    units = [{"code": f"xa-{i}", "name": f"Xã {i}"} for i in range(5)]
    units[3]["name"] = "Xã\u202eBa"
    refused(
        season,
        "admin",
        "open_cycle",
        "control_character",
        "units[3].name",
        cycle="c-2026",
        name="Kỳ 2026",
        framework=season.framework["id"],
        year=2026,
        authority="dong-hy",
        province="thai-nguyen",
        units=units,
    )
    refused(
        season,
        "admin",
        "open_cycle",
        "text_too_long",
        "name",
        cycle="c-2026",
        name="K" * 201,
        framework=season.framework["id"],
        year=2026,
        authority="dong-hy",
        province="thai-nguyen",
        units=units[:1],
    )


def test_framework_text_is_checked_where_it_arrives(season):
    data = to_dict(rules_framework())
    data["version"], data["id"] = 2, data["slug"] + "@2"
    bad = {**data, "nodes": [dict(n) for n in data["nodes"]]}
    bad["nodes"][2]["title"] = "Ban hành\x00kế hoạch"
    refused(
        season,
        "admin",
        "publish_framework",
        "control_character",
        "framework.nodes[2].title",
        framework=bad,
    )
    bad = {**data, "name": unicodedata.normalize("NFD", "Bộ thử quy tắc")}
    refused(season, "admin", "publish_framework", "text_not_nfc", "framework.name", framework=bad)
    bad = {**data, "name": "Bộ  thử"}  # read back as "Bộ thử": stored text must be final
    refused(
        season,
        "admin",
        "publish_framework",
        "framework_not_canonical",
        "framework.name",
        framework=bad,
    )


# -- decimals -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["٠.٥", "０.５", "-0", ".5", "1.", "+1", "1e0", " 1", "01", "0.50", "0,5"]
)
def test_non_canonical_points_are_refused_showing_the_accepted_form(season, text):
    refused(
        season,
        "officer",
        "record_self_score",
        "decimal_not_canonical",
        "points",
        points=text,
        **SCORE,
    )


def test_ratio_inputs_and_adjustments_are_exact_decimals_too(season):
    refused(
        season,
        "officer",
        "record_self_score",
        "decimal_not_canonical",
        "numerator",
        numerator="01",
        denominator="10",
        **RATIO,
    )
    refused(
        season,
        "officer",
        "record_self_score",
        "decimal_not_canonical",
        "denominator",
        numerator="1",
        denominator="10.0",
        **RATIO,
    )
    refused(
        season,
        "appraiser",
        "adjust_score",
        "decimal_not_canonical",
        "points",
        points="٠.٥",
        reason="r",
        **SCORE,
    )
    season.send(season.officer, "record_self_score", numerator="978", denominator="1000", **RATIO)


def test_framework_maximums_and_thresholds_must_be_canonical(season):
    data = to_dict(rules_framework())
    data["version"], data["id"] = 3, data["slug"] + "@3"
    bad = {**data, "nodes": [dict(n) for n in data["nodes"]]}
    bad["nodes"][0]["max_points"] = "6.0"
    refused(
        season,
        "admin",
        "publish_framework",
        "decimal_not_canonical",
        "framework.nodes[0].max_points",
        framework=bad,
    )
    bad = {**data, "bands": [dict(b) for b in data["bands"]]}
    bad["bands"][0]["minimum"] = "٩٠"
    refused(
        season,
        "admin",
        "publish_framework",
        "decimal_not_canonical",
        "framework.bands[0].minimum",
        framework=bad,
    )


# -- ids ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("cycle", "tn-2025\n", "invalid_code"),
        ("cycle", "x" * 60_000, "invalid_code"),
        ("unit", "XA-01", "invalid_code"),
        ("leaf", "1.1.1\n", "invalid_leaf"),
        ("leaf", "١.١.١", "invalid_leaf"),
    ],
)
def test_ids_of_a_score_are_slugs(season, field, value, code):
    refused(
        season, "officer", "record_self_score", code, field, points="1", **{**SCORE, field: value}
    )


def test_evidence_ids_and_their_lists_are_slugs(season):
    for bad in ("../etc/passwd", "ev 1", "ev-1\n", "e" * 65, ""):
        refused(
            season,
            "officer",
            "attach_evidence",
            "invalid_evidence_id",
            "evidence_id",
            cycle=CYCLE,
            unit=UNIT,
            evidence_id=bad,
            leaves=["1.1.1"],
            document={"number": "1"},
        )
    refused(
        season,
        "officer",
        "attach_evidence",
        "invalid_leaf",
        "leaves[1]",
        cycle=CYCLE,
        unit=UNIT,
        evidence_id="ev-3",
        leaves=["1.1.1", "1.1.1\n"],
        document={"number": "1"},
    )
    refused(
        season,
        "officer",
        "attach_evidence",
        "duplicate_leaf",
        "leaves[1]",
        cycle=CYCLE,
        unit=UNIT,
        evidence_id="ev-3",
        leaves=["1.1.1", "1.1.1"],
        document={"number": "1"},
    )
    refused(
        season,
        "officer",
        "withdraw_evidence",
        "invalid_evidence_id",
        "evidence_id",
        cycle=CYCLE,
        unit=UNIT,
        evidence_id="x" * 10_000,
        reason="r",
    )
    refused(
        season,
        "appraiser",
        "adjust_score",
        "invalid_evidence_id",
        "evidence_ids[1]",
        points="0.5",
        reason="r",
        evidence_ids=["ev-1", "ev/1"],
        **SCORE,
    )


def test_key_ids_and_cycle_codes_of_admin_commands_are_slugs(season):
    refused(
        season,
        "admin",
        "revoke_key",
        "invalid_key_id",
        "key_id",
        key_id="pk_" + "A" * 32,
        reason="r",
    )
    refused(
        season,
        "admin",
        "open_cycle",
        "invalid_code",
        "units[1].code",
        cycle="c-2027",
        name="Kỳ",
        framework=season.framework["id"],
        year=2027,
        authority="dong-hy",
        province="thai-nguyen",
        units=[{"code": "xa-1", "name": "A"}, {"code": "xa-2\n", "name": "B"}],
    )
    refused(
        season,
        "admin",
        "open_cycle",
        "invalid_code",
        "province",
        cycle="c-2027",
        name="Kỳ",
        framework=season.framework["id"],
        year=2027,
        authority="dong-hy",
        province="thai-nguyen\n",
        units=[{"code": "xa-1", "name": "A"}],
    )
    refused(
        season,
        "admin",
        "open_cycle",
        "invalid_framework_id",
        "framework",
        cycle="c-2027",
        name="Kỳ",
        framework="x" * 5000,
        year=2027,
        authority="dong-hy",
        province="thai-nguyen",
        units=[{"code": "xa-1", "name": "A"}],
    )


@pytest.mark.parametrize(
    ("member", "value", "field"),
    [
        ("slug", "bo-thu\n", "framework.slug"),
        ("supersedes", "bo-thu@1\n", "framework.supersedes"),
        ("band_code", "tot\n", "framework.bands[1].code"),
    ],
)
def test_framework_ids_and_band_codes_are_matched_whole(season, member, value, field):
    data = to_dict(rules_framework())
    data = {**data, "bands": [dict(b) for b in data["bands"]]}
    if member == "slug":
        data["slug"], data["id"] = value, value + "@1"
    elif member == "supersedes":
        data["version"], data["id"], data["supersedes"] = 2, data["slug"] + "@2", value
    else:
        data["bands"][1]["code"] = value
    before = Written.read(season.env.app)
    with pytest.raises(DomainError) as caught:
        season.send(season.env.admin, "publish_framework", framework=data)
    assert field in [p.field for p in caught.value.problems], caught.value.problems
    assert Written.read(season.env.app) == before


@pytest.mark.parametrize("value", ["false", "true", 1, 0, [], {}])
def test_not_applicable_and_done_are_json_booleans_not_truthy_values(season, value):
    refused(
        season,
        "officer",
        "record_self_score",
        "invalid_field",
        "not_applicable",
        not_applicable=value,
        cycle=RULES_CYCLE,
        unit=UNIT,
        leaf="1.3",
    )
    refused(
        season,
        "officer",
        "record_self_score",
        "invalid_field",
        "done",
        done=value,
        cycle=RULES_CYCLE,
        unit=UNIT,
        leaf="1.1.1",
    )
