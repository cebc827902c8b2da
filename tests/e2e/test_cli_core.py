"""The `parindex` command line as a user runs it: a real process, real files."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from application.signing import keys
from application.transparency import merkle, note
from tests.support import PARINDEX_ENV, with_timestamp_digit_changed


def _parindex() -> str:
    beside = Path(sys.executable).parent / "parindex"
    found = str(beside) if beside.exists() else shutil.which("parindex")
    assert found, "the parindex console script is not installed"
    return found


PARINDEX = _parindex()


def run(*args: str, cwd: Path, expect: int | None = 0) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PARINDEX_ENV}
    p = subprocess.run(
        [PARINDEX, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    if expect is not None:
        assert p.returncode == expect, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def run_json(*args: str, cwd: Path) -> dict:
    return json.loads(run(*args, "--json", cwd=cwd).stdout)


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(root)): (mode(p), p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@dataclass
class Cli:
    cwd: Path
    data: str
    init: dict

    def __call__(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        return run(*args, cwd=self.cwd, expect=expect)

    def json(self, *args: str) -> dict:
        return run_json(*args, cwd=self.cwd)

    def register(
        self, key_file: str, role: str = "observer", scope: str = "*", admin: str = "admin.key"
    ) -> dict:
        return self.json(
            "key",
            "register",
            "--data-dir",
            self.data,
            "--admin-key",
            admin,
            "--key",
            key_file,
            "--role",
            role,
            "--scope",
            scope,
            "--name",
            "Phạm Thị Dung",
        )


def populate(cli: Cli, n: int, *, checkpoint: bool = False) -> None:
    """Registers n keys in-process (fast); the CLI is tested on what follows."""
    from application.deployment import issue_checkpoint, open_app
    from tests.support import key_from_file, new_key, register_command

    admin = key_from_file(cli.cwd / "admin.key")
    app = open_app(cli.cwd / cli.data)
    try:
        for _ in range(n):
            app.handle(admin.sign(register_command(admin, new_key())))
        if checkpoint:
            issue_checkpoint(app)
    finally:
        app.close()


def key_file(cli: Cli, name: str) -> str:
    keys.save_actor_key_file(cli.cwd / name, keys.generate(), display_name=name)
    return name


@pytest.fixture
def cli(tmp_path, backend) -> Cli:
    args = ["init", "--data-dir", "data", "--admin-name", "Nguyễn Quản Trị"]
    if backend:
        args += ["--database-url", backend]
    init = run_json(*args, cwd=tmp_path)
    shutil.copy2(
        init["admin_key_file"]
        if Path(init["admin_key_file"]).is_absolute()
        else tmp_path / init["admin_key_file"],
        tmp_path / "admin.key",
    )
    return Cli(tmp_path, "data", init)


@pytest.fixture
def sqlite_cli(tmp_path) -> Cli:
    init = run_json("init", "--data-dir", "data", cwd=tmp_path)
    shutil.copy2(tmp_path / init["admin_key_file"], tmp_path / "admin.key")
    return Cli(tmp_path, "data", init)


# -- init ------------------------------------------------------------------------------
def test_init_makes_a_deployment_and_an_admin_key_only_its_owner_can_read(cli: Cli, backend):
    r = cli.init
    assert r["backend"] == ("postgres" if backend else "sqlite")
    key_file = cli.cwd / r["admin_key_file"]
    assert mode(key_file) == 0o600
    assert mode(cli.cwd / "data" / "keys" / "log.key") == 0o600
    key_id, _, doc = keys.load_actor_key_file(key_file)
    assert r["admin_key_id"] == key_id == doc["key_id"]
    assert r["genesis"]["log_index"] == 0 and r["genesis"]["tree_size"] == 2
    # The first checkpoint is signed by the log key init printed.
    opened = note.open_note(r["checkpoint"], [r["log_key"]])
    assert note.parse_checkpoint(opened.text).size == 2
    saved = json.loads((cli.cwd / "data" / "parindex.json").read_text("utf-8"))
    assert saved.get("database_url") == backend


def test_init_prints_the_admin_key_id(tmp_path):
    out = run("init", "--data-dir", "data", cwd=tmp_path).stdout
    key_id, _, _ = keys.load_actor_key_file(tmp_path / "data" / "keys" / "admin.key")
    assert key_id in out
    assert "0600" in out


def test_init_on_an_existing_deployment_refuses_and_changes_nothing(cli: Cli):
    size = cli.json("log", "checkpoint", "--data-dir", cli.data)["size"]
    before = tree(cli.cwd)
    for extra in ([], ["--json"]):
        p = cli("init", "--data-dir", cli.data, *extra, expect=1)
        assert "[already_initialised]" in p.stderr
        assert p.stdout == ""
    assert tree(cli.cwd) == before
    assert cli.json("log", "checkpoint", "--data-dir", cli.data)["size"] == size


def test_init_on_a_database_that_holds_a_deployment_refuses_and_can_be_rerun(cli: Cli, backend):
    if not backend:
        pytest.skip("only a PostgreSQL database is shared between data directories")
    size = cli.json("log", "checkpoint", "--data-dir", cli.data)["size"]
    p = cli("init", "--data-dir", "second", "--database-url", backend, expect=1)
    assert "[already_initialised]" in p.stderr
    # Nothing was written to the shared log, and no half-made deployment is left
    # behind: the second data directory holds no keys and no configuration.
    assert cli.json("log", "checkpoint", "--data-dir", cli.data)["size"] == size
    assert [x for x in (cli.cwd / "second").rglob("*") if x.is_file()] == []
    # So init can simply be run again there, on the SQLite default.
    assert cli.json("init", "--data-dir", "second")["backend"] == "sqlite"


# -- keys ------------------------------------------------------------------------------
def test_key_new_writes_a_0600_key_file_and_refuses_to_overwrite_it(tmp_path):
    r = run_json("key", "new", "--out", "mine.key", "--name", "Hoàng Văn Em", cwd=tmp_path)
    path = tmp_path / "mine.key"
    assert mode(path) == 0o600
    key_id, private, doc = keys.load_actor_key_file(path)
    assert r["key_id"] == key_id and r["public_key"] == doc["public_key"]
    content = path.read_bytes()
    p = run("key", "new", "--out", "mine.key", cwd=tmp_path, expect=1)
    assert "[key_file_exists]" in p.stderr
    assert path.read_bytes() == content and mode(path) == 0o600


def test_keys_are_registered_rotated_and_revoked_from_the_command_line(cli: Cli):
    for name in ("deputy.key", "observer.key", "deputy2.key", "x.key"):
        key_file(cli, name)
    deputy = cli.register("deputy.key", role="admin")
    assert deputy["log_index"] == 2 and deputy["tree_size"] == 3 and not deputy["replayed"]
    # The new admin key can act at once.
    observer = cli.register("observer.key", admin="deputy.key")
    assert observer["log_index"] == 3

    deputy_id = keys.load_actor_key_file(cli.cwd / "deputy.key")[0]
    rotated = cli.json(
        "key",
        "rotate",
        "--data-dir",
        cli.data,
        "--admin-key",
        "admin.key",
        "--old-key-id",
        deputy_id,
        "--new-key",
        "deputy2.key",
    )
    assert [e["leaf_index"] for e in rotated["events"]] == [4, 5]
    # The old key is refused and nothing is written; the successor works.
    p = cli(
        "key",
        "register",
        "--data-dir",
        cli.data,
        "--admin-key",
        "deputy.key",
        "--key",
        "x.key",
        "--role",
        "observer",
        "--scope",
        "*",
        "--name",
        "X",
        expect=1,
    )
    assert "[key_revoked]" in p.stderr
    assert cli.register("x.key", admin="deputy2.key")["log_index"] == 6

    observer_id = keys.load_actor_key_file(cli.cwd / "observer.key")[0]
    revoked = cli.json(
        "key",
        "revoke",
        "--data-dir",
        cli.data,
        "--admin-key",
        "admin.key",
        "--key-id",
        observer_id,
        "--reason",
        "nghỉ hưu",
    )
    assert revoked["log_index"] == 7
    # The revoked key is refused before anything else is looked at.
    p = cli(
        "key",
        "register",
        "--data-dir",
        cli.data,
        "--admin-key",
        "observer.key",
        "--key",
        "x.key",
        "--role",
        "observer",
        "--scope",
        "*",
        "--name",
        "X",
        expect=1,
    )
    assert "[key_revoked]" in p.stderr
    assert cli("verify", "--data-dir", cli.data).returncode == 0


# -- log -----------------------------------------------------------------------------------
def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_log_proofs_from_the_command_line_verify_against_signed_checkpoints(cli: Cli):
    first = note.parse_checkpoint(
        note.open_note(cli.init["checkpoint"], [cli.init["log_key"]]).text
    )
    populate(cli, 5)
    cp = cli.json("log", "checkpoint", "--data-dir", cli.data)
    vkey = cli.json("log", "key", "--data-dir", cli.data)["log_key"]
    assert vkey == cli.init["log_key"]
    body = note.parse_checkpoint(note.open_note(cp["note"], [vkey]).text)
    assert (body.size, body.root) == (cp["size"], _b64(cp["root"])) == (7, body.root)

    for index in (0, 4, 6):
        doc = cli.json("log", "prove", "--data-dir", cli.data, "--index", str(index))
        assert doc["tree_size"] == 7 and doc["checkpoint"] == cp["note"]
        merkle.verify_inclusion(
            _b64(doc["leaf_hash"]),
            index,
            doc["tree_size"],
            [_b64(h) for h in doc["proof"]],
            body.root,
        )
    # A proof to an older size, against the checkpoint init signed.
    doc = cli.json("log", "prove", "--data-dir", cli.data, "--index", "1", "--size", "2")
    merkle.verify_inclusion(
        _b64(doc["leaf_hash"]), 1, 2, [_b64(h) for h in doc["proof"]], first.root
    )

    cons = cli.json("log", "consistency", "--data-dir", cli.data, "--from", "2", "--to", "7")
    assert (_b64(cons["root1"]), _b64(cons["root2"])) == (first.root, body.root)
    merkle.verify_consistency(2, 7, first.root, body.root, [_b64(h) for h in cons["proof"]])

    # Asking for a leaf that does not exist is a clear refusal, not a crash.
    p = cli("log", "prove", "--data-dir", cli.data, "--index", "99", expect=1)
    assert "[out_of_range]" in p.stderr


# -- export and verify -----------------------------------------------------------------------
def test_an_exported_bundle_verifies_clean(cli: Cli):
    populate(cli, 3, checkpoint=True)
    r = cli.json("export", "--data-dir", cli.data, "--out", "audit.jsonl")
    assert (r["events"], r["checkpoints"], r["consistency_proofs"]) == (5, 2, 1)
    p = cli("verify", "audit.jsonl")
    assert "5" in p.stdout
    report = cli.json("verify", "audit.jsonl", "--log-key", cli.init["log_key"])
    assert report["ok"] is True and report["findings"] == []
    assert report["size"] == 5 and report["log_key_pinned"] is True
    assert cli("verify", "--data-dir", cli.data).returncode == 0
    cli.json("export", "--data-dir", cli.data, "--out", "audit.jsonl.gz")
    assert cli.json("verify", "audit.jsonl.gz")["ok"] is True


def test_verify_names_a_tampered_event_and_exits_1(sqlite_cli: Cli):
    cli = sqlite_cli
    populate(cli, 3, checkpoint=True)
    cli("export", "--data-dir", cli.data, "--out", "audit.jsonl")
    path = cli.cwd / "audit.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    obj = json.loads(lines[4])  # header first, so line 4 is leaf 3
    assert obj["kind"] == "event" and obj["leaf_index"] == 3
    obj["state"] = base64.b64encode(
        with_timestamp_digit_changed(base64.b64decode(obj["state"]))
    ).decode()
    lines[4] = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path.write_bytes(b"".join(lines))

    p = cli("verify", "audit.jsonl", expect=1)
    assert "[event_altered] leaf_index=3" in p.stdout
    report = json.loads(cli("verify", "audit.jsonl", "--json", expect=1).stdout)
    assert report["ok"] is False
    assert [(f["kind"], f["position"]) for f in report["findings"]] == [
        ("event_altered", {"leaf_index": 3})
    ]


def test_verify_of_a_tampered_store_exits_1(sqlite_cli: Cli):
    cli = sqlite_cli
    populate(cli, 3, checkpoint=True)
    db = sqlite3.connect(cli.cwd / "data" / "events.sqlite")
    with db:
        db.execute(
            "UPDATE parindex_checkpoints SET note = replace(note, '\n5\n', '\n4\n') WHERE size = 5"
        )
    db.close()
    p = cli("verify", "--data-dir", cli.data, expect=1)
    assert "[checkpoint_bad_signature] size=4" in p.stdout


def test_verify_with_a_wrong_log_key_reports_it(sqlite_cli: Cli, tmp_path):
    cli = sqlite_cli
    cli("export", "--data-dir", cli.data, "--out", "audit.jsonl")
    other = run_json("init", "--data-dir", "other", cwd=tmp_path)["log_key"]
    assert other != cli.init["log_key"]
    report = json.loads(cli("verify", "audit.jsonl", "--log-key", other, "--json", expect=1).stdout)
    kinds = [(f["kind"], f["position"]) for f in report["findings"]]
    # The genesis names another log key than the pinned one, and the pinned key
    # did not sign the checkpoint.
    assert kinds == [("bad_genesis", {"leaf_index": 0}), ("checkpoint_bad_signature", {"size": 2})]


def test_verify_with_a_kept_checkpoint_notices_a_shorter_log(sqlite_cli: Cli):
    cli = sqlite_cli
    kept = cli.cwd / "kept.checkpoint"
    populate(cli, 3)
    kept.write_text(cli.json("log", "checkpoint", "--data-dir", cli.data)["note"], "utf-8")
    cli("export", "--data-dir", cli.data, "--out", "audit.jsonl")
    path = cli.cwd / "audit.jsonl"
    # The auditor is handed a bundle cut to its first three events, re-ended,
    # and without the later checkpoint. Its (unsigned) header still says 5.
    lines = [json.loads(x) for x in path.read_bytes().splitlines()]
    short = [
        x
        for x in lines
        if x["kind"] == "header"
        or (x["kind"] == "event" and x["leaf_index"] < 3)
        or (x["kind"] == "checkpoint" and x["size"] <= 3)
    ] + [{"kind": "end"}]
    path.write_text(
        "".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in short),
        "utf-8",
    )
    p = cli("verify", "audit.jsonl", expect=1)
    assert "[log_truncated] leaf_index=3, size=5" in p.stdout
    # With the header also rewritten, only the checkpoint the auditor kept tells.
    short[0]["size"] = 3
    path.write_text(
        "".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in short),
        "utf-8",
    )
    assert cli("verify", "audit.jsonl").returncode == 0
    p = cli("verify", "audit.jsonl", "--checkpoint", str(kept), expect=1)
    assert "[log_truncated] leaf_index=3, size=5" in p.stdout


USAGE_ERRORS = {
    "no source": [],
    "no such bundle file": ["missing.jsonl"],
    "no such data dir": ["--data-dir", "nowhere"],
    "two sources": ["audit.jsonl", "--data-dir", "data"],
    "no such kept checkpoint": ["audit.jsonl", "--checkpoint", "missing.checkpoint"],
    "unknown flag": ["--bogus-flag"],
}


def test_verify_usage_errors_exit_2(sqlite_cli: Cli):
    sqlite_cli("export", "--data-dir", sqlite_cli.data, "--out", "audit.jsonl")
    for what, args in USAGE_ERRORS.items():
        p = sqlite_cli("verify", *args, expect=None)
        assert (p.returncode, bool(p.stderr.strip())) == (2, True), (what, p)
        assert "Traceback" not in p.stderr and p.stdout == "", what


@pytest.mark.parametrize(
    "name, content",
    [
        ("bad.jsonl.gz", b"this is not gzip\n"),
        (
            "bad.jsonl",
            b'\xff\xfe\n{"kind":"checkpoint"}\n{"kind":"consistency","size1":1}\n'
            b'{"kind":"event","leaf_index":999999999999,"leaf_hash":"00",'
            b'"originator_id":"zz","version":-1,"topic":5,"state":"!"}\n[1]\n',
        ),
    ],
    ids=["not-gzip", "garbage-lines"],
)
def test_verify_of_a_hostile_file_reports_bundle_malformed(tmp_path, name: str, content: bytes):
    (tmp_path / name).write_bytes(content)
    p = run("verify", name, "--json", cwd=tmp_path, expect=1)
    report = json.loads(p.stdout)
    assert report["ok"] is False
    assert {f["kind"] for f in report["findings"]} == {"bundle_malformed"}
