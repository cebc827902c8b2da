"""A hostile log operator: forges stored events, then makes the log agree again.

The district's IT staff run the database and hold the log key (keys/log.key in
the data dir). After a forgery they re-hash every leaf, rebuild the tree's
nodes and frontier, re-sign with the real log key each checkpoint whose root
changed, and sign a fresh checkpoint at the new head. Every check that reads
only the log's own bytes (leaf hashes, roots, checkpoint signatures,
consistency between checkpoints, actor signatures) then passes: only
re-deriving each event from its signed command can tell the forgery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from unittest import mock
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.deployment import issue_checkpoint
from application.transparency import merkle
from application.transparency.leaf import event_leaf_hash
from tests.support import Env, event_row, forged_checkpoint, set_event_state


def encode(state: dict) -> bytes:
    """The event store's own JSON spelling (compact, UTF-8)."""
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Operator:
    def __init__(self, env: Env):
        self.env = env

    @property
    def app(self):
        return self.env.app

    # -- reading ---------------------------------------------------------------
    def state(self, leaf_index: int) -> dict:
        return json.loads(event_row(self.app, leaf_index)[3])

    def aggregate_of(self, leaf_index: int) -> UUID:
        return event_row(self.app, leaf_index)[0]

    def event_topic(self, leaf_index: int) -> str:
        return event_row(self.app, leaf_index)[2]

    # -- forging -----------------------------------------------------------------
    def rewrite(self, leaf_index: int, edit: Callable[[dict], None]) -> None:
        """Changes a stored event in place (its leaf still holds the old hash)."""
        state = self.state(leaf_index)
        edit(state)
        set_event_state(self.app, leaf_index, encode(state))

    def append_copy(self, leaf_index: int, onto: UUID | None = None) -> int:
        """Stores the event at `leaf_index` again, stamped now, as the next event
        of `onto` (by default its own aggregate); returns its leaf index."""
        oid, _version, topic, raw = event_row(self.app, leaf_index)
        target = onto or oid
        state = json.loads(raw)
        state["timestamp"] = {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()}
        last = self.app.recorder.select_events(target, desc=True, limit=1)
        version = last[0].originator_version + 1 if last else 1
        self.app.recorder.insert_events([StoredEvent(target, version, topic, encode(state))])
        return self.app.recorder.last_append.leaves[0].leaf_index

    def store(self, envelope: dict) -> dict:
        """Stores what the server decides for a signed command, with the
        signer's role and scope left unchecked; returns the receipt."""
        with mock.patch("application.app.may", lambda *args: True):
            return self.app.handle(envelope)

    # -- making the log consistent again ----------------------------------------------
    def reseal(self) -> None:
        app, t = self.app, self.app.tlog.t
        frontier = merkle.CompactRange()
        hashes: list[tuple[bytes, int]] = []
        nodes: list[tuple[int, int, bytes]] = []
        roots: dict[int, bytes] = {}
        for e in app.tlog.iter_events():
            h = event_leaf_hash(e.originator_id, e.originator_version, e.topic, e.state)
            hashes.append((h, e.leaf_index))
            nodes.extend(n for n in frontier.append(h) if n[0] > 0)
            roots[frontier.size] = frontier.root()
        resigned = [
            (roots[cp.size], forged_checkpoint(app, cp.size, roots[cp.size]), cp.id)
            for cp in app.tlog.checkpoints()
            if cp.size in roots and roots[cp.size] != cp.root
        ]
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.executemany(
                t.q(f"UPDATE {t.leaves} SET leaf_hash = ? WHERE leaf_index = ?"), hashes
            )
            cur.execute(f"DELETE FROM {t.nodes}")
            cur.executemany(t.q(f"INSERT INTO {t.nodes} VALUES (?, ?, ?)"), nodes)
            cur.execute(
                t.q(f"UPDATE {t.state} SET size = ?, frontier = ? WHERE id = 1"),
                (frontier.size, frontier.to_bytes()),
            )
            if resigned:
                cur.executemany(
                    t.q(f"UPDATE {t.checkpoints} SET root = ?, note = ? WHERE id = ?"), resigned
                )
        self.env.reopen()  # the server's caches must not remember the old events
        issue_checkpoint(self.env.app)
