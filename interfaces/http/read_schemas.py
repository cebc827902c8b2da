"""Schemas of what the read model answers (projections.queries): frameworks, cycles,
rankings, a unit's scores (evidence, history and why: leaf_schemas.py).

Decimals are exact strings; each `display` holds 2-place strings for printing.
Anything the read model may not know yet is nullable.
"""

from __future__ import annotations

from functools import partial

from marshmallow import Schema, fields

from interfaces.http.schemas import PointInTime

Str = fields.String
NStr = partial(fields.String, allow_none=True)
NInt = partial(fields.Integer, allow_none=True)
Int = fields.Integer
Bool = fields.Boolean
List = fields.List
Nested = fields.Nested
Any = partial(fields.Raw, allow_none=True)  # JSON as signed (inputs, explanations)


def displays(*names: str) -> type[Schema]:
    """A `display` object: 2-place strings (half up) of the named decimals."""
    return Schema.from_dict({n: NStr() for n in names}, name=f"Display_{'_'.join(names)}")


# -- frameworks ---------------------------------------------------------------------
class FrameworkBand(Schema):
    code = Str()
    minimum = Str()
    name_vi = NStr()
    name_en = NStr()


class RatioBand(Schema):
    threshold = Str()
    points = Str()


class Rule(Schema):
    kind = Str()
    step = NStr()
    bands = List(Nested(RatioBand))
    gated_by = List(Str())
    na_policy = NStr()


class FrameworkSummary(Schema):
    id = Str(required=True)
    slug = Str()
    version = Int()
    name = Str()
    jurisdiction = NStr()
    level = NStr()
    year = NInt()
    source = NStr()
    supersedes = NStr()
    digest = NStr()
    max_total = NStr()
    node_count = NInt()
    leaf_count = NInt()
    leaf_index = NInt()
    published_at = NStr()
    bands = List(Nested(FrameworkBand))


class Node(Schema):
    code = Str(required=True)
    label = NStr()
    title = NStr()
    parent = NStr()
    depth = NInt()
    position = NInt()
    max_points = NStr()
    note = NStr()
    is_leaf = Bool()
    rule = Nested(Rule, allow_none=True)
    # variations (docs/FRAMEWORKS.md): an area's component and cap, a leaf's maxima by type
    component = NStr(metadata={"description": "survey, bonus or penalty (an area); else null"})
    cap = NStr()
    max_by_type = fields.Dict(keys=Str(), values=Str(), allow_none=True)


class TreeNode(Node):
    children = List(Nested(lambda: TreeNode()))


class FrameworkDetail(FrameworkSummary):
    nodes = List(Nested(Node))
    tree = List(Nested(TreeNode))


class FrameworkList(Schema):
    frameworks = List(Nested(FrameworkSummary), required=True)


# -- cycles and rankings -----------------------------------------------------------------
class Band(Schema):
    code = Str()
    vi = NStr()
    en = NStr()


class Cycle(Schema):
    cycle = Str(required=True)
    name = NStr()
    framework = NStr()
    year = NInt()
    authority = NStr()
    province = NStr()
    unit_count = NInt()
    leaf_index = NInt()
    opened_at = NStr()
    level = NStr()  # district | province
    rounds = NInt()
    deadlines = fields.Dict(keys=Str(), values=Str())  # kind -> RFC 3339 UTC time
    unit_deadlines = fields.Dict(keys=Str(), values=fields.Dict(keys=Str(), values=Str()))


class CycleList(Schema):
    cycles = List(Nested(Cycle), required=True)


# -- year on year ---------------------------------------------------------------------
class PreviousLink(Schema):
    """The cycle this one is compared with (link_previous_cycle)."""

    cycle = Str(required=True)
    year = Int()
    imported = Bool(metadata={"description": "true: a past cycle imported from its tables"})
    version = NInt(metadata={"description": "the previous cycle's published ranking version"})
    mapped_codes = Int()
    mapped_units = Int()


class PreviousFigures(PreviousLink):
    """The unit's counterpart in the previous cycle (nulls: it has no figures)."""

    unit = NStr()
    name = NStr()
    total = NStr()
    rank = NInt()
    status = NStr()  # submitted | not_submitted | merged | imported
    sources = List(Str(), metadata={"description": "SHA-256 of each imported file"})


class PreviousTotal(Schema):
    unit = Str()
    total = NStr()
    rank = NInt()


class PastImport(Schema):
    source = fields.Dict(keys=Str(), values=Str())  # file_name, sha256
    units = Int()
    reason = NStr()
    actor = Nested(lambda: Signer())
    at = NStr()
    leaf_index = NInt()


class PastCycle(Schema):
    cycle = Str(required=True)
    name = NStr()
    year = Int()
    imported = Bool()
    unit_count = Int()
    imports = List(Nested(PastImport))
    leaf_index = NInt()
    at = NStr()


class PastUnit(Schema):
    unit = Str(required=True)
    name = NStr()
    total = NStr()
    rank = NInt()
    scores = fields.Dict(keys=Str(), values=Str(), allow_none=True)
    sources = List(Str())
    leaf_index = NInt()


class PastCycleDetail(PastCycle):
    units = List(Nested(PastUnit))


class PastCycleList(Schema):
    past_cycles = List(Nested(PastCycle), required=True)


class Signer(Schema):
    key_id = NStr()
    name = NStr()


class CycleChange(Schema):
    """One change of the calendar or the units while the cycle runs."""

    seq = Int()
    kind = Str()  # deadline_extended | units_added | units_merged | previous_linked
    deadline = NStr()
    unit = NStr()
    until = NStr()
    previous = NStr()
    units = List(Str(), allow_none=True)
    into = NStr()
    reason = NStr()
    actor = Nested(Signer)
    at = NStr()
    leaf_index = NInt()


TotalsDisplay = displays("self_total", "appraised_total", "index")


class CycleUnit(Schema):
    unit = Str(required=True)
    name = NStr()
    position = NInt()
    type = NStr()  # xa | phuong | thi_tran | dac_khu
    merged_into = NStr()
    self_total = NStr()
    appraised_total = NStr()
    index = NStr()
    band = Nested(lambda: Band(), allow_none=True)
    display = Nested(TotalsDisplay)


class CycleDetail(Cycle):
    framework_name = NStr()
    bands = List(Nested(FrameworkBand))
    units = List(Nested(CycleUnit))
    merged = fields.Dict(keys=Str(), values=Str())
    changes = List(Nested(CycleChange))
    extensions = List(Nested(CycleChange))
    previous = Nested(PreviousLink, allow_none=True)


class RankingRow(Schema):
    rank = Int()
    unit = Str()
    unit_name = NStr()
    self_total = NStr()
    appraised_total = NStr()
    applicable_max = NStr()
    self_index = NStr()
    index = NStr()
    band = Nested(Band, allow_none=True)
    display = Nested(TotalsDisplay)
    previous = Nested(PreviousTotal, allow_none=True)


class NotRanked(Schema):
    """A unit the live ranking does not rank: never submitted, or merged."""

    unit = Str(required=True)
    unit_name = NStr()
    status = Str(required=True)  # not_submitted | merged
    into = NStr()


class Ranking(Schema):
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = Str(required=True)
    framework = NStr()
    total = Int()  # units ranked (submitted, not merged)
    limit = Int()
    offset = Int()
    rows = List(Nested(RankingRow), required=True)
    not_submitted = List(Nested(NotRanked), required=True)
    not_submitted_count = Int()
    previous = Nested(PreviousLink, allow_none=True)


# -- where the season stands ----------------------------------------------------------------
class Flags(Schema):
    open = Int()
    answered = Int()


class UnitProgress(Schema):
    unit = Str(required=True)
    name = NStr()
    position = NInt()
    type = NStr()
    stage = Str(required=True)  # not_submitted | round_1 | explanation | round_2 | closed | merged
    merged_into = NStr()
    leaves_scored = Int()
    leaf_count = NInt()
    scored = Str()  # "107/119"
    evidence_count = Int()
    flags = Nested(Flags)
    reviewed = Int()
    deadlines = fields.Dict(keys=Str(), values=Str())  # the unit's: own or the cycle's, later
    own_deadlines = fields.Dict(keys=Str(), values=Str())
    submitted_at = NStr()
    submitted_leaf = NInt()
    explanations_submitted_at = NStr()
    closed_at = NStr()
    closed_leaf = NInt()


class CycleClose(Schema):
    at = NStr()
    key_id = NStr()
    leaf_index = NInt()


class VersionState(Schema):
    version = Int()
    state = Str()


class RankingVersions(Schema):
    count = Int()
    published = Int()
    latest = Nested(VersionState, allow_none=True)


class SeasonHead(Schema):
    cycle = Str(required=True)
    name = NStr()
    framework = NStr()
    authority = NStr()
    level = NStr()
    rounds = NInt()
    leaf_count = NInt()
    deadlines = fields.Dict(keys=Str(), values=Str())
    closed = Nested(CycleClose, allow_none=True)
    rankings = Nested(RankingVersions)
    as_of = Str(metadata={"description": "the server's clock, for display only"})


class StageTotals(Schema):
    not_submitted = Int()
    round_1 = Int()
    explanation = Int()
    round_2 = Int()
    closed = Int()
    merged = Int()


class CycleStatus(SeasonHead):
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    unit_count = Int()
    totals = Nested(StageTotals)
    limit = Int()
    offset = Int()
    units = List(Nested(UnitProgress), required=True)


class UnitStatus(UnitProgress):
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = Str(required=True)
    season = Nested(SeasonHead)


# -- a unit's scores -------------------------------------------------------------------
class NodeScore(Schema):
    code = Str(required=True)
    label = NStr()
    title = NStr()
    parent = NStr()
    depth = NInt()
    is_leaf = Bool()
    max_points = NStr()
    applicable_max = NStr()
    self_score = NStr()
    appraised_score = NStr()
    percentage = NStr()
    points_lost = NStr()
    evidence_count = NInt()
    excluded = Bool()
    display = Nested(
        displays("max_points", "self_score", "appraised_score", "percentage", "points_lost")
    )
    # leaves only
    self_input = fields.Dict(allow_none=True)
    appraised_input = fields.Dict(allow_none=True)
    adjusted = Bool()
    not_applicable = Bool()
    note = NStr()
    reason = NStr()
    history_count = NInt()
    last_leaf_index = NInt()
    review = Nested(lambda: Review(), allow_none=True)  # null: never reviewed
    flag = Nested(lambda: Flag(), allow_none=True)
    previous_appraised = NStr(metadata={"description": "the previous cycle's, as linked"})


class Review(Schema):
    how = Str()  # adjusted | confirmed | corrected
    round = NInt()


class Flag(Schema):
    question = NStr()
    answered = Bool()
    answer = NStr()
    evidence_ids = List(Str())


class SubmissionState(Schema):
    status = Str(required=True)  # submitted | withdrawn
    digest = NStr()
    self_total = NStr()
    actor_key_id = NStr()
    at = NStr()
    reason = NStr()
    leaf_index = NInt()


class UnitScores(Schema):
    point_in_time = fields.Nested(PointInTime, metadata={"description": "with ?as_of= only"})
    cycle = Str(required=True)
    unit = Str(required=True)
    unit_name = NStr()
    framework = NStr()
    max_total = NStr()
    applicable_max = NStr()
    self_total = NStr()
    appraised_total = NStr()
    points_lost = NStr()
    self_index = NStr()
    index = NStr()
    band = Nested(Band, allow_none=True)
    self_band_code = NStr()
    evidence_count = NInt()
    submission = Nested(SubmissionState, allow_none=True)
    stage = NStr()
    reviewed = NInt()
    flags = Nested(lambda: Flags())
    display = Nested(
        displays(
            "max_total",
            "applicable_max",
            "self_total",
            "appraised_total",
            "points_lost",
            "self_index",
            "index",
        )
    )
    previous = Nested(PreviousFigures, allow_none=True)
    nodes = List(Nested(NodeScore))


class Submission(Schema):
    cycle = Str(required=True)
    unit = Str(required=True)
    submitted = Bool(required=True)
    digest = Str(required=True)
    content = fields.Dict(required=True)
