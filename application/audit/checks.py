"""Names the verifier's sources share: the record shape and the topics of pass 1.

The checks themselves live in replay.py (what a command yields), deployment_pass.py
(pass 1) and shard.py (pass 2, per worker).
"""

from __future__ import annotations

from application.audit.replay import DEPLOYMENT_PREFIXES, GENESIS_TOPIC

Record = tuple[int, bytes | None, str, int, str | None, bytes | None]

GENESIS_TOPICS = (GENESIS_TOPIC,)
KEY_TOPIC_PREFIX = "domain.keys:ActorKey."

__all__ = ["DEPLOYMENT_PREFIXES", "GENESIS_TOPICS", "KEY_TOPIC_PREFIX", "Record"]
