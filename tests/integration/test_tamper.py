"""Tampering with a real store (and with bundles) and what verify reports.

Each test changes the database the way someone with write access to it could,
then runs the verifier on the store and on a bundle exported from the tampered
store, and checks that the findings name exactly that kind at that position.

The log used by every test (leaf index: event):
    0 genesis, 1 first admin key, 2..7 six registrations (2 and 5 are admins),
    checkpoint at 8, 8..11 four more registrations, checkpoint at 12.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from application.audit.bundle import BundleSource, StoreSource, export_bundle
from application.audit.verify import Report, verify
from application.config import Settings
from application.deployment import init_deployment, log_signer
from application.transparency import note
from tests.support import (
    Env,
    Key,
    command,
    delete_event,
    event_row,
    forge_registration,
    forged_checkpoint,
    insert_event_outside_log,
    new_key,
    register_command,
    set_checkpoint_note,
    set_event_state,
    swap_leaf_targets,
    truncate_log,
    with_timestamp_digit_changed,
)


@dataclass
class Log:
    env: Env
    keys: list[Key]
    tmp: Path

    @property
    def app(self):
        return self.env.app

    def store_report(self, **kw) -> Report:
        return verify(StoreSource(self.app.tlog), log_key=self.env.log_key, workers=1, **kw)

    def export(self, name: str = "bundle.jsonl") -> Path:
        out = self.tmp / name
        export_bundle(self.app.tlog, out, log_key=self.env.log_key, origin=self.app.settings.origin)
        return out

    def bundle_report(self, path: Path | None = None, **kw) -> Report:
        return verify(
            BundleSource(path or self.export()), log_key=self.env.log_key, workers=1, **kw
        )

    def both(self, **kw) -> tuple[list, list]:
        return findings(self.store_report(**kw)), findings(self.bundle_report(**kw))


def findings(report: Report) -> list[tuple[str, dict]]:
    return [(f.kind, f.position) for f in report.findings]


@pytest.fixture
def log(env: Env, tmp_path) -> Log:
    keys = [env.register(role="admin" if i % 3 == 0 else "observer")[0] for i in range(6)]
    assert env.checkpoint().size == 8
    keys += [env.register()[0] for _ in range(4)]
    assert env.checkpoint().size == 12
    return Log(env, keys, tmp_path)


def expect_both(log: Log, expected: list[tuple[str, dict]], **kw) -> None:
    store, bundle = log.both(**kw)
    assert store == expected
    assert bundle == expected


# -- control -------------------------------------------------------------------------
def test_a_clean_log_verifies_from_the_store_and_from_bundles(log: Log):
    report = log.store_report()
    assert report.ok and report.findings == []
    assert (report.size, report.events_checked, report.checkpoints_checked) == (12, 12, 3)
    assert report.log_key_pinned
    for name in ("bundle.jsonl", "bundle.jsonl.gz"):
        b = log.bundle_report(log.export(name))
        assert b.ok and b.findings == [] and b.root == report.root and b.size == 12
    unpinned = verify(StoreSource(log.app.tlog), workers=1)
    assert unpinned.ok and not unpinned.log_key_pinned


def test_a_store_written_to_while_it_is_verified_verifies_clean(log: Log):
    # Between verify reading the key registry and reading the events, an admin
    # registers a key that acts at once and a checkpoint is issued. Verify
    # checks one snapshot and must not call that key unknown.
    env = log.env

    class Busy(StoreSource):
        def key_records(self):
            records = super().key_records()
            newcomer, _ = env.register(role="admin")
            env.register(signer=newcomer)
            env.checkpoint()
            return records

    report = verify(Busy(log.app.tlog), log_key=env.log_key, workers=1)
    assert report.findings == [] and report.size == 12
    assert findings(log.store_report()) == [] and log.store_report().size == 14


# -- events ---------------------------------------------------------------------------
def test_a_changed_byte_in_an_event_is_event_altered_at_its_leaf(log: Log):
    *_, state = event_row(log.app, 4)
    set_event_state(log.app, 4, with_timestamp_digit_changed(state))
    expect_both(log, [("event_altered", {"leaf_index": 4})])


def test_a_changed_field_of_an_event_is_also_not_derived_from_its_command(log: Log):
    # Changing what the event says (the display name) changes its bytes
    # (event_altered) and makes it differ from what the command the admin signed
    # yields (event_not_derived, naming the field): both are true of the same leaf.
    *_, state = event_row(log.app, 4)
    forged = state.replace(b'"display_name":"Nguy', b'"display_name":"Xguy', 1)
    assert forged != state
    set_event_state(log.app, 4, forged)
    expect_both(
        log, [("event_altered", {"leaf_index": 4}), ("event_not_derived", {"leaf_index": 4})]
    )
    assert [f.detail for f in log.store_report().findings][1] == "field 'display_name'"


def test_a_changed_byte_in_a_signed_command_is_also_a_bad_signature(log: Log):
    # The byte lands inside the stored signed command: the event's bytes changed
    # and the actor's signature no longer covers them.
    *_, state = event_row(log.app, 4)
    at = state.index(b'\\"role\\":\\"') + len(b'\\"role\\":\\"')
    forged = state[:at] + bytes([state[at] ^ 0x01]) + state[at + 1 :]
    set_event_state(log.app, 4, forged)
    expect_both(log, [("bad_signature", {"leaf_index": 4}), ("event_altered", {"leaf_index": 4})])


def test_a_deleted_middle_event_is_event_missing_at_its_leaf(log: Log):
    delete_event(log.app, 6)
    expect_both(log, [("event_missing", {"leaf_index": 6})])


def test_a_deleted_middle_event_and_its_leaf_are_event_missing_at_that_index(log: Log):
    delete_event(log.app, 6, with_leaf=True)
    expect_both(log, [("event_missing", {"leaf_index": 6})])


@pytest.mark.parametrize("keep", [9, 8], ids=["below-a-checkpoint", "at-a-checkpoint"])
def test_a_truncated_tail_below_a_checkpoint_is_log_truncated(log: Log, keep: int):
    # Events, leaves, nodes and the stored frontier are all cut consistently, so
    # the store looks like an honest log of `keep` events; only the checkpoint
    # issued at 12 remembers more.
    truncate_log(log.app, keep)
    assert log.app.tlog.size() == keep and log.app.tlog.count_events() == keep
    expect_both(log, [("log_truncated", {"leaf_index": keep, "size": 12})])


def test_two_events_that_swapped_places_are_event_reordered(log: Log):
    # The order of the log is the leaf table: leaf i names the event at position
    # i. Swapping which events leaves 4 and 6 name reorders the log while every
    # event's bytes and every committed leaf hash stay intact, so verify must tell
    # a reorder from two alterations: the event now at 4 is exactly what leaf 6
    # committed to, and the other way round.
    swap_leaf_targets(log.app, 4, 6)
    expect_both(log, [("event_reordered", {"leaf_index": 4, "other": 6})])


def test_an_event_written_around_the_log_is_event_inserted(log: Log):
    oid = insert_event_outside_log(log.app, 4)
    assert findings(log.store_report()) == [
        ("event_inserted", {"originator_id": str(oid), "version": 1})
    ]
    # A bundle is the log: an event the log never took is not in it to report.


# -- keys and signatures --------------------------------------------------------------------
def test_an_event_signed_by_an_unregistered_key_is_unknown_key(log: Log):
    index, _ = forge_registration(log.app, new_key())
    assert index == 12
    expect_both(log, [("unknown_key", {"leaf_index": 12})])


def test_a_key_used_before_its_registration_is_unknown_key(log: Log):
    early = new_key()
    index, _ = forge_registration(log.app, early)
    log.env.send(register_command(log.env.admin, early, role="admin"))
    log.env.register(signer=early)  # used after registration: fine
    expect_both(log, [("unknown_key", {"leaf_index": index})])


def test_a_key_used_after_its_revocation_is_key_revoked(log: Log):
    admin2 = log.keys[0]
    log.env.send(command(log.env.admin, "revoke_key", key_id=admin2.key_id, reason="left"))
    index, _ = forge_registration(log.app, admin2)
    assert index == 13
    expect_both(log, [("key_revoked", {"leaf_index": 13})])


def test_a_key_used_after_it_was_rotated_away_is_key_revoked(log: Log):
    old, new = log.keys[3], new_key()
    log.env.send(
        command(
            log.env.admin,
            "rotate_key",
            old_key_id=old.key_id,
            key_id=new.key_id,
            public_key=new.public_key,
        )
    )
    index, _ = forge_registration(log.app, old)
    assert index == 14
    log.env.register(signer=new)
    expect_both(log, [("key_revoked", {"leaf_index": 14})])


def test_an_event_whose_actor_signature_fails_is_bad_signature(log: Log):
    index, _ = forge_registration(
        log.app, log.env.admin, signature_of=register_command(log.env.admin, new_key())
    )
    expect_both(log, [("bad_signature", {"leaf_index": index})])


def test_an_event_signed_by_a_role_without_the_right_is_not_permitted(log: Log):
    observer = log.keys[1]
    index, _ = forge_registration(log.app, observer)
    expect_both(log, [("not_permitted", {"leaf_index": index})])


# -- checkpoints -----------------------------------------------------------------------------
def _edit_root(note_text: str) -> str:
    lines = note_text.split("\n")
    lines[2] = base64.b64encode(b"\x22" * 32).decode()
    return "\n".join(lines)


def test_a_checkpoint_whose_root_was_edited_is_checkpoint_bad_signature(log: Log):
    cp = log.app.tlog.checkpoint_for_size(8)
    set_checkpoint_note(log.app, 8, _edit_root(cp.note))
    expect_both(log, [("checkpoint_bad_signature", {"size": 8})])


def test_a_checkpoint_whose_signature_was_edited_is_checkpoint_bad_signature(log: Log):
    cp = log.app.tlog.checkpoint_for_size(12)
    head, sig = cp.note.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 0x01
    set_checkpoint_note(log.app, 12, f"{head} {base64.b64encode(bytes(raw)).decode()}\n")
    expect_both(log, [("checkpoint_bad_signature", {"size": 12})])


def test_a_checkpoint_signed_by_another_key_is_checkpoint_bad_signature(log: Log, tmp_path):
    # A second deployment with the same origin has its own log key; a checkpoint
    # of our tree head signed with it is not ours.
    other = init_deployment(tmp_path / "other")
    assert other["log_key"] != log.env.log_key
    size, root = log.app.tlog.head()
    text = note.Checkpoint(log.app.settings.origin, size, root, []).format()
    foreign = note.sign_note(text, [log_signer(Settings.load(tmp_path / "other"))])
    expect_both(log, [("checkpoint_bad_signature", {"size": 12})], extra_checkpoints=[foreign])


def test_a_forked_checkpoint_of_the_same_size_is_checkpoints_inconsistent(log: Log):
    # A checkpoint the log key really signed (e.g. shown to one party) for size 8
    # but another root. It contradicts the stored checkpoint of size 8, so the
    # log agrees with only one of them: the forked one also fails against the
    # log's own root at 8 (checkpoint_root_mismatch), and against the checkpoint
    # at 12 that extends the real tree (the second checkpoints_inconsistent).
    fork = forged_checkpoint(log.app, 8, b"\x33" * 32)
    expect_both(
        log,
        [
            ("checkpoint_root_mismatch", {"size": 8}),
            ("checkpoints_inconsistent", {"size1": 8, "size2": 8}),
            ("checkpoints_inconsistent", {"size1": 8, "size2": 12}),
        ],
        extra_checkpoints=[fork],
    )


def test_a_forked_checkpoint_kept_in_the_store_is_checkpoints_inconsistent(log: Log):
    # The forked head at 10 cannot be consistent with both its neighbours (8 and
    # 12, which are consistent with each other), and its root is not the log's
    # root at 10: three findings from one forged note, each naming where.
    fork = forged_checkpoint(log.app, 10, b"\x44" * 32)
    log.app.tlog.add_checkpoint(10, b"\x44" * 32, fork)
    expect_both(
        log,
        [
            ("checkpoints_inconsistent", {"size1": 8, "size2": 10}),
            ("checkpoint_root_mismatch", {"size": 10}),
            ("checkpoints_inconsistent", {"size1": 10, "size2": 12}),
        ],
    )


# -- bundles as files ----------------------------------------------------------------------
def _event_lines(path: Path) -> tuple[list[bytes], dict[int, int]]:
    lines = path.read_bytes().splitlines(keepends=True)
    where = {
        json.loads(x)["leaf_index"]: n
        for n, x in enumerate(lines)
        if x.startswith(b'{"kind":"event"')
    }
    return lines, where


def test_a_changed_byte_in_a_bundle_event_is_event_altered_at_its_index(log: Log):
    path = log.export()
    lines, where = _event_lines(path)
    obj = json.loads(lines[where[7]])
    obj["state"] = base64.b64encode(
        with_timestamp_digit_changed(base64.b64decode(obj["state"]))
    ).decode()
    lines[where[7]] = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path.write_bytes(b"".join(lines))
    assert findings(log.bundle_report(path)) == [("event_altered", {"leaf_index": 7})]


def test_a_deleted_bundle_event_line_is_event_missing_at_its_index(log: Log):
    path = log.export()
    lines, where = _event_lines(path)
    del lines[where[7]]
    path.write_bytes(b"".join(lines))
    assert findings(log.bundle_report(path)) == [("event_missing", {"leaf_index": 7})]


def test_a_cut_short_bundle_is_bundle_malformed(log: Log):
    path = log.export()
    data = path.read_bytes()
    lines, where = _event_lines(path)
    kept = log.app.tlog.checkpoint_for_size(12).note  # what an auditor saved earlier

    # Cut at a line boundary: everything parses, but the end line is gone.
    path.write_bytes(b"".join(lines[: where[9]]))
    # The header announced 12 leaves, so the missing tail is named as such; the
    # checkpoint the auditor kept names it too.
    truncated = ("log_truncated", {"leaf_index": 9, "size": 12})
    assert sorted(findings(log.bundle_report(path)), key=repr) == sorted(
        [("bundle_malformed", {"line": -1}), truncated], key=repr
    )
    assert sorted(findings(log.bundle_report(path, extra_checkpoints=[kept])), key=repr) == sorted(
        [("bundle_malformed", {"line": -1}), truncated, truncated], key=repr
    )

    # Cut inside an event line: that line is malformed too.
    cut = sum(len(x) for x in lines[: where[9]]) + 40
    path.write_bytes(data[:cut])
    assert sorted(findings(log.bundle_report(path)), key=repr) == sorted(
        [
            ("bundle_malformed", {"line": -1}),
            ("bundle_malformed", {"line": where[9] + 1}),
            truncated,
        ],
        key=repr,
    )


def _rewrite(path: Path, edit) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(edit(n, x) for n, x in enumerate(lines)))


def test_a_bundle_written_with_spaced_json_is_read_the_same(log: Log):
    # JSON Lines from another exporter may put spaces after ':' and ','.
    path = log.export()
    _rewrite(path, lambda n, x: (json.dumps(json.loads(x), ensure_ascii=False) + "\n").encode())
    report = log.bundle_report(path)
    assert report.ok and report.events_checked == 12 and report.checkpoints_checked == 3
    delete_event(log.app, 6)
    path = log.export()
    _rewrite(path, lambda n, x: (json.dumps(json.loads(x), ensure_ascii=False) + "\n").encode())
    assert findings(log.bundle_report(path)) == [("event_missing", {"leaf_index": 6})]


def test_a_revocation_spelled_with_json_escapes_in_a_bundle_still_counts(log: Log):
    # Whoever exports the bundle writes the revocation's topic with a JSON escape
    # ("ActorKey\u002eRevoked" is the same string): the key's later use must
    # still be reported.
    admin2 = log.keys[0]
    revoked = log.env.send(
        command(log.env.admin, "revoke_key", key_id=admin2.key_id, reason="left")
    )["log_index"]
    index, _ = forge_registration(log.app, admin2)
    path = log.export()
    plain = b'"topic":"domain.keys:ActorKey.Revoked"'
    escaped = b'"topic":"domain.keys:ActorKey\\u002eRevoked"'
    lines = path.read_bytes().splitlines(keepends=True)
    assert plain in lines[revoked + 1]  # the header comes first
    lines[revoked + 1] = lines[revoked + 1].replace(plain, escaped)
    path.write_bytes(b"".join(lines))
    assert findings(log.bundle_report(path)) == [("key_revoked", {"leaf_index": index})]


@pytest.mark.parametrize("damage", ["not-gzip", "cut-gzip"])
def test_an_unreadable_gzip_bundle_is_bundle_malformed(log: Log, damage: str):
    path = log.export("bundle.jsonl.gz")
    data = path.read_bytes()
    path.write_bytes(b"plain text, not gzip\n" if damage == "not-gzip" else data[: len(data) // 2])
    report = log.bundle_report(path)
    assert report.findings and {f.kind for f in report.findings} <= {
        "bundle_malformed",
        "event_missing",
        "log_truncated",
        "bad_genesis",
        "checkpoint_bad_signature",
    }
    assert "bundle_malformed" in {f.kind for f in report.findings}


def test_hostile_event_lines_are_bundle_malformed_not_a_crash_or_a_hang(log: Log):
    path = log.export()
    lines = path.read_bytes().splitlines(keepends=True)
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
        obj = json.loads(lines[3])
        obj.update(patch)
        lines.insert(-1, (json.dumps(obj, separators=(",", ":")) + "\n").encode())
    path.write_bytes(b"".join(lines))
    report = log.bundle_report(path)
    assert [f.kind for f in report.findings] == ["bundle_malformed"] * len(hostile)


def test_an_event_line_far_beyond_the_log_is_event_missing_without_walking_there(log: Log):
    path = log.export()
    lines = path.read_bytes().splitlines(keepends=True)
    obj = json.loads(lines[12])  # the header, then leaves 0..11
    assert obj["leaf_index"] == 11
    far = {**obj, "leaf_index": 10**15}
    lines.insert(13, (json.dumps(far, separators=(",", ":")) + "\n").encode())
    path.write_bytes(b"".join(lines))
    report = log.bundle_report(path)
    # The gap from 12 to 10**15 is one missing stretch; the same event showing up
    # a second time is its signed command used twice, a registration of a key
    # that exists (the handler refuses it), a version going backwards for its
    # aggregate; and the bundle now runs past the size its header announced.
    assert findings(report) == [
        ("event_missing", {"leaf_index": 12}),
        ("command_replayed", {"leaf_index": 10**15}),
        ("event_not_derived", {"leaf_index": 10**15}),
        ("event_reordered", {"leaf_index": 10**15}),
        ("bundle_malformed", {"leaf_index": 10**15 + 1, "size": 12}),
    ]
