"""Witness cosignatures kept beside the checkpoints they cosign.

Table ``parindex_cosignatures`` (created on first use, in the event store's
database and schema, so existing deployments need no migration)::

    id, checkpoint_id (parindex_checkpoints.id), size, witness (its vkey),
    line (the cosignature line, with its newline), received_at

Only lines that verified with the witness's key over that checkpoint's body
are written here. ``cosigned_note`` gives a checkpoint's note with every
cosignature kept for it appended: one signed note with several signature
lines, as readers of C2SP notes expect (those without the witnesses' keys
ignore the extra lines).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.transparency.log_store import LogStore, StoredCheckpoint

__all__ = ["CosignatureStore"]


class CosignatureStore:
    def __init__(self, tlog: LogStore) -> None:
        self.tlog = tlog
        self.table = tlog.t.checkpoints.replace("parindex_checkpoints", "parindex_cosignatures")

    def _ensure(self, cur: Any) -> None:
        postgres = self.tlog.t.dialect == "postgres"
        serial = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY"
        big = "BIGINT" if postgres else "INTEGER"
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (id {serial}, "
            f"checkpoint_id {big} NOT NULL, size {big} NOT NULL, witness TEXT NOT NULL, "
            "line TEXT NOT NULL, received_at TEXT NOT NULL)"
        )

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        """Run one statement. A write creates the table in its own transaction; a
        read of a table not created yet (no witness ever answered) reads nothing."""
        write = not sql.lstrip().upper().startswith("SELECT")
        try:
            with self.tlog.datastore.transaction(commit=write) as cur:
                if write:
                    self._ensure(cur)
                cur.execute(self.tlog.t.q(sql), params)
                return [] if write else list(cur.fetchall())
        except Exception as exc:
            if write or not _missing_table(exc):
                raise
            return []

    def add(self, checkpoint: StoredCheckpoint, witness_vkey: str, line: str) -> None:
        """Keep one verified cosignature line of ``checkpoint`` by ``witness_vkey``."""
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._rows(
            f"INSERT INTO {self.table} (checkpoint_id, size, witness, line, received_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (checkpoint.id, checkpoint.size, witness_vkey, line, when),
        )

    def lines(self, checkpoint: StoredCheckpoint) -> list[str]:
        """The kept cosignature lines of ``checkpoint``, one per witness (its latest).

        Kept for any stored checkpoint with the same note: two workers signing one
        tree head at once store two rows of one note (Ed25519 is deterministic), and
        a line verified over that note's body holds for both."""
        rows = self._rows(
            f"SELECT c.witness, c.line FROM {self.table} c "
            f"JOIN {self.tlog.t.checkpoints} k ON k.id = c.checkpoint_id "
            "WHERE c.size = ? AND k.note = ? ORDER BY c.id",
            (checkpoint.size, checkpoint.note),
        )
        latest = {r["witness"]: r["line"] for r in rows}
        return list(latest.values())

    def lines_by_note(self) -> dict[str, list[str]]:
        """Every checkpoint note's kept lines (as ``lines``), read in one statement."""
        rows = self._rows(
            f"SELECT k.note, c.witness, c.line FROM {self.table} c "
            f"JOIN {self.tlog.t.checkpoints} k ON k.id = c.checkpoint_id ORDER BY c.id"
        )
        latest: dict[str, dict[str, str]] = {}
        for r in rows:
            latest.setdefault(r["note"], {})[r["witness"]] = r["line"]
        return {text: list(by.values()) for text, by in latest.items()}

    def last_size(self, witness_vkey: str) -> int:
        """The largest size this witness cosigned for us (0 if none): its ``old``."""
        rows = self._rows(
            f"SELECT MAX(size) AS size FROM {self.table} WHERE witness = ?", (witness_vkey,)
        )
        value = rows[0]["size"] if rows else None
        return int(value) if value is not None else 0

    def cosigned_note(self, checkpoint: StoredCheckpoint) -> str:
        """The checkpoint's note with its kept cosignature lines appended."""
        return checkpoint.note + "".join(self.lines(checkpoint))


def _missing_table(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("parindex_cosignatures" in text and "not exist" in text)
