"""Read models as a reader sees them: scores, ranking, history, evidence, why.

One store is built for the module (signing ~420 commands takes a moment);
every test follows it into its own read-model file.
"""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from application.commands import parse_envelope
from application.signing.jcs import canonicalize_command
from application.signing.keys import public_raw
from domain.framework import canonical
from projections.follower import Follower
from projections.queries import Queries
from projections.store import ReadModel
from tests.integration.test_projections_scenario import THU, TN, Scenario, build_scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    s = build_scenario(tmp_path_factory.mktemp("store"))
    yield s
    s.app.close()


@pytest.fixture
def q(scenario, tmp_path) -> Queries:
    model = ReadModel(tmp_path / "read.sqlite")
    Follower(scenario.app, model).catch_up()
    yield Queries(model)
    model.close()


def text(value: D | None) -> str | None:
    return None if value is None else canonical(value)


# -- scores ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cycle,unit", [(TN, "xa-01"), (TN, "xa-03"), (TN, "xa-04"), (THU, "xa-t1")]
)
def test_every_node_score_equals_the_domain_compute_of_the_signed_inputs(scenario, q, cycle, unit):
    mine, theirs = scenario.expected(cycle, unit)
    got = q.unit_scores(cycle, unit)
    framework = scenario.tn if cycle == TN else scenario.rules
    assert [n["code"] for n in got["nodes"]] == [n.code for n in framework.nodes]
    for node in got["nodes"]:
        s, a = mine.node(node["code"]), theirs.node(node["code"])
        assert node["self_score"] == text(s.score), node["code"]
        assert node["appraised_score"] == text(a.score), node["code"]
        assert node["applicable_max"] == text(a.applicable_max)
        assert node["points_lost"] == text(a.points_lost)
        assert node["percentage"] == text(a.percentage)
    assert got["self_total"] == text(mine.total)
    assert got["appraised_total"] == text(theirs.total)
    assert got["applicable_max"] == text(theirs.applicable_max)
    assert got["index"] == text(theirs.index)
    assert got["band"]["code"] == theirs.band.code


def test_the_thai_nguyen_table_has_all_155_nodes_and_parents_are_sums_of_leaves(q):
    nodes = q.unit_scores(TN, "xa-04")["nodes"]
    assert len(nodes) == 155 and sum(n["is_leaf"] for n in nodes) == 119
    leaves = [n for n in nodes if n["is_leaf"]]
    for node in nodes:
        if node["is_leaf"]:
            continue
        under = [x for x in leaves if x["code"].startswith(node["code"] + ".")]
        for column in ("max_points", "self_score", "appraised_score", "points_lost"):
            assert D(node[column]) == sum(D(x[column]) for x in under), (node["code"], column)
    assert sum(D(n["appraised_score"]) for n in nodes if n["depth"] == 0) == D(70)


def test_a_closed_gate_ratio_points_and_optional_leaves_show_as_the_domain_scores_them(q):
    got = {n["code"]: n for n in q.unit_scores(THU, "xa-t1")["nodes"]}
    assert got["1.1.2"]["self_score"] == "0"  # gate 1.1.1 not done
    assert got["1.1.2"]["appraised_score"] == "0.75"  # appraisers found the plan
    assert got["1.2"]["self_score"] == "2.934"  # 978 of 1000 on a 3-point leaf
    assert got["1.2"]["display"]["self_score"] == "2.93"
    assert got["1.3"]["appraised_score"] == "1" and got["1.3"]["not_applicable"]
    assert got["2.2"]["excluded"] and got["2.2"]["applicable_max"] == "0"
    assert got["2.2"]["percentage"] is None
    assert got["1.1.1"]["self_input"] == {"done": False}
    assert got["1.1.1"]["appraised_input"] == {"done": True} and got["1.1.1"]["adjusted"]


# -- ranking -------------------------------------------------------------------------
def test_ranking_shares_ranks_on_ties_with_bands_from_the_framework(scenario, q):
    ranking = q.ranking(TN)
    rows = [
        (r["unit"], r["rank"], r["appraised_total"], r["self_total"], r["band"]["code"])
        for r in ranking["rows"]
    ]
    assert rows == [
        ("xa-01", 1, "90", "90", "xuat_sac"),
        ("xa-02", 2, "80", "80", "tot"),
        ("xa-03", 2, "80", "81.5", "tot"),
        ("xa-04", 4, "70", text(D(70) + scenario.tn.leaves[90].max_points), "kha"),
    ]
    assert ranking["rows"][0]["band"] == {"code": "xuat_sac", "vi": "Xuất sắc", "en": "Excellent"}
    assert ranking["rows"][2]["display"] == {
        "self_total": "81.50",
        "appraised_total": "80.00",
        "index": "80.00",
    }
    assert ranking["total"] == 4


def test_ranking_pages_keep_the_ranks_of_the_whole_list(q):
    page = q.ranking(TN, limit=2, offset=2)
    assert [(r["unit"], r["rank"]) for r in page["rows"]] == [("xa-03", 2), ("xa-04", 4)]
    assert q.ranking(TN, limit=10, offset=10)["rows"] == []


# -- history and why -------------------------------------------------------------------
def test_history_has_one_row_per_change_with_old_and_new_values_and_the_reason(scenario, q):
    story = scenario.tn.leaves[90]
    half, full = canonical(story.max_points / 2), canonical(story.max_points)
    entries = q.leaf_history(TN, "xa-04", story.code)["entries"]
    assert [(e["seq"], e["kind"]) for e in entries] == [
        (1, "self_score"),
        (2, "self_score"),
        (3, "evidence_attached"),
        (4, "adjustment"),
    ]
    first, second, _, adjustment = entries
    assert (first["old_value"], first["new_value"]) == (None, {"points": half})
    assert (second["old_points"], second["new_points"], second["reason"]) == (half, full, "Bổ sung")
    assert adjustment["old_value"] == {"points": full}
    assert (adjustment["new_points"], adjustment["reason"]) == ("0", "Báo cáo nộp muộn")
    assert adjustment["evidence_ids"] == ["bb-1"]
    assert adjustment["actor"] == {
        "key_id": scenario.appraiser.key_id,
        "name": "Trần Thẩm Định",
        "role": "appraiser",
    }
    assert adjustment["at"].endswith("Z")
    assert [e["leaf_index"] for e in entries] == sorted(e["leaf_index"] for e in entries)


def test_a_history_row_carries_the_exact_signed_command_and_its_signature(scenario, q):
    entry = q.leaf_history(TN, "xa-04", scenario.tn.leaves[90].code)["entries"][-1]
    sent = scenario.sent[json.loads(entry["command"])["id"]]
    assert entry["command"] == canonicalize_command(sent).decode("utf-8")
    signed = parse_envelope(
        {"command": json.loads(entry["command"]), "signature": entry["signature"]}
    )
    assert signed.verify(public_raw(scenario.appraiser.private))


def test_declaring_a_leaf_not_applicable_is_a_change_with_its_reason(q):
    entries = q.leaf_history(TN, "xa-04", "1.8.1")["entries"]
    assert [e["kind"] for e in entries] == ["self_score", "not_applicable"]
    assert entries[1]["new_value"] == {"not_applicable": True}
    assert entries[1]["reason"] == "Không phát sinh trong năm"
    assert entries[1]["new_points"] == "0.5"  # full_points: the maximum all the same


def test_why_names_the_events_behind_the_current_self_and_appraised_values(scenario, q):
    story = scenario.tn.leaves[90]
    why = q.why(TN, "xa-04", story.code)
    assert [(s["kind"], s["produces"]) for s in why["chain"]] == [
        ("self_score", []),
        ("self_score", ["self"]),
        ("adjustment", ["appraised"]),
    ]
    assert why["self"]["points"] == canonical(story.max_points)
    assert why["appraised"]["points"] == "0" and why["appraised"]["adjusted"]
    assert why["appraised"]["reason"] == "Báo cáo nộp muộn"
    assert why["appraised"]["from_leaf_index"] == why["chain"][2]["leaf_index"]
    assert [e["evidence_id"] for e in why["chain"][2]["evidence"]] == ["bb-1"]
    assert why["appraised"]["explanation"]["points"] == "0"
    unadjusted = q.why(TN, "xa-01", "1.1.1")
    assert unadjusted["chain"][0]["produces"] == ["self", "appraised"]
    assert unadjusted["appraised"]["adjusted"] is False
    assert unadjusted["appraised"]["input"] == unadjusted["self"]["input"]


# -- evidence ----------------------------------------------------------------------------
def test_evidence_on_three_leaves_gives_three_history_rows_and_counts_per_node(q):
    for leaf in ("1.1.1", "1.1.2", "1.2.1"):
        kinds = [e["kind"] for e in q.leaf_history(TN, "xa-01", leaf)["entries"]]
        assert kinds.count("evidence_attached") == (2 if leaf == "1.1.1" else 1)
    nodes = {n["code"]: n for n in q.unit_scores(TN, "xa-01")["nodes"]}
    # kh-2 was withdrawn: only kh-1 counts, once per node however many leaves it names
    assert {
        c: nodes[c]["evidence_count"] for c in ("1.1.1", "1.1.2", "1.2.1", "1.1", "1", "2")
    } == {"1.1.1": 1, "1.1.2": 1, "1.2.1": 1, "1.1": 1, "1": 1, "2": 0}
    assert q.unit_scores(TN, "xa-01")["evidence_count"] == 1


def test_a_withdrawn_item_keeps_its_record_with_who_why_and_when(scenario, q):
    items = q.evidence_list(TN, "xa-01")["items"]
    assert [(i["evidence_id"], i["status"]) for i in items] == [
        ("kh-1", "attached"),
        ("kh-2", "withdrawn"),
    ]
    item = q.evidence_item(TN, "xa-01", "kh-2")
    assert item["withdrawn"]["reason"] == "Nhầm văn bản"
    assert item["withdrawn"]["by"]["key_id"] == scenario.officers["xa-01"].key_id
    assert item["withdrawn"]["leaf_index"] > item["leaf_index"]
    assert item["document"]["number"] == "16/KH-UBND" and item["file"] is None
    withdrawal = q.leaf_history(TN, "xa-01", "1.1.1")["entries"][-1]
    assert (withdrawal["kind"], withdrawal["reason"]) == ("evidence_withdrawn", "Nhầm văn bản")
    assert [e["evidence_id"] for e in q.why(TN, "xa-01", "1.1.1")["evidence"]] == ["kh-1"]


# -- registry reads -----------------------------------------------------------------------
def test_frameworks_cycles_and_keys_read_back_as_published(scenario, q):
    assert [f["id"] for f in q.frameworks()] == sorted(
        [str(scenario.rules.id), str(scenario.tn.id)]
    )
    tree = q.framework(str(scenario.tn.id))
    assert len(tree["nodes"]) == 155 and len(tree["tree"]) == 8
    assert tree["tree"][0]["label"] == "I" and tree["tree"][0]["children"][0]["code"] == "1.1"
    assert tree["nodes"][2]["rule"]["kind"] == "manual"
    cycle = q.cycle(TN)
    assert [u["unit"] for u in cycle["units"]] == ["xa-01", "xa-02", "xa-03", "xa-04"]
    assert cycle["units"][0]["band"]["code"] == "xuat_sac"
    assert {c["cycle"] for c in q.cycles()} == {TN, THU}
    roles = {k["key_id"]: (k["role"], k["status"]) for k in q.keys()}
    assert roles[scenario.appraiser.key_id] == ("appraiser", "active")
    assert q.position() == scenario.receipts[-1]["position"]


def test_unknown_cycle_unit_leaf_or_evidence_reads_as_none(q):
    assert q.unit_scores("nope", "xa-01") is None
    assert q.unit_scores(TN, "xa-99") is None
    assert q.ranking("nope") is None
    assert q.cycle("nope") is None
    assert q.framework("nope@1") is None
    assert q.leaf_history(TN, "xa-01", "9.9.9") is None
    assert q.leaf_history(TN, "xa-01", "1.1") is None  # a parent is not a leaf
    assert q.why(TN, "xa-99", "1.1.1") is None
    assert q.evidence_list(TN, "xa-99") is None
    assert q.evidence_item(TN, "xa-01", "nope") is None
    # known, touched only by the "0" scored before the submission
    assert [e["kind"] for e in q.leaf_history(TN, "xa-02", "8.5.2")["entries"]] == ["self_score"]
