"""A witness's directory: its key, its settings, its state.

::

    W/witness.key    PRIVATE+KEY+<name>+<hash8>+base64(0x04 || seed), one line, mode 0600
    W/witness.json   {"format": "parindex-witness/v1", "name", "vkey", "logs": [vkey...]}
    W/state.json     the last cosigned checkpoint per log (witness_state.py)

``init`` writes all three and refuses a directory that already holds a
witness. ``open_witness`` refuses to start when any of them is missing or
does not match the others: a witness started empty beside a lost state file
would cosign a rolled-back log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from application.signing.keys import generate, write_key_file
from application.transparency.cosignature import Cosigner, parse_cosigner_key
from application.transparency.note import NoteError, Verifier, parse_verifier_key
from application.transparency.witness import Witness
from application.transparency.witness_state import StateError, WitnessState
from domain.errors import DomainError

__all__ = ["KEY_FILE", "SETTINGS_FILE", "STATE_FILE", "init_witness", "open_witness"]

KEY_FILE, SETTINGS_FILE, STATE_FILE = "witness.key", "witness.json", "state.json"
SETTINGS_FORMAT = "parindex-witness/v1"


def init_witness(data_dir: str | os.PathLike[str], name: str, logs: Iterable[str] = ()) -> str:
    """Create a witness in ``data_dir`` (key 0600, settings, empty state); return its vkey."""
    home = Path(data_dir)
    if (home / SETTINGS_FILE).exists() or (home / KEY_FILE).exists():
        raise DomainError(
            "witness_exists",
            f"Thư mục {home} đã có nhân chứng",
            f"{home} already holds a witness",
            status=409,
        )
    log_keys = [_log_key(v).vkey for v in logs]
    try:
        cosigner = Cosigner(name, generate())
    except NoteError as exc:
        raise DomainError(
            "bad_witness_name",
            "Tên nhân chứng không hợp lệ (không có khoảng trắng, không có '+')",
            f"invalid witness name: {exc}",
            status=400,
        ) from exc
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    write_key_file(home / KEY_FILE, (cosigner.skey + "\n").encode("ascii"))
    settings = {
        "format": SETTINGS_FORMAT,
        "name": name,
        "vkey": cosigner.verifier().vkey,
        "logs": log_keys,
    }
    (home / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=1) + "\n")
    WitnessState(home / STATE_FILE, cosigner.verifier()).create()
    return cosigner.verifier().vkey


def open_witness(data_dir: str | os.PathLike[str], extra_logs: Iterable[str] = ()) -> Witness:
    """Load a witness and check its state; ``DomainError`` ``witness_state`` if not sound."""
    home = Path(data_dir)
    try:
        settings = json.loads((home / SETTINGS_FILE).read_text("utf-8"))
        skey = (home / KEY_FILE).read_text("ascii").strip("\n")
    except FileNotFoundError as exc:
        raise DomainError(
            "no_witness",
            f"Thư mục {home} chưa có nhân chứng (chạy 'parindex witness init')",
            f"{home} holds no witness (run 'parindex witness init')",
            status=400,
        ) from exc
    except (ValueError, OSError) as exc:
        raise _unsound(f"settings or key unreadable: {type(exc).__name__}") from exc
    if (home / KEY_FILE).stat().st_mode & 0o077:
        raise DomainError(
            "witness_key_mode",
            f"Khóa bí mật {home / KEY_FILE} đọc được bởi người khác: chmod 600 rồi chạy lại",
            f"the private key {home / KEY_FILE} is readable by others: chmod 600 it",
            status=500,
        )
    try:
        cosigner = parse_cosigner_key(skey)
    except NoteError:
        raise _unsound("the key file is not a cosignature/v1 signer key") from None
    if not isinstance(settings, dict) or settings.get("vkey") != cosigner.verifier().vkey:
        raise _unsound("witness.json does not match witness.key")
    logs: dict[str, list[Verifier]] = {}
    for vkey in [*settings.get("logs", []), *extra_logs]:
        verifier = _log_key(vkey)
        same = logs.setdefault(verifier.name, [])
        if all(v.public_key != verifier.public_key for v in same):
            same.append(verifier)
    state = WitnessState(home / STATE_FILE, cosigner.verifier())
    try:
        state.load()
    except StateError as exc:
        raise _unsound(str(exc)) from None
    return Witness(cosigner, logs, state)


def _log_key(vkey: str) -> Verifier:
    try:
        return parse_verifier_key(vkey)
    except NoteError as exc:
        raise DomainError(
            "bad_log_key",
            "Khóa nhật ký không hợp lệ (dạng tên+hash+khóa, loại Ed25519 0x01)",
            f"invalid log key: {exc}",
            status=400,
        ) from exc


def _unsound(detail: str) -> DomainError:
    return DomainError(
        "witness_state",
        f"Trạng thái nhân chứng hỏng hoặc thiếu, không khởi động: {detail}",
        f"witness state is missing or corrupted, not starting: {detail}",
        status=500,
    )
