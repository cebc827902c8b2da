"""The derivation rules of FORMATS.md 3.6, the permission table of 3.6.1 and the
aggregate ids of 4.3: what a signed command yields from the replayed state.

Only the standard library and `rfc8785` (the JCS the document names).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from decimal import Decimal

import rfc8785

from tests.independent.fields import Refused, check_fields
from tests.independent.state import (
    Cycle,
    Key,
    World,
    Yield,
    before_deadline,
    in_explanation_window,
    signed_at,
)
from tests.independent.totals import canonical, compute

ACTOR_KEY_CONTEXT = b"parindex-actor-key/v1\n"
DEPLOYMENT_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/deployment")
KEY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/keys")
FRAMEWORK_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/frameworks")
CYCLE_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/cycles")
ASSESSMENT_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/assessments")

# 3.6.1, copied from the document's table
PERMISSIONS = {
    "register_key": {"admin"},
    "rotate_key": {"admin"},
    "revoke_key": {"admin"},
    "publish_framework": {"admin"},
    "open_cycle": {"admin"},
    "record_self_score": {"commune_officer"},
    "declare_not_applicable": {"commune_officer"},
    "attach_evidence": {"commune_officer", "appraiser"},
    "withdraw_evidence": {"commune_officer", "appraiser"},
    "adjust_score": {"appraiser"},
    "submit_assessment": {"commune_chair"},
    "withdraw_submission": {"commune_chair"},
    "extend_deadline": {"admin"},
    "add_units": {"admin"},
    "merge_units": {"admin"},
    "confirm_score": {"appraiser"},
    "request_explanation": {"appraiser"},
    "answer_explanation": {"commune_officer", "commune_chair"},
    "submit_explanations": {"commune_chair"},
    "close_appraisal": {"council_chair"},
    "propose_ranking": {"council_chair"},
    "approve_ranking": {"approver"},
    "publish_ranking": {"approver", "admin"},
    "correct_score": {"appraiser"},
    "record_oversight_note": {"observer"},
    "answer_oversight_note": {"council_chair"},
}
# commands on the whole deployment (only scope * covers them)
DEPLOYMENT_TYPES = {
    "init_deployment",
    "register_key",
    "rotate_key",
    "revoke_key",
    "publish_framework",
    "open_cycle",
}
# commands on an open cycle: its Cycle or its Ranking aggregate (pass 1)
CYCLE_TYPES = {"extend_deadline", "add_units", "merge_units"}
RANKING_TYPES = {"propose_ranking", "approve_ranking", "publish_ranking"}
DEPLOYMENT_TOPICS = (
    "domain.deployment:Deployment.",
    "domain.keys:ActorKey.",
    "domain.framework_record:PublishedFramework.",
    "domain.cycle:Cycle.",
    "domain.ranking:Ranking.",
)
RANKING_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/rankings")
ASSESSMENT_OPENED = "domain.assessment:Assessment.Opened"


def whole_cycle(cmd: dict) -> bool:
    """close_appraisal without `unit` closes the cycle (its Ranking)."""
    t = cmd.get("type")
    return t in RANKING_TYPES or (t == "close_appraisal" and cmd.get("unit") is None)


def is_deployment_command(cmd: dict) -> bool:
    """Pass 1's commands (8.2 step 1): their events are deployment-wide topics."""
    return cmd.get("type") in DEPLOYMENT_TYPES | CYCLE_TYPES or whole_cycle(cmd)


def ranking_id(cycle: str) -> uuid.UUID:
    return uuid.uuid5(RANKING_NS, cycle)


def is_deployment_topic(topic: str) -> bool:
    return topic.startswith(DEPLOYMENT_TOPICS) or topic == ASSESSMENT_OPENED


def actor_key_id(public: bytes) -> str:
    digest = hashlib.sha256(ACTOR_KEY_CONTEXT + public).digest()
    return "pk_" + base64.b32encode(digest[:20]).decode("ascii").lower()


def key_aggregate(key_id: str) -> uuid.UUID:
    return uuid.uuid5(KEY_NAMESPACE, key_id)


def assessment_id(cycle: str, unit: str) -> uuid.UUID:
    return uuid.uuid5(ASSESSMENT_NS, f"{cycle}/{unit}")


def jcs(value) -> str:
    return rfc8785.dumps(value).decode("utf-8")


def framework_digest(framework: dict) -> str:
    return "sha256:" + hashlib.sha256(jcs(framework).encode("utf-8")).hexdigest()


# -- 4.3 binding, 3.6.1 permission -------------------------------------------------
def first_aggregate(cmd: dict) -> uuid.UUID | None:
    t = cmd.get("type")
    if t == "init_deployment":
        return DEPLOYMENT_ID
    if t in ("register_key", "revoke_key"):
        return key_aggregate(str(cmd.get("key_id")))
    if t == "rotate_key":
        return key_aggregate(str(cmd.get("old_key_id")))
    if t == "publish_framework":
        fw = cmd.get("framework") if isinstance(cmd.get("framework"), dict) else {}
        return uuid.uuid5(FRAMEWORK_NS, f"{fw.get('slug')}@{fw.get('version')}")
    if t == "open_cycle" or t in CYCLE_TYPES:
        return uuid.uuid5(CYCLE_NS, str(cmd.get("cycle")))
    if whole_cycle(cmd):
        return ranking_id(str(cmd.get("cycle")))
    if t in PERMISSIONS:
        return assessment_id(str(cmd.get("cycle")), str(cmd.get("unit")))
    return None


def covers(scope: str, target: dict | None) -> bool:
    if scope == "*":
        return True
    if target is None:  # the whole deployment
        return False
    kind, _, code = scope.partition(":")
    return kind in ("province", "authority", "commune") and target.get(kind) == code


def permission_problem(cmd: dict, key: Key, world: World) -> str | None:
    t = cmd["type"]
    target = None
    if t not in DEPLOYMENT_TYPES:
        cycle = world.cycles.get(cmd.get("cycle"))
        if cycle is not None:
            target = {
                "province": cycle.province,
                "authority": cycle.authority,
                "commune": cmd.get("unit"),
            }
        else:
            target = {"commune": cmd.get("unit")}
    if key.role not in PERMISSIONS.get(t, set()) or not covers(key.scope, target):
        return f"role {key.role}, scope {key.scope}, command {t}"
    return None


# -- 3.6 derivation ----------------------------------------------------------------
def _as_signed(cmd: dict, *names: str) -> dict:
    return {n: cmd.get(n) for n in names}


def derive(cmd: dict, signed: dict, digest: str, world: World) -> list[Yield]:
    """The events `cmd` yields on `world`; raises Refused."""
    check_fields(cmd)
    t = cmd["type"]
    out = DERIVE[t](cmd, signed, digest, world)
    ev = cmd.get("expected_version")
    if ev is not None and ev != world.versions.get(out[0].aggregate, 0):
        raise Refused("version_conflict")
    return out


def _next(world: World, aggregate: uuid.UUID) -> int:
    return world.versions.get(aggregate, 0) + 1


def _init(cmd, signed, digest, world):
    raw = base64.b64decode(cmd["public_key"])
    if actor_key_id(raw) != cmd["actor"]:
        raise Refused("key_id_mismatch")
    return [
        Yield(
            DEPLOYMENT_ID,
            "domain.deployment:Deployment.Initialised",
            1,
            {
                "originator_topic": "domain.deployment:Deployment",
                **_as_signed(cmd, "origin", "log_key"),
                "admin_key_id": cmd["actor"],
                "signed": signed,
                "clock_skew_seconds": cmd.get("clock_skew_seconds"),
            },
        ),
        _registered(cmd["actor"], cmd["public_key"], "admin", "*", cmd, signed, None),
    ]


def _registered(key_id, public, role, scope, cmd, signed, rotated_from, name=None):
    return Yield(
        key_aggregate(key_id),
        "domain.keys:ActorKey.Registered",
        1,
        {
            "originator_topic": "domain.keys:ActorKey",
            "key_id": key_id,
            "public_key": public,
            "role": role,
            "scope": scope,
            "display_name": cmd.get("display_name") if name is None else name,
            "signed": signed,
            "rotated_from": rotated_from,
        },
    )


def _register(cmd, signed, digest, world):
    raw = base64.b64decode(cmd["public_key"])
    if actor_key_id(raw) != cmd["key_id"]:
        raise Refused("key_id_mismatch")
    if cmd["key_id"] in world.keys:
        raise Refused("key_exists")
    return [
        _registered(cmd["key_id"], cmd["public_key"], cmd["role"], cmd["scope"], cmd, signed, None)
    ]


def _active(world: World, key_id: str) -> Key:
    key = world.keys.get(key_id)
    if key is None:
        raise Refused("key_not_found")
    if key.last_leaf is not None:
        raise Refused("key_inactive")
    return key


def _revoke(cmd, signed, digest, world):
    _active(world, cmd["key_id"])
    agg = key_aggregate(cmd["key_id"])
    return [
        Yield(
            agg,
            "domain.keys:ActorKey.Revoked",
            _next(world, agg),
            {"reason": cmd["reason"], "signed": signed},
        )
    ]


def _rotate(cmd, signed, digest, world):
    old = _active(world, cmd["old_key_id"])
    raw = base64.b64decode(cmd["public_key"])
    if actor_key_id(raw) != cmd["key_id"]:
        raise Refused("key_id_mismatch")
    if cmd["key_id"] in world.keys:
        raise Refused("key_exists")
    agg = key_aggregate(old.key_id)
    name = cmd.get("display_name")
    return [
        Yield(
            agg,
            "domain.keys:ActorKey.Rotated",
            _next(world, agg),
            {"successor_key_id": cmd["key_id"], "signed": signed},
        ),
        _registered(
            cmd["key_id"],
            cmd["public_key"],
            old.role,
            old.scope,
            cmd,
            signed,
            old.key_id,
            name if name is not None else old.display_name,
        ),
    ]


def _framework_ok(fw: dict) -> None:
    """A reading of FRAMEWORKS.md's invariants, enough to refuse a malformed tree."""
    if fw.get("format") != "parindex.framework/1":
        raise Refused("malformed_framework_data")
    if fw.get("id") != f"{fw.get('slug')}@{fw.get('version')}":
        raise Refused("malformed_framework_data")
    nodes = fw.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise Refused("empty_framework")
    codes = [n.get("code") for n in nodes if isinstance(n, dict)]
    if len(codes) != len(nodes) or len(set(codes)) != len(codes):
        raise Refused("duplicate_code")
    by_code = {n["code"]: n for n in nodes}
    for n in nodes:
        parent = n["code"].rpartition(".")[0]
        if parent and parent not in by_code:
            raise Refused("parent_missing")
        children = [c for c in nodes if c["code"].rpartition(".")[0] == n["code"]]
        if children:
            if n.get("rule") is not None:
                raise Refused("rule_on_parent")
            total = sum(Decimal(c["max_points"]) for c in children)
            if total != Decimal(n["max_points"]):
                raise Refused("parent_sum_mismatch")
        elif not isinstance(n.get("rule"), dict):
            raise Refused("malformed_framework_data")


def _publish(cmd, signed, digest, world):
    fw = cmd["framework"]
    _framework_ok(fw)
    fid = f"{fw['slug']}@{fw['version']}"
    if fid in world.frameworks:
        raise Refused("framework_exists")
    if fw.get("supersedes") is not None and fw["supersedes"] not in world.frameworks:
        raise Refused("unknown_framework")
    return [
        Yield(
            uuid.uuid5(FRAMEWORK_NS, fid),
            "domain.framework_record:PublishedFramework.Published",
            1,
            {
                "originator_topic": "domain.framework_record:PublishedFramework",
                "framework_id": fid,
                "framework": fw,
                "digest": framework_digest(fw),
                "signed": signed,
            },
        )
    ]


def opened(cmd: dict, digest: str, units: list[dict]) -> list[Yield]:
    """One Assessment.Opened per unit, with the reference of the command (4.4)."""
    return [
        Yield(
            assessment_id(cmd["cycle"], u["code"]),
            ASSESSMENT_OPENED,
            1,
            {
                "originator_topic": "domain.assessment:Assessment",
                "cycle": cmd["cycle"],
                "unit": u["code"],
                "unit_name": u["name"],
                "command": {"id": cmd["id"], "digest": digest},
            },
        )
        for u in units
    ]


def _open_cycle(cmd, signed, digest, world):
    if cmd["framework"] not in world.frameworks:
        raise Refused("unknown_framework")
    if cmd["cycle"] in world.cycles:
        raise Refused("cycle_exists")
    agg = uuid.uuid5(CYCLE_NS, cmd["cycle"])
    out = [
        Yield(
            agg,
            "domain.cycle:Cycle.Opened",
            1,
            {
                "originator_topic": "domain.cycle:Cycle",
                **_as_signed(
                    cmd, "cycle", "name", "framework", "year", "authority", "province", "units"
                ),
                "signed": signed,
            },
        )
    ]
    if any(cmd.get(k) is not None for k in ("level", "rounds", "deadlines")):
        rounds = cmd.get("rounds")
        deadlines = cmd.get("deadlines")
        out.append(
            Yield(
                agg,
                "domain.cycle:Cycle.Scheduled",
                2,
                {
                    "level": cmd.get("level"),
                    "rounds": 2 if rounds is None else rounds,
                    "deadlines": {} if deadlines is None else deadlines,
                    "command": {"id": cmd["id"], "digest": digest},
                },
            )
        )
    return out + opened(cmd, digest, cmd["units"])


# -- scoring ------------------------------------------------------------------------
def cycle_of(cmd: dict, world: World) -> Cycle:
    cycle = world.cycles.get(cmd["cycle"])
    if cycle is None:
        raise Refused("cycle_not_found")
    return cycle


def _where(cmd, world) -> tuple[uuid.UUID, dict]:
    """A unit's command: the assessment and the cycle's framework; a merged
    unit takes no command (3.6, `merge_units`)."""
    cycle = cycle_of(cmd, world)
    if cycle.unit(cmd["unit"]) is None:
        raise Refused("unit_not_found")
    if cmd["unit"] in cycle.merged:
        raise Refused("unit_merged")
    return assessment_id(cmd["cycle"], cmd["unit"]), world.frameworks[cycle.framework]


def cycle_closed(cmd: dict, world: World) -> bool:
    """The cycle's appraisal is closed: its Ranking exists."""
    return cmd["cycle"] in world.rankings


def _leaf_node(fw: dict, code: str) -> dict:
    nodes = fw["nodes"]
    node = next((n for n in nodes if n["code"] == code), None)
    if node is None or any(n["code"].startswith(code + ".") for n in nodes):
        raise Refused("unknown_leaf")
    return node


def given_inputs(cmd: dict) -> dict:
    """The given members of the five inputs (absent, null, or a false
    not_applicable is not given)."""
    return {
        k: cmd[k]
        for k in INPUTS
        if cmd.get(k) is not None and not (k == "not_applicable" and cmd[k] is False)
    }


def _score_inputs(cmd: dict, node: dict) -> None:
    """FRAMEWORKS.md "Scoring rules", for the inputs a command signs."""
    rule = node.get("rule") or {"kind": "manual"}
    given = {k for k in ("points", "done", "numerator", "denominator") if cmd.get(k) is not None}
    if cmd.get("not_applicable") is True:
        if rule.get("na_policy") is None:
            raise Refused("not_applicable_not_allowed")
        if given:
            raise Refused("unexpected_input")
        return
    kind = rule.get("kind")
    needed = {
        "manual": {"points"},
        "yes_no": {"done"},
        "ratio_proportional": {"numerator", "denominator"},
        "ratio_bands": {"numerator", "denominator"},
    }.get(kind, {"points"})
    if needed - given:
        raise Refused("missing_input")
    if given - needed:
        raise Refused("unexpected_input")
    top = Decimal(node["max_points"])
    if kind in ("ratio_proportional", "ratio_bands"):
        num, den = Decimal(cmd["numerator"]), Decimal(cmd["denominator"])
        if num < 0 or den < 0:
            raise Refused("negative_input")
        if den == 0:
            raise Refused("denominator_zero")
        if num > den:
            raise Refused("numerator_above_denominator")
    elif kind != "yes_no":
        points = Decimal(cmd["points"])
        if points < 0:
            raise Refused("negative_points")
        if points > top:
            raise Refused("points_above_max")
        step = rule.get("step")
        if step is not None and points != top and points % Decimal(step) != 0:
            raise Refused("points_off_step")


INPUTS = ("points", "done", "numerator", "denominator", "not_applicable")
# 3.6 "Signed order of one signer's scores"
SCORES = (
    "record_self_score",
    "declare_not_applicable",
    "adjust_score",
    "confirm_score",
    "correct_score",
)
COMMUNE = ("commune_officer", "commune_chair")


def _in_signed_order(cmd: dict, agg: uuid.UUID, world: World) -> None:
    """4.7: a signer's scores of one leaf apply in the order they were signed."""
    latest = world.signed_last.get((agg, cmd["actor"], cmd["leaf"]))
    if latest is not None and signed_at(cmd) < latest:
        raise Refused("signed_out_of_order")


def _self_assessing(cmd: dict, agg: uuid.UUID, world: World) -> None:
    """A commune's work ends at the submission and at self_assessment_due."""
    _locked(agg, world)
    before_deadline(cmd, world.cycles[cmd["cycle"]], "self_assessment_due", cmd["unit"])


def _self_score(cmd, signed, digest, world):
    agg, fw = _where(cmd, world)
    _self_assessing(cmd, agg, world)
    _score_inputs(cmd, _leaf_node(fw, cmd["leaf"]))
    _in_signed_order(cmd, agg, world)
    return [
        Yield(
            agg,
            "domain.assessment:Assessment.SelfScoreRecorded",
            _next(world, agg),
            {**_as_signed(cmd, "leaf", *INPUTS, "note"), "signed": signed},
        )
    ]


def _not_applicable(cmd, signed, digest, world):
    agg, fw = _where(cmd, world)
    _self_assessing(cmd, agg, world)
    node = _leaf_node(fw, cmd["leaf"])
    if (node.get("rule") or {}).get("na_policy") is None:
        raise Refused("not_applicable_not_allowed")
    _in_signed_order(cmd, agg, world)
    return [
        Yield(
            agg,
            "domain.assessment:Assessment.NotApplicableDeclared",
            _next(world, agg),
            {**_as_signed(cmd, "leaf", "reason"), "signed": signed},
        )
    ]


def _commune_evidence(cmd: dict, agg: uuid.UUID, world: World, leaves: list[str] | None) -> None:
    """3.6 "Submission" and "Deadlines": a commune's evidence is locked by the
    submission and ends at self_assessment_due, except evidence on flagged
    leaves only in the explanation window; an appraiser's is not bound."""
    if world.keys[cmd["actor"]].role not in COMMUNE:
        return
    cycle = world.cycles[cmd["cycle"]]
    s = world.unit_state(agg)
    window = in_explanation_window(cmd, cycle, cmd["unit"], s, cycle_closed(cmd, world))
    if leaves is not None and window and set(leaves) <= s.flags:
        return
    _self_assessing(cmd, agg, world)


def _attach(cmd, signed, digest, world):
    agg, fw = _where(cmd, world)
    for leaf in cmd["leaves"]:
        _leaf_node(fw, leaf)
    _commune_evidence(cmd, agg, world, cmd["leaves"])
    if cmd["evidence_id"] in world.evidence.get(agg, {}):
        raise Refused("evidence_exists")
    return [
        Yield(
            agg,
            "domain.assessment:Assessment.EvidenceAttached",
            _next(world, agg),
            {
                **_as_signed(cmd, "evidence_id", "leaves", "file", "document", "description"),
                "signed": signed,
            },
        )
    ]


def _withdraw(cmd, signed, digest, world):
    agg, _fw = _where(cmd, world)
    _commune_evidence(cmd, agg, world, None)
    if world.evidence.get(agg, {}).get(cmd["evidence_id"]) is not False:
        raise Refused("evidence_not_found")
    return [
        Yield(
            agg,
            "domain.assessment:Assessment.EvidenceWithdrawn",
            _next(world, agg),
            {**_as_signed(cmd, "evidence_id", "reason"), "signed": signed},
        )
    ]


def _locked(agg, world) -> None:
    if agg in world.submitted:
        raise Refused("assessment_submitted")


def _submit(cmd, signed, digest, world):
    """3.6 "Submission": the digest of every leaf's self input, the evidence
    attached and the self total by the framework's rules."""
    agg, fw = _where(cmd, world)
    if cycle_closed(cmd, world):
        raise Refused("appraisal_closed")
    _self_assessing(cmd, agg, world)
    inputs = world.self_inputs.get(agg, {})
    leaves = [
        n["code"]
        for n in fw["nodes"]
        if not any(m["code"].startswith(n["code"] + ".") for m in fw["nodes"])
    ]
    if any(leaf not in inputs for leaf in leaves):
        raise Refused("assessment_incomplete")
    if cmd["self_total"] != canonical(compute(fw, inputs).total):
        raise Refused("submission_differs")
    covered = {
        "cycle": cmd["cycle"],
        "unit": cmd["unit"],
        "self": {leaf: inputs[leaf] for leaf in sorted(inputs)},
        "evidence": sorted(e for e, gone in world.evidence.get(agg, {}).items() if not gone),
        "self_total": cmd["self_total"],
    }
    if cmd["digest"] != "sha256:" + hashlib.sha256(rfc8785.dumps(covered)).hexdigest():
        raise Refused("submission_differs")
    return [
        Yield(
            agg,
            "domain.assessment:Assessment.Submitted",
            _next(world, agg),
            {**_as_signed(cmd, "digest", "self_total"), "signed": signed},
        )
    ]


def _withdraw_submission(cmd, signed, digest, world):
    agg, _fw = _where(cmd, world)
    before_deadline(cmd, world.cycles[cmd["cycle"]], "self_assessment_due", cmd["unit"])
    if agg not in world.submitted:
        raise Refused("not_submitted")
    if world.unit_state(agg).started:
        raise Refused("appraisal_started")
    return [
        Yield(
            agg,
            "domain.assessment:Assessment.SubmissionWithdrawn",
            _next(world, agg),
            {**_as_signed(cmd, "reason"), "signed": signed},
        )
    ]


DERIVE = {
    "init_deployment": _init,
    "register_key": _register,
    "revoke_key": _revoke,
    "rotate_key": _rotate,
    "publish_framework": _publish,
    "open_cycle": _open_cycle,
    "record_self_score": _self_score,
    "declare_not_applicable": _not_applicable,
    "attach_evidence": _attach,
    "withdraw_evidence": _withdraw,
    "submit_assessment": _submit,
    "withdraw_submission": _withdraw_submission,
}
# apply rules of the season's commands: (cmd, yields, world) -> None
APPLY: dict = {}


def apply(cmd: dict, yields: list[Yield], world: World, leaves: list[int]) -> None:
    """Moves the state by what a valid command yields (4.7: by the command, never
    by what the log stores). `leaves` are the run's leaf indices."""
    for y in yields:
        world.versions[y.aggregate] = y.version
    notes.record_changes(yields, world, leaves)
    t = cmd["type"]
    m = yields[-1].members
    if t in ("init_deployment", "register_key", "rotate_key"):
        at = leaves[min(len(yields) - 1, len(leaves) - 1)]
        world.keys[m["key_id"]] = Key(
            m["key_id"],
            base64.b64decode(m["public_key"]),
            m["public_key"],
            m["role"],
            m["scope"],
            m["display_name"],
            at,
        )
    if t == "init_deployment":
        world.skew = cmd.get("clock_skew_seconds") or 600
    if t in ("revoke_key", "rotate_key"):
        gone = cmd["key_id"] if t == "revoke_key" else cmd["old_key_id"]
        world.keys[gone].last_leaf = leaves[-1]
    if t == "publish_framework":
        world.frameworks[m["framework_id"]] = m["framework"]
    if t == "open_cycle":
        world.cycles[cmd["cycle"]] = Cycle(
            cmd["cycle"],
            cmd["framework"],
            cmd["province"],
            cmd["authority"],
            [dict(u) for u in cmd["units"]],
            rounds=cmd.get("rounds") or 2,
            deadlines={k: signed_time(v) for k, v in (cmd.get("deadlines") or {}).items()},
        )
    if t == "attach_evidence":
        world.evidence.setdefault(yields[0].aggregate, {})[cmd["evidence_id"]] = False
    if t == "withdraw_evidence":
        world.evidence.setdefault(yields[0].aggregate, {})[cmd["evidence_id"]] = True
    if t == "record_self_score":
        world.self_inputs.setdefault(yields[0].aggregate, {})[cmd["leaf"]] = given_inputs(cmd)
    if t == "declare_not_applicable":
        world.self_inputs.setdefault(yields[0].aggregate, {})[cmd["leaf"]] = {
            "not_applicable": True
        }
    if t == "submit_assessment":
        world.submitted.add(yields[0].aggregate)
        world.unit_state(yields[0].aggregate).started = False
    if t == "withdraw_submission":
        world.submitted.discard(yields[0].aggregate)
    if t in SCORES:
        world.signed_last[(yields[0].aggregate, cmd["actor"], cmd["leaf"])] = signed_at(cmd)
    if t in APPLY:
        APPLY[t](cmd, yields, world)


def signed_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# The season's commands, each in its module (they use the helpers above).
from tests.independent import appraisal, calendar, notes, ranking  # noqa: E402

for _module in (calendar, appraisal, ranking, notes):
    DERIVE.update(_module.DERIVE)
    APPLY.update(_module.APPLY)
