"""`why` against an operator who holds the log key and writes the store.

Every forgery here leaves the log self-consistent: leaves re-hashed, checkpoints
re-signed with the real log key (tests/log_operator.py). So each forged event
has a valid inclusion proof; what `Client.why` must still catch is that no
valid key signed it (an actor signature that does not verify, a key whose
registration no admin signed, a key acting outside its role or scope), or that
the framework the values are recomputed with is not the one an admin published.
Expected: `Client.why` raises ProofInvalid naming the leaf, and `parindex why`
exits 1 with that message on stderr.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from application.signing import keys
from application.signing.jcs import canonicalize_command
from domain.keys import key_aggregate_id
from interfaces.client import Client, ProofInvalid
from interfaces.http.app import READ_MODEL_FILE
from tests.e2e.http_support import Served, run_cli
from tests.forgeries import CYCLE, A, B, Season, build_season, score_outside_the_signers_scope
from tests.log_operator import encode
from tests.support import Env, Key, command, new_key, register_fields

LEAF = "1.1.1"


@pytest.fixture
def season(env: Env, tmp_path) -> Season:
    return build_season(env, tmp_path)


def key_file(key: Key, path: Path) -> str:
    if path.exists():
        return str(path)
    keys.write_key_file(
        path,
        json.dumps(
            {
                "kind": keys.ACTOR_KEY_FILE_KIND,
                "key_id": key.key_id,
                "public_key": key.public_key,
                "private_key": keys.b64(keys.private_raw(key.private)),
            }
        ).encode(),
    )
    return str(path)


@contextmanager
def served(s: Season) -> Iterator[str]:
    server = Served(s.env.data_dir, workers=1)
    try:
        yield server.url
    finally:
        server.stop()


def client(s: Season, url: str, reader: Key) -> Client:
    return Client(url, key_file(reader, s.tmp / f"{reader.key_id}.key"), log_key=s.env.log_key)


def cli_why(s: Season, url: str, reader: Key, unit: str, leaf: str, capsys) -> tuple[int, str]:
    code = run_cli(
        [
            "why",
            *("--cycle", CYCLE, "--unit", unit, "--leaf", leaf),
            *("--url", url, "--key", key_file(reader, s.tmp / f"{reader.key_id}.key")),
            *("--log-key", s.env.log_key),
        ]
    )
    out = capsys.readouterr()
    return code, out.out + out.err


def signed_state(cmd: dict, signer: Key, claimed: str) -> dict:
    """A `signed` member for `cmd`, signed by `signer` but naming `claimed`."""
    text = canonicalize_command(cmd).decode("utf-8")
    signature = signer.sign(cmd)["signature"]
    return {"command": text, "signature": signature, "key_id": claimed}


def append_event(s: Season, oid, topic: str, state: dict) -> int:
    app = s.env.app
    last = app.recorder.select_events(oid, desc=True, limit=1)
    version = last[0].originator_version + 1 if last else 1
    app.recorder.insert_events([StoredEvent(oid, version, topic, encode(state))])
    return app.recorder.last_append.leaves[0].leaf_index


def forge_self_score_no_officer_signed(s: Season) -> int:
    """A self-score "0.25" on xa-a in the officer's name, signed by the operator."""
    like = s.leaves["second_self_a"]
    state = s.op.state(like)
    cmd = command(s.officer_a, "record_self_score", cycle=CYCLE, unit=A, leaf=LEAF, points="0.25")
    state.update(points="0.25", signed=signed_state(cmd, new_key(), s.officer_a.key_id))
    forged = append_event(s, s.op.aggregate_of(like), s.op.event_topic(like), state)
    s.op.reseal()
    return forged


def forge_key_no_admin_registered(s: Season) -> tuple[int, int, Key]:
    """The operator's own key, "registered" by an event in the admin's name that
    the operator signed itself; then a self-score on xa-b (xa-a is submitted)
    correctly signed by it."""
    rogue = new_key()
    fields = register_fields(rogue, "commune_officer", f"commune:{B}", "Người lạ")
    cmd = command(s.env.admin, "register_key", **fields)
    like = s.op.state(s.leaves["self_b"])  # any event: only its timestamp is reused
    state = {
        "timestamp": like["timestamp"],
        "originator_topic": "domain.keys:ActorKey",
        **fields,
        "signed": signed_state(cmd, rogue, s.env.admin.key_id),
        "rotated_from": None,
    }
    registered = append_event(
        s, key_aggregate_id(rogue.key_id), "domain.keys:ActorKey.Registered", state
    )
    s.op.reseal()
    scored = s.op.store(
        rogue.sign(
            command(rogue, "record_self_score", cycle=CYCLE, unit=B, leaf=LEAF, points="0.25")
        )
    )["log_index"]
    s.op.reseal()
    return registered, scored, rogue


def forge_framework_publication(s: Season) -> int:
    """The published framework's leaf 1.1.1 re-titled in the stored event (the
    signed command still says the admin's title)."""
    published = next(
        i for i in range(2, 12) if s.op.event_topic(i).endswith("PublishedFramework.Published")
    )

    def edit(state: dict) -> None:
        node = next(n for n in state["framework"]["nodes"] if n["code"] == LEAF)
        node["title"] = "Tiêu chí do người vận hành sửa"

    s.op.rewrite(published, edit)
    s.op.reseal()
    return published


def proof_invalid_at(excinfo, index: int) -> str:
    err = excinfo.value
    assert err.code == "proof_invalid"
    assert f"vị trí {index}" in err.message_vi and f"index {index}" in err.message_en
    return err.message_en


# -- the honest season ---------------------------------------------------------------------
def test_the_honest_season_is_proven_down_to_the_genesis(season, capsys):
    with served(season) as url:
        doc = client(season, url, season.officer_a).why(CYCLE, A, LEAF)
        code, out = cli_why(season, url, season.officer_a, A, LEAF, capsys)
    assert doc["verified"] and not doc["recomputed"]["mismatches"]
    proven = doc["proven"]
    assert proven["genesis_leaf"] == 0
    assert proven["framework"]["framework_id"] == "thai-nguyen-2021-commune@1"
    assert proven["framework"]["digest"].startswith("sha256:")
    signers = proven["signers"]
    assert signers[season.officer_a.key_id]["role"] == "commune_officer"
    assert signers[season.appraiser.key_id]["role"] == "appraiser"
    assert code == 0, out
    assert "khóa của họ đã xác minh, lần ngược tới sự kiện khởi tạo" in out
    assert "thai-nguyen-2021-commune@1 đúng như quản trị đã ký công bố" in out


def test_a_rotated_officers_successor_is_proven_through_the_old_keys_registration(season):
    successor = new_key()
    season.env.send(
        command(
            season.env.admin,
            "rotate_key",
            old_key_id=season.officer_b.key_id,
            key_id=successor.key_id,
            public_key=successor.public_key,
        )
    )
    # xa-b: xa-a is submitted in the season, its self-scores locked
    season.send(
        "successor_self_b",
        successor,
        "record_self_score",
        cycle=CYCLE,
        unit=B,
        leaf=LEAF,
        points="1",
    )
    with served(season) as url:
        doc = client(season, url, season.successor).why(CYCLE, B, LEAF)
    signers = doc["proven"]["signers"]
    # The rotation signed no role: the successor's is the old key's, by replay.
    assert signers[successor.key_id]["role"] == "commune_officer"
    assert signers[successor.key_id]["scope"] == f"commune:{B}"
    assert signers[season.officer_b.key_id]["stopped_leaf"] is not None


# -- hole 1: actor signatures and the keys behind them ----------------------------------------
def test_a_score_signed_with_a_revoked_key_is_refused(season, capsys):
    # The officer's key is revoked (it leaked); the operator, holding the leaked
    # key, signs a self-score with it and stores it after the revocation.
    season.env.send(
        command(season.env.admin, "revoke_key", key_id=season.officer_a.key_id, reason="Lộ khóa")
    )
    like = season.leaves["second_self_a"]
    state = season.op.state(like)
    cmd = command(
        season.officer_a, "record_self_score", cycle=CYCLE, unit=A, leaf=LEAF, points="0.25"
    )
    state.update(points="0.25", signed=signed_state(cmd, season.officer_a, season.officer_a.key_id))
    forged = append_event(season, season.op.aggregate_of(like), season.op.event_topic(like), state)
    season.op.reseal()
    with served(season) as url:
        with pytest.raises(ProofInvalid) as excinfo:
            client(season, url, season.successor).why(CYCLE, A, LEAF)
    assert "key_revoked" in proof_invalid_at(excinfo, forged)


def test_a_self_score_the_officer_never_signed_is_refused(season, capsys):
    forged = forge_self_score_no_officer_signed(season)
    with served(season) as url:
        with pytest.raises(ProofInvalid) as excinfo:
            client(season, url, season.officer_a).why(CYCLE, A, LEAF)
        code, out = cli_why(season, url, season.officer_a, A, LEAF, capsys)
    assert "bad_signature" in proof_invalid_at(excinfo, forged)
    assert code == 1 and "Lỗi [proof_invalid]" in out and f"vị trí {forged}" in out
    assert "đã xác minh bằng chứng" not in out


def test_a_key_whose_registration_no_admin_signed_is_refused(season, capsys):
    registered, _scored, _rogue = forge_key_no_admin_registered(season)
    with served(season) as url:
        with pytest.raises(ProofInvalid) as excinfo:
            client(season, url, season.officer_b).why(CYCLE, B, LEAF)
        code, out = cli_why(season, url, season.officer_b, B, LEAF, capsys)
    assert "bad_signature" in proof_invalid_at(excinfo, registered)
    assert code == 1 and f"vị trí {registered}" in out


def test_a_server_that_leaves_out_the_signers_registration_is_refused(season):
    with served(season) as url:
        c = client(season, url, season.officer_a)
        doc = c._get(f"/api/v1/cycles/{CYCLE}/units/{A}/leaves/{LEAF}/why")
    appraiser = str(key_aggregate_id(season.appraiser.key_id))
    doc["grounds"] = [g for g in doc["grounds"] if g["logged"]["originator_id"] != appraiser]
    with pytest.raises(ProofInvalid) as excinfo:
        c.verify_why(doc, LEAF)
    assert "unknown_key" in proof_invalid_at(excinfo, season.leaves["appraisal_a"])


def test_a_server_that_answers_about_another_commune_is_refused(season, monkeypatch):
    with served(season) as url:
        c = client(season, url, season.successor)
        other = c._get(f"/api/v1/cycles/{CYCLE}/units/{B}/leaves/{LEAF}/why")
        monkeypatch.setattr(c, "_get", lambda *args, **kwargs: other)
        with pytest.raises(ProofInvalid, match=f"not {CYCLE}/{A}/{LEAF}"):
            c.why(CYCLE, A, LEAF)


def test_a_self_score_outside_the_signers_scope_is_refused(season, capsys):
    forged = score_outside_the_signers_scope(season)  # xa-a's officer scores xa-b's 1.1.2
    with served(season) as url:
        with pytest.raises(ProofInvalid) as excinfo:
            client(season, url, season.officer_b).why(CYCLE, B, "1.1.2")
        code, out = cli_why(season, url, season.officer_b, B, "1.1.2", capsys)
    assert "not_permitted" in proof_invalid_at(excinfo, forged)
    assert code == 1 and f"vị trí {forged}" in out


# -- hole 2: the framework ----------------------------------------------------------------------
def test_a_framework_publication_the_admin_did_not_sign_is_refused(season, capsys):
    published = forge_framework_publication(season)
    with served(season) as url:
        with pytest.raises(ProofInvalid) as excinfo:
            client(season, url, season.officer_a).why(CYCLE, A, LEAF)
        code, out = cli_why(season, url, season.officer_a, A, LEAF, capsys)
    assert "event_not_derived" in proof_invalid_at(excinfo, published)
    assert code == 1 and f"vị trí {published}" in out


def test_a_read_model_framework_cannot_hide_a_tampered_score(season, capsys):
    # The operator shows 0.99 for xa-b's 1.1.1 (signed: "1") and lowers the leaf's
    # maximum in the read model's framework, so that "1" no longer scores there:
    # recomputed with that framework, no points could be compared.
    with served(season) as url:
        model = sqlite3.connect(season.env.data_dir / READ_MODEL_FILE)
        with model:
            model.execute(
                "UPDATE node_scores SET self_score = '0.99', appraised_score = '0.99' "
                "WHERE cycle = ? AND unit = ? AND code = ?",
                (CYCLE, B, LEAF),
            )
            model.execute("UPDATE framework_nodes SET max_points = '0.5' WHERE code = ?", (LEAF,))
        model.close()
        doc = client(season, url, season.officer_b).why(CYCLE, B, LEAF)
        code, out = cli_why(season, url, season.officer_b, B, LEAF, capsys)
    assert {(m["field"], m["shown"], m["recomputed"]) for m in doc["recomputed"]["mismatches"]} == {
        ("self.points", "0.99", "1"),
        ("appraised.points", "0.99", "1"),
    }
    assert code == 1 and "KHÔNG KHỚP" in out
