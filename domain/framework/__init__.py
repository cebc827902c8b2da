"""Criteria frameworks (bộ tiêu chí): the versioned table units are scored against.

Pure model, no I/O. Start with `Framework.build`, score with `compute`, store
with `serialize.to_dict` / `from_dict`.
"""

from domain.framework.bands import DECISION_4203, Band, Bands
from domain.framework.compute import NodeScore, Result, compute, rollup
from domain.framework.decimals import canonical, display, parse_decimal
from domain.framework.meta import FrameworkId, FrameworkMeta, Level
from domain.framework.model import Framework, Node
from domain.framework.rules import NaPolicy, RatioBand, Rule, RuleKind
from domain.framework.scoring import LeafInput, LeafResult, score
from domain.framework.serialize import content_digest, from_dict, to_dict

__all__ = [
    "DECISION_4203",
    "Band",
    "Bands",
    "Framework",
    "FrameworkId",
    "FrameworkMeta",
    "LeafInput",
    "LeafResult",
    "Level",
    "NaPolicy",
    "Node",
    "NodeScore",
    "RatioBand",
    "Result",
    "Rule",
    "RuleKind",
    "canonical",
    "compute",
    "content_digest",
    "display",
    "from_dict",
    "parse_decimal",
    "rollup",
    "score",
    "to_dict",
]
