"""A deployment asks its witnesses to cosign: cosignatures kept, served, exported; a data
directory rolled back to an older copy, or a forked log, is caught by the witness."""

from __future__ import annotations

import gzip
import json

from application.config import Settings
from application.transparency.cosignature import open_cosigned
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.witness_client import ask_for_latest
from application.transparency.witness_home import init_witness, open_witness
from interfaces.cli.main import main as cli
from interfaces.witness.app import create_witness_app
from tests.support import Env
from tests.witness_support import Older

URL = "http://witness.test"


def _witness(env: Env, tmp_path, name: str = "mttq.example.vn/witness"):
    init_witness(tmp_path / name.replace("/", "_"), name, [env.log_key])
    witness = open_witness(tmp_path / name.replace("/", "_"))
    client = create_witness_app(witness).test_client()

    def post(url: str, body: bytes) -> tuple[int, bytes]:
        assert url == URL
        r = client.post("/add-checkpoint", data=body)
        return r.status_code, r.get_data()

    settings = Settings.load(env.data_dir)
    settings.witnesses = [{"url": URL, "vkey": witness.cosigner.verifier().vkey}]
    settings.save()
    env.reopen()
    return witness, post


def test_a_cosigned_checkpoint_is_kept_served_and_exported(env: Env, tmp_path):
    witness, post = _witness(env, tmp_path)
    wkey = witness.cosigner.verifier().vkey
    env.register()
    checkpoint, answers = ask_for_latest(env.app, post)
    assert [a.status for a in answers] == ["cosigned"]
    env.register()
    checkpoint, answers = ask_for_latest(env.app, post)  # from the witness's last size
    assert [(a.status, a.size) for a in answers] == [("cosigned", checkpoint.size)]
    note = CosignatureStore(env.app.tlog).cosigned_note(checkpoint)
    opened = open_cosigned(note, [env.log_key], [wkey])
    assert [c.name for c in opened.cosignatures] == [witness.cosigner.name]
    # Served by the API as one note with both lines.
    from interfaces.http.app import create_app

    api = create_app(str(env.data_dir)).test_client()
    served = api.get("/api/v1/log/checkpoint").get_json()["note"]
    assert open_cosigned(served, [env.log_key], [wkey]).cosignatures
    # In the audit bundle, and the bundle still verifies.
    out = tmp_path / "audit.jsonl.gz"
    assert cli(["export", "--data-dir", str(env.data_dir), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in gzip.open(out, "rt", encoding="utf-8")]
    notes = [x["note"] for x in lines if x["kind"] == "checkpoint" and x["size"] == checkpoint.size]
    assert any(open_cosigned(n, [env.log_key], [wkey]).cosignatures for n in notes)
    assert cli(["verify", str(out), "--log-key", env.log_key]) == 0


def test_a_witness_that_restarted_empty_is_caught_up_by_the_409_size(env: Env, tmp_path):
    witness, post = _witness(env, tmp_path)
    env.register()
    ask_for_latest(env.app, post)
    # Our record of the witness is lost (a new table, say): we send old 0, get 409.
    CosignatureStore(env.app.tlog)._rows(f"DELETE FROM {CosignatureStore(env.app.tlog).table}")
    env.register()
    _, answers = ask_for_latest(env.app, post)
    assert [a.status for a in answers] == ["cosigned"]


def test_a_data_directory_rolled_back_to_an_older_copy_is_caught_by_the_witness(
    env: Env, tmp_path, monkeypatch, capsys
):
    witness, post = _witness(env, tmp_path)
    env.register()
    ask_for_latest(env.app, post)
    older = Older(env)  # SQLite: a copy of the store file; PostgreSQL: the size to cut to
    env.register()
    env.register()
    checkpoint, answers = ask_for_latest(env.app, post)
    grown = checkpoint.size
    assert answers[0].status == "cosigned"
    # The operator restores the older copy: the log is shorter than what the witness saw.
    older.restore()
    checkpoint, answers = ask_for_latest(env.app, post)
    assert checkpoint.size < grown
    assert [(a.status, a.witness_size) for a in answers] == [("witness_ahead", grown)]
    # The command line says so and exits 1.
    env.app.close()
    monkeypatch.setattr("application.transparency.witness_client.http_post", post)
    assert cli(["witness", "ask", "--data-dir", str(env.data_dir)]) == 1
    assert "NHẬT KÝ BỊ LÙI" in capsys.readouterr().out
    env.reopen()


def test_a_fork_is_refused_by_the_witness(env: Env, tmp_path):
    witness, post = _witness(env, tmp_path)
    env.register()
    ask_for_latest(env.app, post)
    older = Older(env)
    env.register(name="Nhánh A")
    _, answers = ask_for_latest(env.app, post)
    assert answers[0].status == "cosigned"
    seen = witness.state.load()[env.app.settings.origin].size
    # Another history of the same length from the older copy: a fork.
    older.restore()
    env.register(name="Nhánh B")
    checkpoint, answers = ask_for_latest(env.app, post)
    assert checkpoint.size == seen
    assert answers[0].status == "failed" and "422" in answers[0].detail
    assert witness.state.load()[env.app.settings.origin].size == seen  # nothing moved


def test_witness_use_checks_and_records_the_witness(env: Env, tmp_path, capsys):
    init_witness(tmp_path / "w", "a.example/w", [env.log_key])
    vkey = open_witness(tmp_path / "w").cosigner.verifier().vkey
    d = str(env.data_dir)
    assert cli(["witness", "use", "--data-dir", d, "--url", "ftp://x", "--vkey", vkey]) != 0
    assert cli(["witness", "use", "--data-dir", d, "--url", URL, "--vkey", env.log_key]) != 0
    assert cli(["witness", "use", "--data-dir", d, "--url", URL, "--vkey", vkey]) == 0
    assert cli(["witness", "use", "--data-dir", d, "--url", URL + "/2", "--vkey", vkey]) == 0
    assert Settings.load(env.data_dir).witnesses == [{"url": URL + "/2", "vkey": vkey}]


def test_a_cosignature_is_served_on_each_copy_of_its_checkpoint(env: Env, tmp_path):
    """Two workers may sign the same tree head at once: two rows, one note (Ed25519 is
    deterministic). A witness's line kept for one is served with the other too."""
    witness, post = _witness(env, tmp_path)
    wkey = witness.cosigner.verifier().vkey
    env.register()
    checkpoint, _ = ask_for_latest(env.app, post)
    twin = env.app.tlog.add_checkpoint(checkpoint.size, checkpoint.root, checkpoint.note)
    latest = env.app.tlog.latest_checkpoint()
    assert latest.id == twin.id != checkpoint.id
    note = CosignatureStore(env.app.tlog).cosigned_note(latest)
    assert open_cosigned(note, [env.log_key], [wkey]).cosignatures
