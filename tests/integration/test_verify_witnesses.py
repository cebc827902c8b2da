"""`parindex verify --witness VKEY --min-witnesses K`: cosignatures counted on the newest
checkpoint, a bad one named, and a log rolled back or forked after a witness saw it caught,
on SQLite (the store file restored from an older copy) and PostgreSQL (the tail cut)."""

from __future__ import annotations

import json

from application.config import Settings
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.witness_client import ask_for_latest
from application.transparency.witness_home import init_witness, open_witness
from interfaces.cli.main import main as cli
from interfaces.witness.app import create_witness_app
from tests.support import Env, sql
from tests.witness_support import Older

URL = "http://witness.test"
NAME = "mttq.example.vn/witness"


def _witness(env: Env, tmp_path, name: str = NAME):
    home = tmp_path / name.replace("/", "_")
    init_witness(home, name, [env.log_key])
    witness = open_witness(home)
    client = create_witness_app(witness).test_client()

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        r = client.post("/add-checkpoint", data=body)
        return r.status_code, r.get_data()

    settings = Settings.load(env.data_dir)
    settings.witnesses = [
        *settings.witnesses,
        {"url": URL, "vkey": witness.cosigner.verifier().vkey},
    ]
    settings.save()
    env.reopen()
    return witness, post


def _verify(env: Env, capsys, *args: str) -> tuple[int, dict]:
    env.app.close()
    capsys.readouterr()
    code = cli(["verify", "--data-dir", str(env.data_dir), "--json", *args])
    out = json.loads(capsys.readouterr().out)
    env.reopen()
    return code, out


def _kinds(out: dict) -> list[tuple[str, dict]]:
    return [(f["kind"], f["position"]) for f in out["findings"]]


def test_the_newest_checkpoint_cosigned_by_the_witness_verifies(env: Env, tmp_path, capsys):
    witness, post = _witness(env, tmp_path)
    env.register()
    checkpoint, answers = ask_for_latest(env.app, post)
    assert answers[0].status == "cosigned"
    code, out = _verify(
        env, capsys, "--witness", witness.cosigner.verifier().vkey, "--min-witnesses", "1"
    )
    assert (code, out["findings"]) == (0, [])
    assert out["witnesses"]["newest"] == checkpoint.size
    assert {"size": checkpoint.size, "witnesses": [NAME]} in out["witnesses"]["checkpoints"]
    # Without --witness the report is as before: no witness member.
    code, out = _verify(env, capsys)
    assert code == 0 and "witnesses" not in out


def test_a_newest_checkpoint_without_enough_witnesses_is_witness_missing(
    env: Env, tmp_path, capsys
):
    witness, post = _witness(env, tmp_path)
    other, _ = _witness(env, tmp_path, "thanh-tra.example.vn/witness")
    env.register()
    ask_for_latest(env.app, post)  # the second witness is never asked
    keys = [
        "--witness",
        witness.cosigner.verifier().vkey,
        "--witness",
        other.cosigner.verifier().vkey,
    ]
    assert _verify(env, capsys, *keys, "--min-witnesses", "1")[0] == 0
    code, out = _verify(env, capsys, *keys, "--min-witnesses", "2")
    assert code == 1
    assert [k for k, _ in _kinds(out)] == ["witness_missing"]
    # The log grew and a newer checkpoint was signed: its tail is not witnessed yet.
    env.register()
    env.checkpoint()
    code, out = _verify(env, capsys, "--witness", witness.cosigner.verifier().vkey)
    assert code == 1 and [k for k, _ in _kinds(out)] == ["witness_missing"]
    assert _kinds(out)[0][1] == {"size": env.app.tlog.size()}


def test_a_cosignature_that_does_not_verify_is_witness_bad_signature(env: Env, tmp_path, capsys):
    witness, post = _witness(env, tmp_path)
    env.register()
    checkpoint, _ = ask_for_latest(env.app, post)
    store = CosignatureStore(env.app.tlog)
    line = store.lines(checkpoint)[0]
    blob = line.rstrip("\n").rsplit(" ", 1)[1]
    flipped = blob[:30] + ("A" if blob[30] != "A" else "B") + blob[31:]
    sql(env.app, f"UPDATE {store.table} SET line = ?", (line.replace(blob, flipped),))
    code, out = _verify(env, capsys, "--witness", witness.cosigner.verifier().vkey)
    assert code == 1
    assert ("witness_bad_signature", {"size": checkpoint.size, "witness": NAME}) in _kinds(out)
    assert "witness_missing" in [k for k, _ in _kinds(out)]


def test_a_log_rolled_back_after_the_witness_saw_it_is_witness_conflict(env: Env, tmp_path, capsys):
    witness, post = _witness(env, tmp_path)
    env.register()
    ask_for_latest(env.app, post)
    older = Older(env)
    env.register()
    grown, answers = ask_for_latest(env.app, post)
    assert answers[0].status == "cosigned"
    older.restore()
    assert env.app.tlog.size() < grown.size
    # The rolled-back copy verifies clean on its own, witness included: it is a whole log.
    assert _verify(env, capsys, "--witness", witness.cosigner.verifier().vkey)[0] == 0
    # The witness's own checkpoint (GET .../checkpoint) shows what it saw.
    seen = tmp_path / "witness-checkpoint.txt"
    seen.write_text(witness.state.load()[env.app.settings.origin].note, "utf-8")
    code, out = _verify(
        env, capsys, "--witness", witness.cosigner.verifier().vkey, "--checkpoint", str(seen)
    )
    assert code == 1
    assert ("witness_conflict", {"size": grown.size, "witness": NAME}) in _kinds(out)
    # The server, still running on the older copy, asks again and is refused.
    env.register()
    _, answers = ask_for_latest(env.app, post)
    assert answers[0].status == "failed"
    code, out = _verify(env, capsys, "--witness", witness.cosigner.verifier().vkey)
    assert code == 1 and [k for k, _ in _kinds(out)] == ["witness_missing"]


def test_a_forked_log_is_witness_conflict_for_the_fork_the_witness_did_not_see(
    env: Env, tmp_path, capsys
):
    witness, post = _witness(env, tmp_path)
    env.register()
    ask_for_latest(env.app, post)
    older = Older(env)
    env.register(name="Nhánh A")
    seen, answers = ask_for_latest(env.app, post)
    assert answers[0].status == "cosigned"
    older.restore()
    env.register(name="Nhánh B")  # the same length, another history
    fork, answers = ask_for_latest(env.app, post)
    assert fork.size == seen.size and fork.note != seen.note
    assert answers[0].status == "failed" and "422" in answers[0].detail
    code, out = _verify(env, capsys, "--witness", witness.cosigner.verifier().vkey)
    assert code == 1 and [k for k, _ in _kinds(out)] == ["witness_missing"]
    kept = tmp_path / "witness-checkpoint.txt"
    kept.write_text(witness.state.load()[env.app.settings.origin].note, "utf-8")
    code, out = _verify(
        env, capsys, "--witness", witness.cosigner.verifier().vkey, "--checkpoint", str(kept)
    )
    assert ("witness_conflict", {"size": seen.size, "witness": NAME}) in _kinds(out)


def test_bad_witness_arguments_are_usage_errors(env: Env, tmp_path, capsys):
    witness, _ = _witness(env, tmp_path)
    d = str(env.data_dir)
    env.app.close()
    assert cli(["verify", "--data-dir", d, "--witness", env.log_key]) == 2
    assert (
        cli(
            [
                "verify",
                "--data-dir",
                d,
                "--witness",
                witness.cosigner.verifier().vkey,
                "--min-witnesses",
                "2",
            ]
        )
        == 2
    )
    env.reopen()


def test_a_bundle_is_verified_with_its_witnesses(env: Env, tmp_path, capsys):
    witness, post = _witness(env, tmp_path)
    env.register()
    ask_for_latest(env.app, post)
    out = tmp_path / "audit.jsonl.gz"
    env.app.close()
    assert cli(["export", "--data-dir", str(env.data_dir), "--out", str(out)]) == 0
    assert cli(["verify", str(out), "--witness", witness.cosigner.verifier().vkey]) == 0
    env.reopen()
    env.register()
    env.checkpoint()
    env.app.close()
    assert cli(["export", "--data-dir", str(env.data_dir), "--out", str(out)]) == 0
    assert cli(["verify", str(out), "--witness", witness.cosigner.verifier().vkey]) == 1
    env.reopen()
