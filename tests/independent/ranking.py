"""The council's close and the ranking (FORMATS.md 3.6, "The council's close
and the ranking", "Manifest"; docs/SEASON.md "The whole cycle"): each command
yields one event on the cycle's Ranking aggregate, carrying `signed`.

This verifier replays in one pass in leaf order, so what FORMATS.md 8.2 splits
into pass 1 and a claim per unit checked in pass 2 is checked here at once, on
every unit as it stood just before the command.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from tests.independent import appraisal
from tests.independent.fields import ClaimFailed, Refused
from tests.independent.rules import (
    _next,
    assessment_id,
    cycle_of,
    jcs,
    ranking_id,
)
from tests.independent.state import Ranking, Version, World, Yield
from tests.independent.totals import half_up_4, line_totals

TOPIC = "domain.ranking:Ranking."


def manifest(world: World, cycle_code: str, version: int) -> dict:
    """The manifest the units yield: every unit of the cycle, once."""
    cycle = world.cycles[cycle_code]
    fw = world.frameworks[cycle.framework]
    ranked, unranked = [], []
    for u in cycle.units:
        line = {"unit": u["code"], "name": u["name"]}
        if "type" in u:
            line["type"] = u["type"]
        agg = assessment_id(cycle_code, u["code"])
        if u["code"] in cycle.merged:
            unranked.append({**line, "status": "merged", "into": cycle.merged[u["code"]]})
            continue
        if agg not in world.submitted:
            unranked.append({**line, "status": "not_submitted"})
            continue
        s = world.unit_state(agg)
        totals = line_totals(fw, world.self_inputs[agg], s.appraised)
        ranked.append({**line, "status": "submitted", **totals})
    ranked.sort(key=lambda x: (-Decimal(x["appraised_total"]), x["unit"]))
    rounded = [half_up_4(Decimal(x["appraised_total"])) for x in ranked]
    for line, mine in zip(ranked, rounded, strict=True):
        line["rank"] = 1 + sum(1 for other in rounded if other > mine)
    unranked.sort(key=lambda x: x["unit"])
    return {
        "cycle": cycle_code,
        "version": version,
        "framework": cycle.framework,
        "ranked": ranked,
        "unranked": unranked,
    }


def manifest_digest(content: dict) -> str:
    return "sha256:" + hashlib.sha256(jcs(content).encode("utf-8")).hexdigest()


def _event(cmd, signed, world, name: str, members: dict) -> list[Yield]:
    agg = ranking_id(cmd["cycle"])
    return [Yield(agg, TOPIC + name, _next(world, agg), {**members, "signed": signed})]


def _close_cycle(cmd, signed, digest, world):
    cycle = cycle_of(cmd, world)
    if cmd["cycle"] in world.rankings:
        raise Refused("appraisal_closed")
    members = {"originator_topic": "domain.ranking:Ranking", "cycle": cmd["cycle"]}
    yields = _event(cmd, signed, world, "AppraisalClosed", members)
    for u in cycle.units:
        agg = assessment_id(cmd["cycle"], u["code"])
        merged = u["code"] in cycle.merged
        if agg in world.submitted and not merged and not world.unit_state(agg).closed:
            raise ClaimFailed("units_not_closed", yields)
    return yields


def _close(cmd, signed, digest, world):
    if cmd.get("unit") is None:
        return _close_cycle(cmd, signed, digest, world)
    return appraisal.close_unit(cmd, signed, digest, world)


def _apply_close(cmd, yields, world):
    if cmd.get("unit") is None:
        world.rankings[cmd["cycle"]] = Ranking()
    else:
        appraisal.apply_close_unit(cmd, yields, world)


def _ranking(cmd: dict, world: World) -> Ranking:
    cycle_of(cmd, world)
    ranking = world.rankings.get(cmd["cycle"])
    if ranking is None:
        raise Refused("appraisal_open")
    return ranking


def _propose(cmd, signed, digest, world):
    ranking = _ranking(cmd, world)
    content = cmd["manifest"]
    expected = manifest(world, cmd["cycle"], len(ranking.versions) + 1)
    if jcs(content) == jcs(expected):
        members = {"version": content["version"], "digest": manifest_digest(content)}
        return _event(cmd, signed, world, "Proposed", members)
    if not _same_shape(content, expected):
        raise Refused("ranking_differs")
    # Only units' lines differ: a claim the units do not bear out.
    members = {"version": content["version"], "digest": manifest_digest(content)}
    raise ClaimFailed("ranking_differs", _event(cmd, signed, world, "Proposed", members))


def _same_shape(content: dict, expected: dict) -> bool:
    """What needs no unit's log: cycle, version, framework, every unit once, and
    ranks that follow from the manifest's own appraised totals."""
    try:
        if [content[k] for k in ("cycle", "version", "framework")] != [
            expected[k] for k in ("cycle", "version", "framework")
        ]:
            return False
        units = [x["unit"] for x in content["ranked"] + content["unranked"]]
        wanted = [x["unit"] for x in expected["ranked"] + expected["unranked"]]
        if sorted(units) != sorted(wanted) or len(set(units)) != len(units):
            return False
        rounded = [half_up_4(Decimal(x["appraised_total"])) for x in content["ranked"]]
        ranks = [1 + sum(1 for o in rounded if o > mine) for mine in rounded]
        return ranks == [x["rank"] for x in content["ranked"]]
    except (KeyError, TypeError, ArithmeticError, ValueError):
        return False


def _apply_propose(cmd, yields, world):
    ranking = world.rankings[cmd["cycle"]]
    for v in ranking.versions:
        if v.status in ("proposed", "approved"):
            v.status = "superseded"
    content = cmd["manifest"]
    ranking.versions.append(Version(content["version"], manifest_digest(content), content))


def _unchanged(cmd: dict, world: World, v: Version, yields: list) -> None:
    """Each unit's line as proposed: a claim on the units (reported, state moves)."""
    if jcs(manifest(world, cmd["cycle"], v.version)) != jcs(v.manifest):
        raise ClaimFailed("ranking_changed", yields)


def _approve(cmd, signed, digest, world):
    latest = _ranking(cmd, world).latest
    if latest is None or latest.version != cmd["version"] or latest.status != "proposed":
        raise Refused("not_proposed")
    if cmd["digest"] != latest.digest:
        raise Refused("digest_differs")
    decision = {"number": cmd["decision_number"], "date": cmd["decision_date"]}
    members = {"version": cmd["version"], "decision": decision}
    yields = _event(cmd, signed, world, "Approved", members)
    _unchanged(cmd, world, latest, yields)
    return yields


def _publish(cmd, signed, digest, world):
    latest = _ranking(cmd, world).latest
    if latest is None or latest.version != cmd["version"] or latest.status != "approved":
        raise Refused("not_approved")
    yields = _event(cmd, signed, world, "Published", {"version": cmd["version"]})
    _unchanged(cmd, world, latest, yields)
    return yields


def _status(status: str):
    def move(cmd, yields, world):
        world.rankings[cmd["cycle"]].latest.status = status

    return move


DERIVE = {
    "close_appraisal": _close,
    "propose_ranking": _propose,
    "approve_ranking": _approve,
    "publish_ranking": _publish,
}
APPLY = {
    "close_appraisal": _apply_close,
    "propose_ranking": _apply_propose,
    "approve_ranking": _status("approved"),
    "publish_ranking": _status("published"),
}
