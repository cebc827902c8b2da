"""Reads for the HTTP API: plain JSON-ready dicts, by SQL on the read model.

CONTRACT (the HTTP layer builds on this; keep it in step with the code)
=======================================================================
    q = Queries(read_model)          # projections.store.ReadModel
Every method reads one snapshot. Decimals are exact strings ("2.935"); beside
them a `display` dict holds 2-place strings (half up) for printing. Times are
UTC RFC 3339 with Z. `None` means unknown cycle/unit/leaf/evidence/framework:
the API answers 404. Nothing here reads aggregates or recomputes totals.

q.position() -> int                  last notification id applied
Read-your-writes: a receipt's "position" is a notification id; before reading,
    follower.wait_for(position, timeout=2.0) -> bool (False: not there in time,
    answer 503 or stale-with-position as the API decides).
Wiring: before serving, open_current(app, path).close() (rebuilds the file if
    missing, outdated or far behind; in a pre-forking server do it in the
    master, before the fork). Then in each process: model = ReadModel(path),
    follower = Follower(app, model), follower.start(interval=0.2),
    q = Queries(model); follower.stop() and model.close() at exit.
q.frameworks() -> [FrameworkSummary]     ordered by slug, version
q.framework(id) -> Framework | None      id is "slug@version"
q.cycles() -> [Cycle]                    ordered by year desc, cycle
q.cycle(cycle) -> CycleDetail | None
q.unit_scores(cycle, unit) -> UnitScores | None
q.ranking(cycle, limit=100, offset=0) -> Ranking | None
q.cycle_status(cycle, limit=100, offset=0, now=None) -> CycleStatus | None
q.unit_status(cycle, unit, now=None) -> UnitStatus | None
    (projections/status.py; `now` defaults to the server's clock, for display only)
q.leaf_history(cycle, unit, leaf) -> LeafHistory | None     (leaf must be a leaf)
q.why(cycle, unit, leaf) -> Why | None
q.evidence_list(cycle, unit) -> EvidenceList | None
q.evidence_item(cycle, unit, evidence_id) -> Evidence | None
q.keys() -> [Key]                        ordered by registered_leaf
q.rankings(cycle, public=False) -> Rankings | None   (public: published only)
q.ranking_version(cycle, version, public=False) -> RankingVersion | None
q.published_sheet(cycle, version, unit) -> PublishedSheet | None  (published only)
    (projections/queries_ranking.py; shapes in docs/API.md, "Rankings")
q.oversight(cycles, filters, limit, offset, after) -> Changes | None
q.oversight_summary(cycles, by, order, limit, offset) -> Summary | None
    (projections/queries_oversight.py; cycles: one code, a list, or None for all)

FrameworkSummary = {id, slug, version, name, jurisdiction, level, year, source,
    supersedes, digest, max_total, node_count, leaf_count, leaf_index,
    published_at, bands: [{code, minimum, name_vi, name_en}]}
Framework = FrameworkSummary + {
    nodes: [Node] (table order), tree: [Node + {children: [...]}] (areas first)}
Node = {code, label, title, parent, depth, position, max_points, note, is_leaf,
    rule: null | {kind, step, bands: [{threshold, points}], gated_by, na_policy}}
Cycle = {cycle, name, framework, year, authority, province, unit_count (units
    not merged), leaf_index, opened_at, level (district | province | null),
    rounds (1 | 2), deadlines: {kind: time}, unit_deadlines: {unit: {kind: time}}}
CycleDetail = Cycle + {framework_name, bands, units: [{unit, name, position (0-based),
    type (xa | phuong | thi_tran | dac_khu | null), merged_into (null | unit),
    self_total, appraised_total, index, band: Band | null,
    display: {self_total, appraised_total, index}}],      (units in signed order,
    merged: {unit: the unit it was merged into},           added ones after)
    changes: [Change] (oldest first), extensions: [Change of kind deadline_extended]}
Change = {seq, kind (deadline_extended | units_added | units_merged), deadline,
    unit, until, previous (the deadline it replaced), units (codes added or
    merged), into, reason, actor: {key_id, name}, at, leaf_index}
Band = {code, vi, en}
Actor = {key_id, name, role}
UnitScores = {cycle, unit, unit_name, framework, max_total, applicable_max,
    self_total, appraised_total, points_lost, self_index, index, band: Band|null,
    self_band_code, evidence_count, submission: null | {status (submitted |
    withdrawn), digest, self_total, actor_key_id, at, reason, leaf_index},
    stage (as UnitStatus), reviewed, flags: {open, answered},
    display: {max_total, applicable_max, self_total, appraised_total,
              points_lost, self_index, index},
    nodes: [NodeScore] (every node, table order)}
NodeScore = {code, label, title, parent, depth, is_leaf, max_points,
    applicable_max, self_score, appraised_score, percentage (appraised /
    applicable max x 100, null if that max is 0), points_lost (applicable max
    - appraised), evidence_count (distinct attached items under the node),
    excluded, display: {max_points, self_score, appraised_score, percentage,
    points_lost}} + for leaves: {self_input, appraised_input (null = never
    reviewed: the self input counts; a confirmation's is the self input as it
    stood), adjusted (review.how adjusted | corrected), review: null (never
    reviewed) | {how (adjusted | confirmed | corrected), round}, flag: null |
    {question, answered, answer, evidence_ids}, not_applicable, note, reason
    (the review's reason or note), history_count, last_leaf_index}
Ranking = {cycle, framework, total (units ranked), limit, offset, rows: [{rank,
    unit, unit_name, self_total, appraised_total, applicable_max, self_index,
    index, band: Band|null, display: {self_total, appraised_total, index}}],
    not_submitted: [{unit, unit_name, status (not_submitted | merged), into}]
    (by code, every one on every page), not_submitted_count}
    Only units submitted and not merged are ranked, as domain.ranking
    with_ranks ranks the manifest: appraised total at 4 places, highest first,
    equal totals share a rank (1, 2, 2, 4), then by code.
CycleStatus = SeasonHead + {unit_count, totals: {not_submitted, round_1,
    explanation, round_2, closed, merged}, limit, offset, units: [UnitStatus]
    (signed order)}
SeasonHead = {cycle, name, framework, authority, level, rounds, leaf_count,
    deadlines: {kind: time}, closed: null | {at, key_id, leaf_index},
    rankings: {count, published, latest: null | {version, state}}, as_of}
UnitStatus = {unit, name, position, type, stage (not_submitted | round_1 |
    explanation | round_2 | closed | merged), merged_into, leaves_scored,
    leaf_count, scored ("107/119"), evidence_count, flags: {open, answered},
    reviewed, deadlines (the unit's: own or the cycle's, the later),
    own_deadlines, submitted_at, submitted_leaf, explanations_submitted_at,
    closed_at, closed_leaf}; q.unit_status adds {cycle, season: SeasonHead}.
    "explanation" reads as round_2 once the unit's explanation_due is before
    `now`: the only part judged on a clock, for display.
LeafHistory = {cycle, unit, leaf, label, title, max_points, entries: [Entry]}
Entry = {seq, kind (self_score | not_applicable | adjustment | confirmation |
    explanation_request | explanation_answer | explanations_submitted |
    unit_closed | correction | evidence_attached | evidence_withdrawn),
    round (of a review, else null), actor: Actor, at, old_value,
    new_value, old_points, new_points, reason, evidence_ids, leaf_index,
    notification_id, originator_id, version, command (exact signed JCS text),
    signature (base64)}           oldest first; points are by the leaf's rule,
                                  before gates
Why = {cycle, unit, leaf, label, title, max_points,
    self: {input, points, display, note, not_applicable, explanation,
           from_seq, from_leaf_index},
    appraised: {input, points, display, reason, adjusted, review,
                explanation, from_seq, from_leaf_index},
    flag: null | {question, answered, answer, evidence_ids},
    chain: [Entry - {command, signature} + {evidence: [Evidence], produces:
            ["self"] | ["appraised"] | ["self", "appraised"] | []}],
    evidence: [Evidence]}         chain = every score event of the leaf (self
                                  scores, not-applicable declarations, answers
                                  that revised the self input, adjustments,
                                  confirmations, the close's confirmations,
                                  corrections), oldest first; `produces` marks
                                  the events the current values come from.
                                  self.points / appraised.points are final (after
                                  gates); a chain entry's points are by the rule.
EvidenceList = {cycle, unit, items: [Evidence]}    in the order attached
Evidence = {evidence_id, leaves, file: null | {sha256, size, media_type,
    filename}, document, description, status (attached | withdrawn),
    attached_by: Actor, attached_at, leaf_index, originator_id, version,
    withdrawn: null | {reason, by: Actor, at, leaf_index}}
Key = {key_id, display_name, role, scope, status (active | revoked | rotated),
    public_key, registered_leaf, registered_at, registered_by, rotated_from,
    rotated_to, revoked_leaf (where it stopped: revoked or rotated), revoked_at,
    revoked_reason}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from projections import queries_leaf as leafq
from projections import queries_notes as notesq
from projections import queries_oversight as overq
from projections import queries_oversight_sums as sumq
from projections import queries_previous as previous_q
from projections import queries_ranking as rankq
from projections import status as status_q
from projections.rows import jload, shown
from projections.store import ReadModel

ADJUSTED = ("adjusted", "corrected")  # the appraisers gave a value of their own


def band(code: str | None, vi: str | None, en: str | None) -> dict | None:
    return None if code is None else {"code": code, "vi": vi, "en": en}


def review(how: str | None, round_: int | None) -> dict | None:
    """None: never reviewed; else how (adjusted | confirmed | corrected) and round."""
    return None if how is None else {"how": how, "round": round_}


def flag(question: str | None, answer: str | None, evidence_ids: str | None) -> dict | None:
    if question is None:
        return None
    return {
        "question": question,
        "answered": answer is not None,
        "answer": answer,
        "evidence_ids": jload(evidence_ids) or [],
    }


class Queries:
    def __init__(self, read_model: ReadModel):
        self.rm = read_model

    def position(self) -> int:
        return self.rm.position()

    # -- frameworks ------------------------------------------------------------
    def frameworks(self) -> list[dict]:
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM frameworks ORDER BY slug, version")
            return [_framework_summary(r) for r in cur.fetchall()]

    def framework(self, framework_id: str) -> dict | None:
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM frameworks WHERE id = ?", (framework_id,))
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                "SELECT * FROM framework_nodes WHERE framework_id = ? ORDER BY position",
                (framework_id,),
            )
            nodes = [_node(r) for r in cur.fetchall()]
        out = _framework_summary(row)
        out["nodes"] = nodes
        out["tree"] = _tree(nodes)
        return out

    # -- cycles ----------------------------------------------------------------
    def cycles(self) -> list[dict]:
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM cycles ORDER BY year DESC, cycle")
            return [_cycle(r) for r in cur.fetchall()]

    def cycle(self, cycle: str) -> dict | None:
        with self.rm.read() as cur:
            cur.execute(
                "SELECT c.*, f.name AS framework_name, f.bands FROM cycles c "
                "LEFT JOIN frameworks f ON f.id = c.framework WHERE c.cycle = ?",
                (cycle,),
            )
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                "SELECT u.unit, u.name, u.position, t.self_total, t.appraised_total, "
                't."index", t.band_code, t.band_vi, t.band_en, k.type, k.merged_into '
                "FROM units u "
                "LEFT JOIN unit_totals t ON t.cycle = u.cycle AND t.unit = u.unit "
                "LEFT JOIN cycle_units k ON k.cycle = u.cycle AND k.unit = u.unit "
                "WHERE u.cycle = ? ORDER BY u.position",
                (cycle,),
            )
            units = [
                {
                    "unit": r["unit"],
                    "name": r["name"],
                    "position": r["position"],
                    "type": r["type"],
                    "merged_into": r["merged_into"],
                    **_totals_shown(r),
                }
                for r in cur.fetchall()
            ]
            cur.execute("SELECT * FROM cycle_changes WHERE cycle = ? ORDER BY seq", (cycle,))
            changes = [_change(r) for r in cur.fetchall()]
            link = previous_q.described(previous_q.link(cur, cycle))
        out = _cycle(row)
        out["previous"] = link
        out.update(
            framework_name=row["framework_name"],
            bands=jload(row["bands"]) or [],
            units=units,
            merged={u["unit"]: u["merged_into"] for u in units if u["merged_into"]},
            changes=changes,
            extensions=[c for c in changes if c["kind"] == "deadline_extended"],
        )
        return out

    # -- past cycles imported from published tables (year on year) -------------------
    def past_cycles(self) -> list[dict]:
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM past_cycles ORDER BY year DESC, cycle")
            return [_past_cycle(r) for r in cur.fetchall()]

    def past_cycle(self, cycle: str) -> dict | None:
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM past_cycles WHERE cycle = ?", (cycle,))
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                "SELECT * FROM past_results WHERE cycle = ? ORDER BY rank IS NULL, rank, unit",
                (cycle,),
            )
            units = [
                {
                    "unit": r["unit"],
                    "name": r["name"],
                    "total": r["total"],
                    "rank": r["rank"],
                    "scores": jload(r["scores"]),
                    "sources": jload(r["sources"]) or [],
                    "leaf_index": r["leaf_index"],
                }
                for r in cur.fetchall()
            ]
        out = _past_cycle(row)
        out["units"] = units
        return out

    # -- scores ----------------------------------------------------------------
    def unit_scores(self, cycle: str, unit: str, now: datetime | None = None) -> dict | None:
        """`now`: the time the unit's stage is judged at (the server's clock if None)."""
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM unit_totals WHERE cycle = ? AND unit = ?", (cycle, unit))
            t = cur.fetchone()
            if t is None:
                return None
            cur.execute(
                "SELECT s.*, n.label, n.title, n.parent, n.depth, n.is_leaf, "
                "l.self_input, l.appraised_input, l.not_applicable, l.self_note, "
                "l.appraised_reason, l.history_count, l.last_leaf_index, l.review_how, "
                "l.review_round, l.flag_question, l.flag_answer, l.flag_evidence_ids "
                "FROM node_scores s JOIN framework_nodes n "
                "ON n.framework_id = ? AND n.code = s.code "
                "LEFT JOIN leaf_state l ON l.cycle = s.cycle AND l.unit = s.unit "
                "AND l.leaf = s.code WHERE s.cycle = ? AND s.unit = ? ORDER BY s.position",
                (t["framework"], cycle, unit),
            )
            nodes = [_node_score(r) for r in cur.fetchall()]
            cur.execute(
                "SELECT status, digest, self_total, actor_key_id, at, reason, leaf_index "
                "FROM submissions WHERE cycle = ? AND unit = ?",
                (cycle, unit),
            )
            found = cur.fetchone()
            status = status_q.unit_status(cur, cycle, unit, now)
            previous = _previous(cur, cycle, unit, nodes)
        keys = (
            "max_total",
            "applicable_max",
            "self_total",
            "appraised_total",
            "points_lost",
            "self_index",
            "index",
        )
        out: dict[str, Any] = {
            "cycle": cycle,
            "unit": unit,
            "unit_name": t["unit_name"],
            "framework": t["framework"],
        }
        out.update({k: t[k] for k in keys})
        out.update(
            band=band(t["band_code"], t["band_vi"], t["band_en"]),
            self_band_code=t["self_band_code"],
            evidence_count=t["evidence_count"],
            # None: never submitted (docs/API.md); else the latest submission or withdrawal.
            submission=dict(zip(found.keys(), tuple(found), strict=True)) if found else None,
            stage=status["stage"] if status else None,
            reviewed=status["reviewed"] if status else 0,
            flags=status["flags"] if status else {"open": 0, "answered": 0},
            display={k: shown(t[k]) for k in keys},
            previous=previous,
            nodes=nodes,
        )
        return out

    def ranking(self, cycle: str, limit: int = 100, offset: int = 0) -> dict | None:
        """The live ranking: the units that submitted (and were not merged) by
        appraised total, as the official manifest ranks them (domain.ranking
        with_ranks: compared at 4 places, ties share a rank, then by code); the
        others listed apart, never ranked as 0."""
        limit, offset = max(0, int(limit)), max(0, int(offset))
        with self.rm.read() as cur:
            cur.execute("SELECT framework FROM cycles WHERE cycle = ?", (cycle,))
            row = cur.fetchone()
            if row is None:
                return None
            ranked = (
                "t.cycle = ? AND t.submitted = 1 AND t.unit NOT IN (SELECT unit FROM "
                "cycle_units WHERE cycle = ? AND merged_into IS NOT NULL)"
            )
            cur.execute(f"SELECT COUNT(*) AS n FROM unit_totals t WHERE {ranked}", (cycle, cycle))
            total = int(cur.fetchone()["n"])
            # Walk the (cycle, submitted, total) index for just this page, then
            # rank it: a row's rank is 1 + the ranked rows strictly above it
            # (total_key is the total x 10^4, exact: totals have 4 places at most).
            cur.execute(
                f"SELECT t.* FROM unit_totals t WHERE {ranked} "
                "ORDER BY t.total_key DESC, t.unit LIMIT ? OFFSET ?",
                (cycle, cycle, limit, offset),
            )
            page = cur.fetchall()

            def above(key: int) -> int:
                cur.execute(
                    f"SELECT COUNT(*) AS n FROM unit_totals t WHERE {ranked} AND t.total_key > ?",
                    (cycle, cycle, key),
                )
                return int(cur.fetchone()["n"])

            ranks = page_ranks([r["total_key"] for r in page], offset, above)
            rows = [ranked_row(r, rank) for r, rank in zip(page, ranks, strict=True)]
            others = _not_ranked(cur, cycle)
            link = previous_q.link(cur, cycle)
            before = previous_q.totals(cur, link, [r["unit"] for r in rows]) if link else {}
        for r in rows:
            r["previous"] = before.get(r["unit"])
        doc = ranking_doc(cycle, row["framework"], total, limit, offset, rows, others)
        doc["previous"] = previous_q.described(link)
        return doc

    # -- where the season stands (projections/status.py) ----------------------------
    def cycle_status(
        self, cycle: str, limit: int = 100, offset: int = 0, now: datetime | None = None
    ) -> dict | None:
        with self.rm.read() as cur:
            return status_q.cycle_status(cur, cycle, limit, offset, now)

    def unit_status(self, cycle: str, unit: str, now: datetime | None = None) -> dict | None:
        with self.rm.read() as cur:
            return status_q.unit_status(cur, cycle, unit, now)

    # -- leaves and evidence -----------------------------------------------------
    def rankings(self, cycle: str, *, public: bool = False, upto: int | None = None) -> dict | None:
        with self.rm.read() as cur:
            return rankq.rankings(cur, cycle, public=public, upto=upto)

    def ranking_version(
        self, cycle: str, version: int, *, public: bool = False, upto: int | None = None
    ) -> dict | None:
        with self.rm.read() as cur:
            return rankq.ranking_version(cur, cycle, version, public=public, upto=upto)

    def published_sheet(self, cycle: str, version: int, unit: str) -> dict | None:
        with self.rm.read() as cur:
            return rankq.published_sheet(cur, cycle, version, unit)

    def leaf_history(
        self, cycle: str, unit: str, leaf: str, upto: int | None = None
    ) -> dict | None:
        with self.rm.read() as cur:
            return leafq.leaf_history(cur, cycle, unit, leaf, upto)

    def why(self, cycle: str, unit: str, leaf: str) -> dict | None:
        with self.rm.read() as cur:
            return leafq.why(cur, cycle, unit, leaf)

    def unit_notes(self, cycle: str, unit: str, upto: int | None = None) -> dict | None:
        with self.rm.read() as cur:
            return notesq.unit_notes(cur, cycle, unit, upto)

    def evidence_list(self, cycle: str, unit: str) -> dict | None:
        with self.rm.read() as cur:
            return leafq.evidence_list(cur, cycle, unit)

    def evidence_item(self, cycle: str, unit: str, evidence_id: str) -> dict | None:
        with self.rm.read() as cur:
            return leafq.evidence_item(cur, cycle, unit, evidence_id)

    # -- oversight (projections/queries_oversight.py) -------------------------------
    def oversight(
        self,
        cycles: Any,
        filters: Any = None,
        limit: int = 100,
        offset: int = 0,
        after: int | None = None,
    ) -> dict | None:
        with self.rm.read() as cur:
            return overq.changes(cur, cycles, filters or overq.Filters(), limit, offset, after)

    def oversight_summary(
        self,
        cycles: Any,
        by: str,
        order: str = "key",
        limit: int = 100,
        offset: int = 0,
        upto: int | None = None,
    ) -> dict | None:
        with self.rm.read() as cur:
            return sumq.summary(cur, cycles, by, order, limit, offset, upto)

    # -- keys --------------------------------------------------------------------
    def keys(self) -> list[dict]:
        with self.rm.read() as cur:
            cur.execute("SELECT * FROM keys ORDER BY registered_leaf, key_id")
            return [{k: r[k] for k in r.keys() if k != "aggregate_id"} for r in cur.fetchall()]


def page_ranks(keys: list[int], offset: int, above: Callable[[int], int]) -> list[int]:
    """The ranks of a page of totals x 10^4, highest first, starting at `offset`:
    1 + the ranked units strictly above (`above` counts them for the first line;
    after it, a line ties with the one before or stands at its own place)."""
    ranks: list[int] = []
    for i, key in enumerate(keys):
        if i and key == keys[i - 1]:
            ranks.append(ranks[-1])
        elif i:
            ranks.append(offset + i + 1)
        else:
            ranks.append(above(key) + 1)
    return ranks


def ranked_row(r: Any, rank: int) -> dict:
    """One line of the live ranking from the unit's unit_totals row."""
    return {
        "rank": rank,
        "unit": r["unit"],
        "unit_name": r["unit_name"],
        "applicable_max": r["applicable_max"],
        "self_index": r["self_index"],
        **_totals_shown(r),
        "previous": None,  # last year's, where the live read finds a link
    }


def _totals_shown(r: Any) -> dict:
    """A unit_totals row's totals, index and band, and how they are shown."""
    return {
        "self_total": r["self_total"],
        "appraised_total": r["appraised_total"],
        "index": r["index"],
        "band": band(r["band_code"], r["band_vi"], r["band_en"]),
        "display": {
            "self_total": shown(r["self_total"]),
            "appraised_total": shown(r["appraised_total"]),
            "index": shown(r["index"]),
        },
    }


def ranking_doc(
    cycle: str,
    framework: str,
    total: int,
    limit: int,
    offset: int,
    rows: list[dict],
    others: list[dict],
) -> dict:
    return {
        "cycle": cycle,
        "framework": framework,
        "total": total,
        "limit": limit,
        "offset": offset,
        "rows": rows,
        "not_submitted": others,
        "not_submitted_count": len(others),
        "previous": None,
    }


def not_ranked_rows(found: dict[str, tuple[str | None, str | None]]) -> list[dict]:
    """unit -> (name, merged into or None), as the ranking lists them: by code."""
    return [
        {
            "unit": unit,
            "unit_name": name,
            "status": "not_submitted" if into is None else "merged",
            "into": into,
        }
        for unit, (name, into) in sorted(found.items())
    ]


def _not_ranked(cur: Any, cycle: str) -> list[dict]:
    """Units not ranked, by code: never submitted (or withdrawn), or merged."""
    cur.execute(
        "SELECT t.unit, t.unit_name, k.merged_into FROM unit_totals t LEFT JOIN cycle_units k "
        "ON k.cycle = t.cycle AND k.unit = t.unit WHERE t.cycle = ? AND t.submitted = 0",
        (cycle,),
    )
    found = {r["unit"]: (r["unit_name"], r["merged_into"]) for r in cur.fetchall()}
    cur.execute(
        "SELECT k.unit, u.name, k.merged_into FROM cycle_units k JOIN units u "
        "ON u.cycle = k.cycle AND u.unit = k.unit WHERE k.cycle = ? AND k.merged_into IS NOT NULL",
        (cycle,),
    )
    found.update({r["unit"]: (r["name"], r["merged_into"]) for r in cur.fetchall()})
    return not_ranked_rows(found)


def _framework_summary(r: Any) -> dict:
    out = {
        k: r[k]
        for k in (
            "id",
            "slug",
            "version",
            "name",
            "jurisdiction",
            "level",
            "year",
            "source",
            "supersedes",
            "digest",
            "max_total",
            "node_count",
            "leaf_count",
            "leaf_index",
            "published_at",
        )
    }
    out["bands"] = jload(r["bands"]) or []
    return out


def _node(r: Any) -> dict:
    return {
        "code": r["code"],
        "label": r["label"],
        "title": r["title"],
        "parent": r["parent"],
        "depth": r["depth"],
        "position": r["position"],
        "max_points": r["max_points"],
        "note": r["note"],
        "is_leaf": bool(r["is_leaf"]),
        "rule": jload(r["rule"]),
        "component": r["component"],
        "cap": r["cap"],
        "max_by_type": jload(r["max_by_type"]),
    }


def _tree(nodes: list[dict]) -> list[dict]:
    by_code = {n["code"]: dict(n, children=[]) for n in nodes}
    roots = []
    for n in nodes:
        node = by_code[n["code"]]
        parent = by_code.get(n["parent"]) if n["parent"] else None
        (parent["children"] if parent is not None else roots).append(node)
    return roots


def _cycle(r: Any) -> dict:
    out = {
        k: r[k]
        for k in (
            "cycle",
            "name",
            "framework",
            "year",
            "authority",
            "province",
            "unit_count",
            "leaf_index",
            "opened_at",
            "level",
            "rounds",
        )
    }
    out["deadlines"] = jload(r["deadlines"]) or {}
    out["unit_deadlines"] = jload(r["unit_deadlines"]) or {}
    return out


def _change(r: Any) -> dict:
    return {
        "seq": r["seq"],
        "kind": r["kind"],
        "deadline": r["deadline"],
        "unit": r["unit"],
        "until": r["until"],
        "previous": r["previous"],
        "units": jload(r["units"]),
        "into": r["into"],
        "reason": r["reason"],
        "actor": {"key_id": r["actor_key_id"], "name": r["actor_name"]},
        "at": r["at"],
        "leaf_index": r["leaf_index"],
    }


def _past_cycle(r: Any) -> dict:
    return {
        "cycle": r["cycle"],
        "name": r["name"],
        "year": r["year"],
        "imported": True,
        "unit_count": r["unit_count"],
        "imports": jload(r["imports"]) or [],
        "leaf_index": r["leaf_index"],
        "at": r["at"],
    }


def _previous(cur: Any, cycle: str, unit: str, nodes: list[dict]) -> dict | None:
    """The unit's figures in the previous cycle (None: not linked); each node
    gets `previous_appraised` (None where there is no counterpart figure)."""
    link = previous_q.link(cur, cycle)
    figures = previous_q.unit_figures(cur, link, unit) if link else None
    scores = figures["scores"] if figures else {}
    for node in nodes:
        code = previous_q.previous_code(link, node["code"]) if link else None
        node["previous_appraised"] = scores.get(code) if code is not None else None
    if link is None:
        return None
    out = previous_q.described(link)
    out.update(
        unit=None if figures is None else figures["unit"],
        name=None if figures is None else figures["name"],
        total=None if figures is None else figures["total"],
        rank=None if figures is None else figures["rank"],
        status=None if figures is None else figures["status"],
        sources=[] if figures is None else figures["sources"],
    )
    return out


def _node_score(r: Any) -> dict:
    values = (
        "max_points",
        "applicable_max",
        "self_score",
        "appraised_score",
        "percentage",
        "points_lost",
    )
    out: dict[str, Any] = {
        "code": r["code"],
        "label": r["label"],
        "title": r["title"],
        "parent": r["parent"],
        "depth": r["depth"],
        "is_leaf": bool(r["is_leaf"]),
    }
    out.update({k: r[k] for k in values})
    out.update(
        evidence_count=r["evidence_count"],
        excluded=bool(r["excluded"]),
        display={k: shown(r[k]) for k in values},
    )
    if r["is_leaf"]:
        appraised = jload(r["appraised_input"])
        out.update(
            self_input=jload(r["self_input"]),
            appraised_input=appraised,
            adjusted=r["review_how"] in ADJUSTED,
            review=review(r["review_how"], r["review_round"]),
            flag=flag(r["flag_question"], r["flag_answer"], r["flag_evidence_ids"]),
            not_applicable=bool(r["not_applicable"]),
            note=r["self_note"],
            reason=r["appraised_reason"],
            history_count=r["history_count"] or 0,
            last_leaf_index=r["last_leaf_index"],
        )
    return out
