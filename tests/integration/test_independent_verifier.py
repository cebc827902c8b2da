"""A verifier written from docs/FORMATS.md alone finds what `parindex verify` finds.

tests/independent/ re-implements bundle reading, leaf hashing, checkpoints, the key
registry, permissions and the replay of every command from the document's text, and
imports nothing of the project. On the forgeries of issue 7 (tests/forgeries.py) and
the tampered logs of test_tamper.py, exported as bundles, both verifiers must report
the same findings: the same kinds at the same positions. When they differ, the
document is not precise enough for an outsider, which is the bug this test catches.

Bundles do not depend on the store's backend, so SQLite is enough here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from application.audit.bundle import BundleSource, export_bundle
from application.audit.verify import verify
from application.config import Settings
from application.deployment import init_deployment, log_signer
from application.transparency import note
from tests.forgeries import FORGERIES, Season, build_season
from tests.independent.verifier import verify_bundle
from tests.support import (
    Env,
    command,
    delete_event,
    event_row,
    forge_registration,
    forged_checkpoint,
    make_env,
    new_key,
    register_command,
    set_checkpoint_note,
    set_event_state,
    swap_leaf_targets,
    truncate_log,
    with_timestamp_digit_changed,
)

Findings = list[tuple[str, str]]


@pytest.fixture
def sqlite_env(tmp_path) -> Iterator[Env]:
    e = make_env(tmp_path, None)
    try:
        yield e
    finally:
        e.app.close()


def export(env: Env, path: Path) -> Path:
    export_bundle(env.app.tlog, path, log_key=env.log_key, origin=env.app.settings.origin)
    return path


def theirs(path: Path, log_key: str | None, extra: list[str] = ()) -> Findings:
    report = verify(BundleSource(path), log_key=log_key, workers=1, extra_checkpoints=list(extra))
    return sorted((f.kind, json.dumps(f.position, sort_keys=True)) for f in report.findings)


def mine(path: Path, log_key: str | None, extra: list[str] = ()) -> Findings:
    found = verify_bundle(path, log_key=log_key, extra_checkpoints=extra)
    return sorted((f.kind, json.dumps(f.position, sort_keys=True)) for f in found)


def same(path: Path, log_key: str | None, extra: list[str] = ()) -> Findings:
    """Both verifiers' findings on one bundle, asserted equal; returns them."""
    ours = theirs(path, log_key, extra)
    assert mine(path, log_key, extra) == ours
    return ours


def at(findings: Findings) -> set[int]:
    return {json.loads(p).get("leaf_index") for _k, p in findings}


# -- the season and its five forgeries ------------------------------------------------------
@pytest.fixture
def season(sqlite_env: Env, tmp_path) -> Season:
    return build_season(sqlite_env, tmp_path)


def test_the_clean_season_is_clean_for_both_verifiers_pinned_or_not(season, tmp_path):
    for name in ("season.jsonl", "season.jsonl.gz"):
        path = export(season.env, tmp_path / name)
        assert same(path, season.env.log_key) == []
        assert same(path, None) == []


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_each_forgery_gets_the_same_findings_from_both_verifiers(season, tmp_path, forge):
    forged = forge(season)
    findings = same(export(season.env, tmp_path / "forged.jsonl"), season.env.log_key)
    # Not vacuous: each forgery is reported, and at the leaves the forgery returned.
    expected = set(forged) if isinstance(forged, tuple) else {forged}
    assert findings and at(findings) == expected


def _timestamp_a_day_ahead(s: Season) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    stamp = {"_type_": "datetime_iso", "_data_": later}
    s.op.rewrite(s.leaves["first_self_a"], lambda state: state.update(timestamp=stamp))
    s.op.reseal()


def _three_fields_no_one_signed(s: Season) -> None:
    edit = {"points": "0.25", "not_applicable": True, "note": "x"}
    s.op.rewrite(s.leaves["self_b"], lambda state: state.update(edit))
    s.op.reseal()


def _one_event_more_than_the_rotation_yields(s: Season) -> None:
    s.op.append_copy(s.leaves["successor_registered"])
    s.op.reseal()


def _an_extra_a_missing_and_a_changed_member(s: Season) -> None:
    s.op.rewrite(s.leaves["first_self_a"], lambda state: state.update(aaa=1))
    s.op.rewrite(s.leaves["second_self_a"], lambda state: state.pop("note"))
    s.op.rewrite(s.leaves["self_b"], lambda state: state.update(zzz=1, note="x"))
    s.op.reseal()


def _timestamps_that_are_no_datetime(s: Season) -> None:
    s.op.rewrite(s.leaves["self_b"], lambda state: state.update(timestamp="yesterday"))
    s.op.rewrite(
        s.leaves["first_self_a"], lambda state: state.update(timestamp="yesterday", note="x")
    )
    s.op.reseal()


def _a_timestamp_in_hanoi_time(s: Season) -> None:
    # The same instant, shown as the next day's date to anyone reading it as is.
    def to_hanoi(state: dict) -> None:
        utc = datetime.fromisoformat(state["timestamp"]["_data_"])
        state["timestamp"]["_data_"] = utc.astimezone(timezone(timedelta(hours=7))).isoformat()

    s.op.rewrite(s.leaves["self_b"], to_hanoi)
    s.op.reseal()


MORE_FORGERIES = {
    "timestamp-not-in-utc": _a_timestamp_in_hanoi_time,
    "extra-missing-changed-members": _an_extra_a_missing_and_a_changed_member,
    "timestamps-no-datetime": _timestamps_that_are_no_datetime,
    "timestamp-a-day-ahead": _timestamp_a_day_ahead,
    "three-unsigned-fields": _three_fields_no_one_signed,
    "run-longer-than-its-command": _one_event_more_than_the_rotation_yields,
}


@pytest.mark.parametrize("forge", MORE_FORGERIES.values(), ids=MORE_FORGERIES.keys())
def test_other_operator_edits_get_the_same_findings_and_details(season, tmp_path, forge):
    forge(season)
    path = export(season.env, tmp_path / "forged.jsonl")
    assert same(path, season.env.log_key)
    # The field an outsider names for a state member must be ours too (FORMATS.md 8.2).
    named = [
        (f.kind, f.position, f.detail)
        for f in verify_bundle(path, season.env.log_key)
        if f.detail.startswith("field")
    ]
    report = verify(BundleSource(path), log_key=season.env.log_key, workers=1)
    assert named == [
        (f.kind, f.position, f.detail) for f in report.findings if f.detail.startswith("field")
    ]


# -- the tampered logs of test_tamper.py ------------------------------------------------------
@pytest.fixture
def log(sqlite_env: Env) -> Env:
    """0 genesis, 1 first admin, 2..7 six keys (2 and 5 admins), checkpoint at 8,
    8..11 four more keys, checkpoint at 12."""
    keys = [sqlite_env.register(role="admin" if i % 3 == 0 else "observer")[0] for i in range(6)]
    sqlite_env.keys = keys
    assert sqlite_env.checkpoint().size == 8
    keys += [sqlite_env.register()[0] for _ in range(4)]
    assert sqlite_env.checkpoint().size == 12
    return sqlite_env


def _edit_state(leaf: int, edit: Callable[[bytes], bytes]):
    def tamper(env: Env) -> None:
        *_, state = event_row(env.app, leaf)
        set_event_state(env.app, leaf, edit(state))

    return tamper


def _flip_role_byte(state: bytes) -> bytes:
    i = state.index(b'\\"role\\":\\"') + len(b'\\"role\\":\\"')
    return state[:i] + bytes([state[i] ^ 0x01]) + state[i + 1 :]


def _used_before_registration(env: Env) -> None:
    early = new_key()
    forge_registration(env.app, early)
    env.send(register_command(env.admin, early, role="admin"))
    env.register(signer=early)


def _used_after_revocation(env: Env) -> None:
    env.send(command(env.admin, "revoke_key", key_id=env.keys[0].key_id, reason="left"))
    forge_registration(env.app, env.keys[0])


def _used_after_rotation(env: Env) -> None:
    old, new = env.keys[3], new_key()
    env.send(
        command(
            env.admin,
            "rotate_key",
            old_key_id=old.key_id,
            key_id=new.key_id,
            public_key=new.public_key,
        )
    )
    forge_registration(env.app, old)
    env.register(signer=new)


def _edit_checkpoint(size: int, edit: Callable[[str], str]):
    def tamper(env: Env) -> None:
        set_checkpoint_note(env.app, size, edit(env.app.tlog.checkpoint_for_size(size).note))

    return tamper


def _root_edited(text: str) -> str:
    lines = text.split("\n")
    lines[2] = base64.b64encode(b"\x22" * 32).decode()
    return "\n".join(lines)


def _signature_edited(text: str) -> str:
    head, sig = text.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 0x01
    return f"{head} {base64.b64encode(bytes(raw)).decode()}\n"


def _fork_stored(env: Env) -> None:
    env.app.tlog.add_checkpoint(10, b"\x44" * 32, forged_checkpoint(env.app, 10, b"\x44" * 32))


STORE_TAMPERS = {
    "changed-timestamp-byte": _edit_state(4, with_timestamp_digit_changed),
    "changed-display-name": _edit_state(
        4, lambda s: s.replace(b'"display_name":"Nguy', b'"display_name":"Xguy', 1)
    ),
    "changed-signed-command-byte": _edit_state(4, _flip_role_byte),
    "deleted-event": lambda env: delete_event(env.app, 6),
    "deleted-event-and-leaf": lambda env: delete_event(env.app, 6, with_leaf=True),
    "truncated-below-checkpoint": lambda env: truncate_log(env.app, 9),
    "truncated-at-checkpoint": lambda env: truncate_log(env.app, 8),
    "swapped-leaves": lambda env: swap_leaf_targets(env.app, 4, 6),
    "unregistered-key": lambda env: forge_registration(env.app, new_key()),
    "key-used-before-registration": _used_before_registration,
    "key-used-after-revocation": _used_after_revocation,
    "key-used-after-rotation": _used_after_rotation,
    "bad-actor-signature": lambda env: forge_registration(
        env.app, env.admin, signature_of=register_command(env.admin, new_key())
    ),
    "observer-registers-a-key": lambda env: forge_registration(env.app, env.keys[1]),
    "checkpoint-root-edited": _edit_checkpoint(8, _root_edited),
    "checkpoint-signature-edited": _edit_checkpoint(12, _signature_edited),
    "forked-checkpoint-stored": _fork_stored,
}


@pytest.mark.parametrize("tamper", STORE_TAMPERS.values(), ids=STORE_TAMPERS.keys())
def test_each_tampered_store_gets_the_same_findings_from_both_verifiers(log, tmp_path, tamper):
    tamper(log)
    findings = same(export(log, tmp_path / "tampered.jsonl"), log.log_key)
    assert findings


def test_checkpoints_an_auditor_kept_are_judged_alike(log, tmp_path):
    path = export(log, tmp_path / "audit.jsonl")
    other = init_deployment(tmp_path / "other")
    size, root = log.app.tlog.head()
    text = note.Checkpoint(log.app.settings.origin, size, root, []).format()
    foreign = note.sign_note(text, [log_signer(Settings.load(tmp_path / "other"))])
    assert other["log_key"] != log.log_key
    fork = forged_checkpoint(log.app, 8, b"\x33" * 32)
    kept = log.app.tlog.checkpoint_for_size(12).note
    assert same(path, log.log_key, [foreign]) == [
        ("checkpoint_bad_signature", json.dumps({"size": 12}))
    ]
    assert len(same(path, log.log_key, [fork])) == 3
    assert same(path, log.log_key, [kept]) == []


def test_a_pinned_log_key_of_another_deployment_is_judged_alike(log, tmp_path):
    other = init_deployment(tmp_path / "other")
    findings = same(export(log, tmp_path / "audit.jsonl"), other["log_key"])
    assert ("bad_genesis", json.dumps({"leaf_index": 0})) in findings


# -- bundles edited as files ---------------------------------------------------------------------
def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _line_of(lines: list[bytes], leaf: int) -> int:
    return next(
        n
        for n, x in enumerate(lines)
        if x.startswith(b'{"kind":"event"') and json.loads(x)["leaf_index"] == leaf
    )


def _state_byte_changed(path: Path) -> None:
    lines = _lines(path)
    n = _line_of(lines, 7)
    obj = json.loads(lines[n])
    obj["state"] = base64.b64encode(
        with_timestamp_digit_changed(base64.b64decode(obj["state"]))
    ).decode()
    lines[n] = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path.write_bytes(b"".join(lines))


def _line_deleted(path: Path) -> None:
    lines = _lines(path)
    del lines[_line_of(lines, 7)]
    path.write_bytes(b"".join(lines))


def _cut_at_line(path: Path) -> None:
    lines = _lines(path)
    path.write_bytes(b"".join(lines[: _line_of(lines, 9)]))


def _cut_inside_line(path: Path) -> None:
    lines = _lines(path)
    path.write_bytes(b"".join(lines[: _line_of(lines, 9)]) + lines[_line_of(lines, 9)][:40])


def _spaced(path: Path) -> None:
    lines = [json.loads(x) for x in _lines(path)]
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines), "utf-8")


def _hostile_lines(path: Path) -> None:
    lines = _lines(path)
    hostile = [
        {"originator_id": "not-a-uuid"},
        {"version": -1},
        {"topic": 5},
        {"topic": "\ud800"},
        {"leaf_hash": "00"},
        {"state": "***"},
        {"leaf_index": "3"},
    ]
    for patch in hostile:
        obj = {**json.loads(lines[3]), **patch}
        lines.insert(-1, (json.dumps(obj, separators=(",", ":")) + "\n").encode())
    path.write_bytes(b"".join(lines))


def _far_beyond(path: Path) -> None:
    lines = _lines(path)
    obj = json.loads(lines[12])
    lines.insert(
        13, (json.dumps({**obj, "leaf_index": 10**15}, separators=(",", ":")) + "\n").encode()
    )
    path.write_bytes(b"".join(lines))


def _not_gzip(path: Path) -> None:
    path.write_bytes(b"plain text, not gzip\n")


def _cut_gzip(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


FILE_EDITS = {
    "state-byte-changed": ("audit.jsonl", _state_byte_changed),
    "event-line-deleted": ("audit.jsonl", _line_deleted),
    "cut-at-a-line": ("audit.jsonl", _cut_at_line),
    "cut-inside-a-line": ("audit.jsonl", _cut_inside_line),
    "spaced-json": ("audit.jsonl", _spaced),
    "hostile-event-lines": ("audit.jsonl", _hostile_lines),
    "event-far-beyond-the-log": ("audit.jsonl", _far_beyond),
}


@pytest.mark.parametrize("name,edit", FILE_EDITS.values(), ids=FILE_EDITS.keys())
def test_each_edited_bundle_file_gets_the_same_findings_from_both_verifiers(
    log, tmp_path, name, edit
):
    path = export(log, tmp_path / name)
    edit(path)
    kept = log.app.tlog.checkpoint_for_size(12).note
    same(path, log.log_key)
    same(path, log.log_key, [kept])


@pytest.mark.parametrize("damage", [_not_gzip, _cut_gzip], ids=["not-gzip", "cut-gzip"])
def test_an_unreadable_gzip_bundle_is_bundle_malformed_for_both_verifiers(log, tmp_path, damage):
    # How many lines a reader gets out of a damaged gzip stream before it fails
    # depends on its buffering (FORMATS.md 8.3), so only the kinds are compared.
    path = export(log, tmp_path / "audit.jsonl.gz")
    damage(path)
    allowed = {
        "bundle_malformed",
        "event_missing",
        "log_truncated",
        "bad_genesis",
        "checkpoint_bad_signature",
    }
    for found in (theirs(path, log.log_key), mine(path, log.log_key)):
        assert "bundle_malformed" in {k for k, _ in found} and {k for k, _ in found} <= allowed


def test_a_revocation_topic_spelled_with_a_json_escape_is_judged_alike(log, tmp_path):
    revoked = log.send(command(log.admin, "revoke_key", key_id=log.keys[0].key_id, reason="left"))[
        "log_index"
    ]
    forged, _ = forge_registration(log.app, log.keys[0])
    path = export(log, tmp_path / "audit.jsonl")
    lines = _lines(path)
    plain = b'"topic":"domain.keys:ActorKey.Revoked"'
    lines[revoked + 1] = lines[revoked + 1].replace(
        plain, b'"topic":"domain.keys:ActorKey\\u002eRevoked"'
    )
    path.write_bytes(b"".join(lines))
    assert same(path, log.log_key) == [("key_revoked", json.dumps({"leaf_index": forged}))]
