"""Builders shared by the integration and end-to-end tests.

A test gets a real deployment in a temporary directory (SQLite, or a fresh
PostgreSQL schema), real Ed25519 keys, and commands signed exactly as a client
signs them. Nothing here reaches into the application's internals except the
`forge_*` helpers, which play an attacker with write access to the database.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.app import ParIndex
from application.commands import parse_envelope, sign_command, utc_now_text
from application.deployment import init_deployment, open_app
from application.signing import keys
from application.transparency import merkle, note
from domain.framework import Framework
from domain.keys import ActorKey

PG_ENV = "PARINDEX_TEST_POSTGRES_URL"
PG_SKIP_REASON = "PostgreSQL not configured: set PARINDEX_TEST_POSTGRES_URL"

# Settings the tests control themselves; a developer's shell must not leak in.
PARINDEX_ENV = (
    "PARINDEX_DATABASE_URL",
    "PARINDEX_CLOCK_SKEW_SECONDS",
    "PARINDEX_DATA_DIR",
    "PARINDEX_MAX_EVIDENCE_BYTES",
    "PARINDEX_MAX_REQUEST_BYTES",
    "PARINDEX_REQUEST_WINDOW_SECONDS",
    "PARINDEX_LANG",
    "PARINDEX_WRITE_LOCK_TIMEOUT_SECONDS",
    "PARINDEX_WRITE_STATEMENT_TIMEOUT_SECONDS",
    "PARINDEX_WITNESSES",
    "PARINDEX_MIN_WITNESSES",
)


# -- PostgreSQL schemas ------------------------------------------------------------
def pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def pg_schema_url(base: str, schema: str) -> str:
    parts = urlparse(base)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["schema"] = schema
    return parts._replace(query=urlencode(query)).geturl()


def pg_connect_url(base: str) -> str:
    """The URL psycopg understands: the deployment's without `?schema=`."""
    return urlparse(base)._replace(query="").geturl()


def drop_pg_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(pg_connect_url(base), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- keys and commands -------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    private: Ed25519PrivateKey
    key_id: str
    public_key: str  # base64 of the 32 raw bytes

    def sign(self, command: dict) -> dict:
        return sign_command(command, self.private)


def new_key() -> Key:
    private = keys.generate()
    raw = keys.public_raw(private)
    return Key(private, keys.actor_key_id(raw), keys.b64(raw))


def key_from_file(path: str | Path) -> Key:
    key_id, private, doc = keys.load_actor_key_file(path)
    return Key(private, key_id, doc["public_key"])


def timestamp(delta: timedelta = timedelta(0)) -> str:
    if not delta:
        return utc_now_text()
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def command(
    actor: Key, type_: str, *, id: str | None = None, issued_at: str | None = None, **fields: Any
) -> dict:
    return {
        "type": type_,
        "id": id or f"t-{uuid.uuid4()}",
        "issued_at": issued_at or timestamp(),
        "actor": actor.key_id,
        **fields,
    }


def register_fields(
    key: Key, role: str = "observer", scope: str = "*", name: str = "Nguyễn Văn An"
) -> dict:
    return {
        "key_id": key.key_id,
        "public_key": key.public_key,
        "role": role,
        "scope": scope,
        "display_name": name,
    }


def register_command(
    signer: Key,
    key: Key,
    role: str = "observer",
    scope: str = "*",
    name: str = "Nguyễn Văn An",
    **extra: Any,
) -> dict:
    return command(signer, "register_key", **register_fields(key, role, scope, name), **extra)


def flip_signature_byte(envelope: dict, at: int = 10) -> dict:
    sig = bytearray(base64.b64decode(envelope["signature"]))
    sig[at] ^= 0x01
    return {"command": envelope["command"], "signature": base64.b64encode(bytes(sig)).decode()}


# -- deployments -------------------------------------------------------------------
@dataclass
class Env:
    """A deployment made by `init_deployment`, open, with its first admin key."""

    data_dir: Path
    app: ParIndex
    admin: Key
    admin_key_file: Path
    log_key: str
    database_url: str | None
    init: dict = field(default_factory=dict)

    def send(self, cmd: dict, signer: Key | None = None) -> dict:
        return self.app.handle((signer or self.admin).sign(cmd))

    def register(
        self,
        role: str = "observer",
        scope: str = "*",
        signer: Key | None = None,
        name: str = "Nguyễn Văn An",
    ) -> tuple[Key, dict]:
        key = new_key()
        receipt = self.send(register_command(signer or self.admin, key, role, scope, name), signer)
        return key, receipt

    def reopen(self) -> ParIndex:
        """A fresh application on the same store (settings re-read, empty caches)."""
        self.app.close()
        self.app = open_app(self.data_dir)
        return self.app

    def open_cycle(self, units: list[str] | int = ("xa-a",), cycle: str = "c") -> Framework:
        """Publishes the bundled Thái Nguyên framework and opens `cycle` on it for
        `units` (codes, or a count: xa-00000, xa-00001, ...); returns the framework."""
        from domain.framework import to_dict
        from interfaces.bundled import load_bundled

        framework = load_bundled("thai-nguyen-2021-commune")
        self.send(command(self.admin, "publish_framework", framework=to_dict(framework)))
        codes = [f"xa-{i:05d}" for i in range(units)] if isinstance(units, int) else units
        names = {"xa-a": "Xã A"}
        self.send(
            command(
                self.admin,
                "open_cycle",
                cycle=cycle,
                name="Kỳ 2025",
                framework=str(framework.id),
                year=2025,
                authority="dong-hy",
                province="thai-nguyen",
                units=[
                    {"code": c, "name": names.get(c, f"Xã số {i + 1}")} for i, c in enumerate(codes)
                ],
            )
        )
        return framework

    def submit_unit(
        self, unit: str, officer: Key, chair: Key | None = None, cycle: str = "c", **signing: Any
    ) -> Key:
        """Self-scores "0" every leaf of `unit` not scored yet, then its chair (one
        is registered when not given) submits exactly that; returns the chair.
        `signing` (e.g. issued_at) goes into each command."""
        from domain.assessment import Assessment
        from domain.cycle import Cycle
        from domain.submission import digest

        def assessment() -> Assessment:
            return self.app.get(Assessment.create_id(cycle, unit), for_update=False)

        found = self.app.get(Cycle.create_id(cycle))
        framework = found.framework_for(self.app.framework(found.framework), unit)
        for leaf in framework.leaves:
            if leaf.code not in assessment().self_inputs and leaf.code not in (
                framework.survey_leaves  # entered by the survey, never by the commune
            ):
                where = {"cycle": cycle, "unit": unit, "leaf": leaf.code}
                scored = command(officer, "record_self_score", **where, points="0", **signing)
                self.send(scored, officer)
        chair = chair or self.register("commune_chair", f"commune:{unit}")[0]
        covered = assessment().submission(framework)
        fields = {"digest": digest(covered), "self_total": covered["self_total"]}
        submitted = command(chair, "submit_assessment", cycle=cycle, unit=unit, **fields, **signing)
        self.send(submitted, chair)
        return chair

    def season_end(
        self,
        cycle: str,
        council: Key,
        approver: Key,
        upto: str = "published",
        *,
        close: bool = True,
    ) -> dict | None:
        """Takes `cycle` from its appraisal to a published ranking: the council's
        close (unless `close` is False: already closed), the proposal of the draft
        the log gives, its approval and publication, stopping after `upto`
        (closed, proposed, approved, published). Returns the manifest proposed."""
        from domain import ranking
        from domain.cycle import Cycle
        from domain.ranking import Ranking

        stages = ("closed", "proposed", "approved", "published")
        reached = stages[: stages.index(upto) + 1]
        if close:
            self.send(command(council, "close_appraisal", cycle=cycle), council)
        if "proposed" not in reached:
            return None
        found = self.app.get(Cycle.create_id(cycle), for_update=False)
        version = self.app.get(Ranking.create_id(cycle), for_update=False).next_version()
        content = ranking.manifest(
            found, version, self.app.framework(found.framework), self.app.assessments(found)
        )
        self.send(command(council, "propose_ranking", cycle=cycle, manifest=content), council)
        if "approved" in reached:
            decision = {"decision_number": f"{version}/QĐ-UBND", "decision_date": "2025-12-20"}
            fields = {"version": version, "digest": ranking.digest(content), **decision}
            self.send(command(approver, "approve_ranking", cycle=cycle, **fields), approver)
        if "published" in reached:
            self.send(command(approver, "publish_ranking", cycle=cycle, version=version), approver)
        return content

    def checkpoint(self):
        from application.deployment import issue_checkpoint

        return issue_checkpoint(self.app)


def make_env(root: Path, database_url: str | None) -> Env:
    data_dir = root / "data"
    result = init_deployment(data_dir, database_url=database_url, admin_key_path=root / "admin.key")
    app = open_app(data_dir)
    return Env(
        data_dir=data_dir,
        app=app,
        admin=key_from_file(root / "admin.key"),
        admin_key_file=root / "admin.key",
        log_key=result["log_key"],
        database_url=database_url,
        init=result,
    )


# -- what a write leaves behind ------------------------------------------------------
@dataclass(frozen=True)
class Written:
    """Everything a command could have written, read back from the store."""

    size: int
    events: int
    root: bytes
    checkpoints: tuple[str, ...]

    @classmethod
    def read(cls, app: ParIndex) -> Written:
        size, root = app.tlog.head()
        assert size == app.tlog.size()
        return cls(
            size, app.tlog.count_events(), root, tuple(c.note for c in app.tlog.checkpoints())
        )


# -- raw SQL, as an attacker with database access ------------------------------------
def sql(app: ParIndex, statement: str, params: tuple | list = ()) -> list[Any]:
    """Runs one statement in its own committed transaction ('?' placeholders)."""
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(app.tlog.t.q(statement), params)
        try:
            return list(cur.fetchall())
        except Exception:  # statements without rows
            return []


def oid_param(app: ParIndex, oid: uuid.UUID) -> Any:
    """How the events table stores an originator id: hex text (SQLite), uuid (PG)."""
    return oid if app.tlog.t.dialect == "postgres" else oid.hex


def event_row(app: ParIndex, leaf_index: int) -> tuple[uuid.UUID, int, str, bytes]:
    leaf = app.tlog.leaf(leaf_index)
    assert leaf is not None
    rows = sql(
        app,
        f"SELECT topic, state FROM {app.tlog.events_table} "
        "WHERE originator_id = ? AND originator_version = ?",
        (oid_param(app, leaf.originator_id), leaf.originator_version),
    )
    return leaf.originator_id, leaf.originator_version, rows[0]["topic"], bytes(rows[0]["state"])


def set_event_state(app: ParIndex, leaf_index: int, state: bytes, topic: str | None = None) -> None:
    oid, version, old_topic, _ = event_row(app, leaf_index)
    sql(
        app,
        f"UPDATE {app.tlog.events_table} SET state = ?, topic = ? "
        "WHERE originator_id = ? AND originator_version = ?",
        (state, topic or old_topic, oid_param(app, oid), version),
    )


def delete_event(app: ParIndex, leaf_index: int, *, with_leaf: bool = False) -> None:
    oid, version, _, _ = event_row(app, leaf_index)
    sql(
        app,
        f"DELETE FROM {app.tlog.events_table} WHERE originator_id = ? AND originator_version = ?",
        (oid_param(app, oid), version),
    )
    if with_leaf:
        sql(app, f"DELETE FROM {app.tlog.t.leaves} WHERE leaf_index = ?", (leaf_index,))


def truncate_log(app: ParIndex, new_size: int) -> None:
    """Cuts the tail as a careful attacker would: events, leaves, nodes and the
    stored frontier all agree with the shorter log afterwards."""
    t = app.tlog.t
    tail = app.tlog.leaves_range(new_size, 1 << 30)
    for leaf in tail:
        sql(
            app,
            f"DELETE FROM {app.tlog.events_table} "
            "WHERE originator_id = ? AND originator_version = ?",
            (oid_param(app, leaf.originator_id), leaf.originator_version),
        )
    sql(app, f"DELETE FROM {t.leaves} WHERE leaf_index >= ?", (new_size,))
    frontier = merkle.CompactRange()
    keep: set[tuple[int, int]] = set()
    for leaf in app.tlog.leaves_range(0, new_size):
        keep.update((lvl, idx) for lvl, idx, _ in frontier.append(leaf.leaf_hash) if lvl > 0)
    for row in sql(app, f"SELECT level, idx FROM {t.nodes}"):
        coord = (int(row["level"]), int(row["idx"]))
        if coord not in keep:
            sql(app, f"DELETE FROM {t.nodes} WHERE level = ? AND idx = ?", coord)
    sql(
        app,
        f"UPDATE {t.state} SET size = ?, frontier = ? WHERE id = 1",
        (frontier.size, frontier.to_bytes()),
    )


def swap_leaf_targets(app: ParIndex, i: int, j: int) -> None:
    """Leaf i now points at the event leaf j pointed at, and the other way round;
    the leaf hashes (what checkpoints committed to) stay where they were."""
    t = app.tlog.t
    a, b = app.tlog.leaf(i), app.tlog.leaf(j)
    assert a is not None and b is not None
    for row, other in ((a, b), (b, a)):
        sql(
            app,
            f"UPDATE {t.leaves} SET originator_id = ?, originator_version = ? WHERE leaf_index = ?",
            (other.originator_id.hex, other.originator_version, row.leaf_index),
        )


def set_checkpoint_note(app: ParIndex, size: int, text: str) -> None:
    sql(app, f"UPDATE {app.tlog.t.checkpoints} SET note = ? WHERE size = ?", (text, size))


def forge_registration(
    app: ParIndex,
    signer: Key,
    key: Key | None = None,
    *,
    role: str = "admin",
    signature_of: dict | None = None,
) -> tuple[int, Key]:
    """Writes a register_key event signed by `signer` straight through app.save,
    bypassing every check in handle(), so it gets a proper leaf. With
    `signature_of`, the event carries the signature of that other command."""
    key = key or new_key()
    cmd = register_command(signer, key, role=role)
    signed = parse_envelope(signer.sign(cmd))
    stored = signed.stored()
    if signature_of is not None:
        stored["signature"] = signer.sign(signature_of)["signature"]
    aggregate = ActorKey(
        key_id=key.key_id,
        public_key=key.public_key,
        role=role,
        scope="*",
        display_name=cmd["display_name"],
        signed=stored,
    )
    app.save(aggregate, command_id=signed.id, command_digest=signed.digest)
    return app.recorder.last_append.leaves[0].leaf_index, key


def insert_event_outside_log(app: ParIndex, like_leaf: int) -> uuid.UUID:
    """Copies an event under a new aggregate id into the events table only."""
    _, _, topic, state = event_row(app, like_leaf)
    oid = uuid.uuid4()
    sql(
        app,
        f"INSERT INTO {app.tlog.events_table} "
        "(originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (oid_param(app, oid), 1, topic, state),
    )
    return oid


# -- checkpoints ---------------------------------------------------------------------
def checkpoint_root(text: str, vkey: str) -> tuple[int, bytes]:
    """Size and root of a checkpoint note, after checking its signature."""
    opened = note.open_note(text, [vkey])
    body = note.parse_checkpoint(opened.text)
    return body.size, body.root


def forged_checkpoint(app: ParIndex, size: int, root: bytes) -> str:
    """A checkpoint note signed with the deployment's real log key."""
    from application.deployment import log_signer

    text = note.Checkpoint(app.settings.origin, size, root, []).format()
    return note.sign_note(text, [log_signer(app.settings)])


def with_timestamp_digit_changed(state: bytes) -> bytes:
    """The same event with one byte changed: a sub-second digit of the library's
    timestamp. Still valid JSON, still the same signed command, but not the bytes
    that were logged."""
    start = state.index(b'"_data_":"') + len(b'"_data_":"')
    pos = state.index(b".", start) + 3
    digit = state[pos] - ord("0")
    assert 0 <= digit <= 9
    return state[:pos] + bytes([ord("0") + (digit + 1) % 10]) + state[pos + 1 :]
