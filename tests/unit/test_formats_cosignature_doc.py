"""docs/FORMATS.md 6.5, coded from its text alone: the worked cosignature example holds.

Only hashlib, base64 and cryptography: the key hash, the signed message and
the signature are rebuilt as the doc describes them and must match its example.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DOC = Path(__file__).resolve().parents[2] / "docs" / "FORMATS.md"


def _examples() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    return dict(re.findall(r"<!-- example: ([\w-]+) -->\n```[a-z]*\n(.*?)```", text, re.S))


def test_the_cosigned_checkpoint_example_verifies_by_the_doc_alone():
    ex = _examples()
    vkey = ex["witness-vkey"].strip()
    name, hash8, key64 = vkey.split("+", 2)
    raw = base64.b64decode(key64, validate=True)
    assert raw[0] == 0x04 and len(raw) == 33
    public = raw[1:]
    assert hashlib.sha256(name.encode() + b"\n\x04" + public).hexdigest()[:8] == hash8
    # The example's key is derived from the seed the doc names.
    seed = hashlib.sha256(b"parindex witness example").digest()
    derived = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    assert (
        derived.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == public
    )

    note = ex["cosigned-checkpoint-note"]
    split = note.rindex("\n\n")
    body, lines = note[: split + 1], note[split + 2 :].splitlines()
    assert ex["checkpoint-note"].startswith(body)  # the checkpoint of 6.4
    line = next(x for x in lines if x.startswith("\u2014 " + name + " "))
    blob = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
    assert len(blob) == 76 and blob[:4].hex() == hash8
    timestamp = int.from_bytes(blob[4:12], "big")
    assert timestamp == 1764000000
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode("utf-8")
    Ed25519PublicKey.from_public_bytes(public).verify(blob[12:], message)  # raises if bad
