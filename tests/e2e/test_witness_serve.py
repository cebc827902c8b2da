"""A real `parindex witness serve` (gunicorn) on 127.0.0.1, asked by `parindex witness ask`
over HTTP, then restarted on the same directory, then refused a damaged state."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from application.transparency.cosignature import open_cosigned
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.witness_home import init_witness
from interfaces.cli.main import main as cli
from tests.e2e.http_support import free_port
from tests.support import Env

ROOT = Path(__file__).resolve().parents[2]


class WitnessServed:
    def __init__(self, home: Path, log_vkey: str, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home.parent / f"witness-{self.port}.log"
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interfaces.cli.main", "witness", "serve", "--data-dir",
             str(home), "--log", log_vkey, "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=self._log, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/add-checkpoint", timeout=2)
            except urllib.error.HTTPError:
                return  # it answers (405 to a GET): it is up
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text("utf-8", "replace")[-2000:]
                raise RuntimeError(f"witness did not start: {tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def test_a_deployment_asks_a_real_witness_over_http_across_a_restart(tmp_path, backend, capsys):
    from tests.support import make_env

    env: Env = make_env(tmp_path, backend)
    home = tmp_path / "witness"
    wkey = init_witness(home, "mttq.example.vn/witness")
    d = str(env.data_dir)
    server = WitnessServed(home, env.log_key)
    try:
        assert cli(["witness", "use", "--data-dir", d, "--url", server.url, "--vkey", wkey]) == 0
        env.register()
        env.app.close()
        assert cli(["witness", "ask", "--data-dir", d]) == 0, capsys.readouterr()
        server.stop()
        server = WitnessServed(home, env.log_key, server.port)  # restarted: same state
        env.reopen()
        env.register()
        env.app.close()
        assert cli(["witness", "ask", "--data-dir", d]) == 0, capsys.readouterr()
        env.reopen()
        latest = env.app.tlog.latest_checkpoint()
        note = CosignatureStore(env.app.tlog).cosigned_note(latest)
        assert open_cosigned(note, [env.log_key], [wkey]).cosignatures
    finally:
        server.stop()
        env.app.close()
    # A truncated state file: the witness refuses to start.
    state = home / "state.json"
    state.write_bytes(state.read_bytes()[:30])
    proc = subprocess.run(
        [sys.executable, "-m", "interfaces.cli.main", "witness", "serve", "--data-dir",
         str(home), "--listen", f"127.0.0.1:{free_port()}"],
        cwd=ROOT, capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert b"witness_state" in proc.stderr
