"""A survey component (SIPAS, docs/FRAMEWORKS.md "Variations: a survey
component"): its leaves are entered by the survey's own key (role `survey`)
or the admin, from a file whose hash is signed; the commune and the
appraisers cannot score them; the totals, the ranking, Appendix I and verify
count them; a forged or replayed result is reported."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import verify
from application.documents import export
from domain.errors import DomainError
from domain.framework import Framework, FrameworkMeta, Level, Node, to_dict
from domain.framework.compute import compute
from interfaces.documents import files
from tests.log_operator import Operator
from tests.support import Env, Key, Written, command

CYCLE, A, B = "ks-2025", "xa-a", "xa-b"
SHA = "5a" * 32
SOURCE = {"file_name": "SIPAS-2025.xlsx", "sha256": SHA}


def survey_framework() -> Framework:
    """Area 1 scored by the commune (8 points), area 2 from the survey (2 points)."""
    meta = FrameworkMeta(
        name="Bộ tiêu chí có khảo sát",
        jurisdiction="Tỉnh thử",
        level=Level.COMMUNE,
        year=2024,
        slug="khao-sat-thu",
    )
    return Framework.build(
        meta,
        [
            Node("1", "Công tác chỉ đạo", D(8)),
            Node("1.1", "Kế hoạch CCHC", D(8)),
            Node("2", "Sự hài lòng của người dân (SIPAS)", D(2), component="survey"),
            Node("2.1", "Chỉ số hài lòng về thủ tục", D(1)),
            Node("2.2", "Chỉ số hài lòng về cán bộ", D(1)),
        ],
    )


def open_survey_cycle(env: Env, cycle: str = CYCLE, units=(A, B)) -> None:
    framework = survey_framework()
    if env.app.framework(str(framework.id)) is None:
        env.send(command(env.admin, "publish_framework", framework=to_dict(framework)))
    env.send(
        command(
            env.admin,
            "open_cycle",
            cycle=cycle,
            name="Kỳ có khảo sát",
            framework=str(framework.id),
            year=2025,
            authority="dong-hy",
            province="thai-nguyen",
            units=[{"code": u, "name": f"Xã {u}"} for u in units],
        )
    )


def test_a_survey_area_is_counted_in_the_maximum():
    f = survey_framework()
    assert f.max_total == 10 and f.survey_leaves == {"2.1", "2.2"}
    assert to_dict(f)["format"] == "parindex.framework/2"


@pytest.fixture
def people(env: Env) -> dict[str, Key]:
    open_survey_cycle(env)
    return {
        "officer": env.register("commune_officer", f"commune:{A}")[0],
        "survey": env.register("survey", "province:thai-nguyen", name="Trung tâm khảo sát")[0],
        "appraiser": env.register("appraiser", "authority:dong-hy")[0],
        "council": env.register("council_chair", "authority:dong-hy")[0],
    }


def _refused(env: Env, signer: Key, code: str, type_: str, **fields) -> DomainError:
    before = Written.read(env.app)
    with pytest.raises(DomainError) as e:
        env.send(command(signer, type_, cycle=CYCLE, unit=A, **fields), signer)
    assert Written.read(env.app) == before
    assert code in {e.value.code, *(p.code for p in e.value.problems)}, e.value
    return e.value


def _survey(env: Env, signer: Key, **fields) -> dict:
    fields.setdefault("source", SOURCE)
    return env.send(command(signer, "record_survey_result", cycle=CYCLE, unit=A, **fields), signer)


def test_the_commune_and_the_appraisers_cannot_score_a_survey_leaf(env, people):
    _refused(env, people["officer"], "survey_leaf", "record_self_score", leaf="2.1", points="1")
    _refused(
        env, people["officer"], "survey_leaf", "declare_not_applicable", leaf="2.1", reason="x"
    )
    env.send(
        command(
            people["officer"], "record_self_score", cycle=CYCLE, unit=A, leaf="1.1", points="8"
        ),
        people["officer"],
    )
    env.submit_unit(A, people["officer"], cycle=CYCLE)  # no survey result yet: it counts 0
    for type_, more in (
        ("adjust_score", {"points": "1", "reason": "x"}),
        ("confirm_score", {}),
        ("request_explanation", {"question": "?"}),
    ):
        _refused(env, people["appraiser"], "survey_leaf", type_, leaf="2.2", **more)


def test_the_survey_sets_its_leaves_and_the_totals_count_them(env, people, tmp_path):
    officer = people["officer"]
    env.send(
        command(officer, "record_self_score", cycle=CYCLE, unit=A, leaf="1.1", points="6"),
        officer,
    )
    env.submit_unit(A, officer, cycle=CYCLE)
    _survey(env, people["survey"], scores={"2.1": "0.75", "2.2": "1"})
    # restating needs a reason; the admin may record too
    _refused(
        env,
        people["survey"],
        "reason_required",
        "record_survey_result",
        scores={"2.1": "1"},
        source=SOURCE,
    )
    _survey(env, env.admin, scores={"2.1": "0.5"}, reason="Đính chính số liệu khảo sát")
    council = people["council"]
    # a survey leaf is not the council's to confirm
    _refused(env, council, "survey_leaf", "close_appraisal", confirm=["1.1", "2.2"])
    env.send(command(council, "close_appraisal", cycle=CYCLE, unit=A, confirm=["1.1"]), council)
    _refused(
        env,
        people["survey"],
        "appraisal_closed",
        "record_survey_result",
        scores={"2.2": "0.5"},
        source=SOURCE,
        reason="x",
    )
    from domain.assessment import Assessment

    assessment = env.app.get(Assessment.create_id(CYCLE, A), for_update=False)
    assert assessment.totals["appraised_total"] == "7.5"  # 6 + 0.5 + 1
    assert assessment.totals["self_total"] == "6"  # the commune never claimed the survey's
    assert assessment.reviewed["2.1"] == {"how": "survey", "round": 1}
    sheet = export.make(env.app, "scoring_sheet", CYCLE, A)
    path = tmp_path / "phu-luc-1.xlsx"
    files.write(sheet, path)
    rows = dict(files.read(path).rows)
    assert rows["2.1"]["appraised"] == D("0.5") and rows["2.2"].get("self") is None
    assert SHA in rows["2.1"]["review"] and "Đính chính số liệu khảo sát" in rows["2.1"]["review"]
    from projections.follower import Follower
    from projections.queries import Queries
    from projections.store import PrivateModel

    model = PrivateModel(tmp_path / "read.sqlite")
    Follower(env.app, model).catch_up()
    doc = Queries(model).unit_scores(CYCLE, A)
    node = next(n for n in doc["nodes"] if n["code"] == "2.1")
    assert (doc["appraised_total"], doc["self_total"], doc["max_total"]) == ("7.5", "6", "10")
    assert (node["appraised_score"], node["review"]) == ("0.5", {"how": "survey", "round": 1})
    assert Queries(model).unit_status(CYCLE, A)["scored"] == "1/1"  # survey leaves aside
    history = Queries(model).leaf_history(CYCLE, A, "2.1")
    assert [e["kind"] for e in history["entries"]] == ["survey", "survey"]
    assert all(e["signature_status"] == "valid" for e in history["entries"])
    env.checkpoint()
    assert verify(StoreSource(env.app.tlog), workers=1).findings == []


@pytest.mark.parametrize(
    ("code", "fields"),
    [
        ("not_survey_leaf", {"scores": {"1.1": "1"}}),
        ("not_survey_leaf", {"scores": {"../x": "1"}}),
        ("points_above_max", {"scores": {"2.1": "2"}}),
        ("invalid_scores", {"scores": {}}),
        ("invalid_sha256", {"scores": {"2.1": "1"}, "source": {"file_name": "a", "sha256": "x"}}),
        ("invalid_source", {"scores": {"2.1": "1"}, "source": None}),
    ],
)
def test_a_bad_survey_result_is_refused_and_writes_nothing(env, people, code, fields):
    fields.setdefault("source", SOURCE)
    _refused(env, people["survey"], code, "record_survey_result", **fields)


def test_the_close_waits_for_the_survey_so_no_result_is_shut_out(env, people):
    officer, council = people["officer"], people["council"]
    env.send(
        command(officer, "record_self_score", cycle=CYCLE, unit=A, leaf="1.1", points="8"),
        officer,
    )
    env.submit_unit(A, officer, cycle=CYCLE)
    _survey(env, people["survey"], scores={"2.1": "1"})
    e = _refused(env, council, "survey_pending", "close_appraisal", confirm=["1.1"])
    assert "2.2" in e.message_en
    _survey(env, people["survey"], scores={"2.2": "1"})
    env.send(command(council, "close_appraisal", cycle=CYCLE, unit=A, confirm=["1.1"]), council)


def test_a_survey_leaf_must_be_scored_by_hand():
    from domain.errors import ValidationFailed
    from domain.framework import RatioBand, Rule, RuleKind

    rule = Rule(kind=RuleKind.RATIO_BANDS, bands=(RatioBand(D(100), D(1)), RatioBand(D(0), D(0))))
    nodes = [Node("1", "SIPAS", D(1), component="survey"), Node("1.1", "a", D(1), rule=rule)]
    with pytest.raises(ValidationFailed) as e:
        Framework.build(survey_framework().meta, nodes)
    assert [(p.code, p.field) for p in e.value.problems] == [("survey_rule", "1.1")]


def test_a_commune_or_an_appraiser_cannot_record_a_survey(env, people):
    for who in ("officer", "appraiser"):
        e = _refused(
            env,
            people[who],
            "not_permitted",
            "record_survey_result",
            scores={"2.1": "1"},
            source=SOURCE,
        )
        assert e.status == 403


def test_a_survey_result_copied_onto_another_unit_or_replayed_is_reported(env, people):
    first = _survey(env, people["survey"], scores={"2.1": "1"})["log_index"]
    other = env.send(
        command(
            people["officer"], "record_self_score", cycle=CYCLE, unit=A, leaf="1.1", points="1"
        ),
        people["officer"],
    )
    del other
    op = Operator(env)
    from domain.assessment import Assessment

    copied = op.append_copy(first, onto=Assessment.create_id(CYCLE, B))
    replayed = op.append_copy(first)
    op.reseal()
    report = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=1)
    named = {f.position.get("leaf_index") for f in report.findings}
    assert {copied, replayed} <= named


def test_an_unrecorded_survey_counts_zero_for_the_self_total():
    f = survey_framework()
    from domain.framework import LeafInput

    r = compute(f, {"1.1": LeafInput(points=D(8))}, allow_missing=True)
    assert (r.total, r.max_total) == (8, 10)


def test_a_survey_score_nobody_signed_is_reported(env, people):
    """The operator raises a recorded survey score in the stored event (the
    signed command still says 0.25): verify reports that event."""
    leaf = _survey(env, people["survey"], scores={"2.1": "0.25"})["log_index"]
    op = Operator(env)
    op.rewrite(leaf, lambda state: state.update(scores={"2.1": "1"}))
    op.reseal()
    report = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=1)
    assert leaf in {f.position.get("leaf_index") for f in report.findings}
