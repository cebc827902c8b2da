"""`parindex watch`: a commune's own monitor against a real `parindex serve`.

It prints each change to its unit with who and why, each proven in a
checkpoint; and it catches the operator: a data directory restored from an
older copy (rollback), a log rewritten from that copy (fork), an event withheld
or altered by the server. What it verified survives between runs in its state
file, which it never silently starts over."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.config import Settings
from interfaces.client import Client
from interfaces.monitor import Alert, State, one_round
from tests.e2e.http_support import AUTHORITY, CYCLE, UNITS, Served, World, make_world, run_cli
from tests.support import command

UNIT = UNITS[0]


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    w = make_world(tmp_path / "site")
    if w.env.database_url is not None:
        pytest.skip("the rollback is a copy of the SQLite file; PostgreSQL: test_rollback.py")
    chair = w.key("commune_chair", f"commune:{UNIT}")
    scored = {"cycle": CYCLE, "unit": UNIT, "leaf": "1.1.1", "points": "1"}
    w.env.send(command(w.officer, "record_self_score", **scored), w.officer)
    w.env.submit_unit(UNIT, w.officer, chair, cycle=CYCLE)
    try:
        yield w
    finally:
        w.env.app.close()


def watch(capsys, world: World, url: str, *extra: str) -> tuple[int, str, str]:
    root = world.env.data_dir.parent
    key = world.key_file(world.officer, root / "officer.key")
    args = ["watch", "--cycle", CYCLE, "--unit", UNIT, "--once", "--url", url, "--key", str(key)]
    code = run_cli([*args, "--state", str(root / "watch.json"), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def adjust(world: World, leaf: str, points: str, reason: str) -> dict:
    where = {"cycle": CYCLE, "unit": UNIT, "leaf": leaf}
    fields = {**where, "points": points, "reason": reason}
    return world.env.send(command(world.appraiser, "adjust_score", **fields), world.appraiser)


def backup(world: World) -> Path:
    copy = world.env.data_dir.parent / "store.backup.sqlite"
    src = sqlite3.connect(Settings.load(world.env.data_dir).sqlite_path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    dst.close()
    src.close()
    return copy


def restore(world: World, copy: Path) -> None:
    """What an operator does who puts back an older copy of the data directory."""
    world.env.app.close()
    store = Settings.load(world.env.data_dir).sqlite_path
    for suffix in ("-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    Path(store).write_bytes(copy.read_bytes())
    world.env.reopen()


def test_the_monitor_prints_each_new_change_with_who_and_why(world, capsys):
    server = Served(world.env.data_dir, workers=1)
    try:
        code, out, err = watch(capsys, world, server.url)
        assert code == 0, err
        assert "tin lần đầu" in out and f"sự kiện có sẵn của {UNIT}" in out
        assert "[vị trí nhật ký" not in out  # the first run summarises what exists
        state = json.loads((world.env.data_dir.parent / "watch.json").read_text())
        assert state["version"] > len(world.app.framework(world.framework_id).leaves)

        adjusted = adjust(world, "1.1.1", "0", "Không có kế hoạch CCHC năm")["log_index"]
        where = {"cycle": CYCLE, "unit": UNIT, "leaf": "1.2.1"}
        world.env.send(
            command(world.appraiser, "request_explanation", **where, question="Thiếu báo cáo?"),
            world.appraiser,
        )
        observer = world.key("observer", f"authority:{AUTHORITY}")
        note = {"cycle": CYCLE, "unit": UNIT, "note_id": "gs-1", "change": adjusted}
        world.env.send(
            command(observer, "record_oversight_note", **note, text="Đề nghị làm rõ"), observer
        )
        code, out, err = watch(capsys, world, server.url)
        assert code == 0, err
        lines = [x for x in out.splitlines() if x.startswith("[vị trí nhật ký")]
        assert len(lines) == 3, out
        assert f"[vị trí nhật ký {adjusted}]" in lines[0]
        assert "thẩm định điều chỉnh 1.1.1: 1 điểm → 0 điểm" in lines[0]
        assert "Không có kế hoạch CCHC năm" in lines[0] and "Tổ giúp việc thẩm định" in lines[0]
        assert "yêu cầu giải trình 1.2.1" in lines[1] and "Thiếu báo cáo?" in lines[1]
        assert "ghi chú giám sát" in lines[2] and "Ủy ban MTTQ" in lines[2]
        assert all(x.endswith("đã xác minh chữ ký và bằng chứng") for x in lines)

        code, out, err = watch(capsys, world, server.url)  # nothing new
        assert code == 0 and "[vị trí nhật ký" not in out, err
    finally:
        server.stop()


def test_a_data_directory_restored_from_an_older_copy_is_reported(world, capsys):
    copy = backup(world)
    adjust(world, "1.1.1", "0", "Thiếu kế hoạch")
    server = Served(world.env.data_dir, workers=1)
    code, _out, err = watch(capsys, world, server.url)
    server.stop()
    assert code == 0, err
    state_file = world.env.data_dir.parent / "watch.json"
    seen = state_file.read_bytes()

    restore(world, copy)
    server = Served(world.env.data_dir, workers=1)
    try:
        code, _out, err = watch(capsys, world, server.url)
    finally:
        server.stop()
    assert code == 3 and "CẢNH BÁO [log_rolled_back]" in err, err
    assert state_file.read_bytes() == seen  # what was verified is kept, not replaced


def test_a_log_rewritten_from_an_older_copy_is_a_fork(world, capsys):
    copy = backup(world)
    adjust(world, "1.1.1", "0", "Thiếu kế hoạch")
    server = Served(world.env.data_dir, workers=1)
    code, _out, err = watch(capsys, world, server.url)
    server.stop()
    assert code == 0, err

    restore(world, copy)  # another history from the same copy, a little longer
    adjust(world, "1.1.1", "1", "Đủ kế hoạch")
    adjust(world, "1.1.2", "0", "Thiếu")
    server = Served(world.env.data_dir, workers=1)
    try:
        code, _out, err = watch(capsys, world, server.url)
    finally:
        server.stop()
    assert code == 3 and "CẢNH BÁO [log_forked]" in err, err


class Withholding:
    """A client whose server leaves one event of the unit out, or alters one."""

    def __init__(self, client: Client, drop: int | None = None, alter: int | None = None):
        self.client, self.drop, self.alter = client, drop, alter

    def __getattr__(self, name):
        return getattr(self.client, name)

    def unit_events(self, cycle, unit, after=0, limit=200):
        page = self.client.unit_events(cycle, unit, after=after, limit=limit)
        events = [e for e in page["events"] if e["version"] != self.drop]
        for e in events:
            if e["version"] == self.alter:
                body = json.loads(base64.b64decode(e["state"]))
                body["reason"] = "sửa lén"
                raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
                e["state"] = base64.b64encode(raw).decode()
        return {**page, "events": events}


@pytest.mark.parametrize(("how", "code"), [("drop", "event_hidden"), ("alter", "proof_invalid")])
def test_an_event_withheld_or_altered_by_the_server_is_reported(world, how, code):
    server = Served(world.env.data_dir, workers=1)
    try:
        key = world.key_file(world.officer, world.env.data_dir.parent / "officer.key")
        client = Client(server.url, str(key))
        state = State(CYCLE, UNIT, client.log_key())
        one_round(client, state, lambda c: None)
        version = state.version
        adjust(world, "1.1.1", "0", "Thiếu kế hoạch")
        adjust(world, "1.1.2", "0", "Thiếu")
        bad = Withholding(client, **{how: version + 1})
        with pytest.raises(Alert) as e:
            one_round(bad, state, lambda c: None)
        assert e.value.code == code
    finally:
        server.stop()


def test_an_unreadable_state_file_is_an_error_not_a_fresh_start(world, capsys):
    server = Served(world.env.data_dir, workers=1)
    try:
        state = world.env.data_dir.parent / "watch.json"
        state.write_text('{"format": "parindex-watch/v1", "size": ')
        code, _out, err = watch(capsys, world, server.url)
        assert code == 1 and "[watch_state_unreadable]" in err
        assert state.read_text() == '{"format": "parindex-watch/v1", "size": '
    finally:
        server.stop()
