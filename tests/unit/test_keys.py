"""Keys for people and for the log: ids, encodings, and the 0600 key file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from application.signing import keys

# RFC 8032 section 7.1, TEST 1: a fixed key so ids can be pinned.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def _fixed_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_public_raw_of_rfc8032_seed_is_the_published_public_key():
    assert keys.public_raw(_fixed_key()) == RFC8032_PUBLIC
    assert keys.private_raw(_fixed_key()) == RFC8032_SEED


def test_actor_key_id_is_pinned_for_a_fixed_key():
    # A literal on purpose: changing the derivation would orphan every registered key.
    key_id = keys.actor_key_id(RFC8032_PUBLIC)
    assert key_id == "pk_opbuceqat67e53s2cw4loibcia4ckwbb"
    digest = hashlib.sha256(b"parindex-actor-key/v1\n" + RFC8032_PUBLIC).digest()[:20]
    assert key_id == "pk_" + base64.b32encode(digest).decode().lower()


def test_actor_key_id_is_stable_and_distinct_per_key():
    one, two = keys.generate(), keys.generate()
    assert keys.actor_key_id(keys.public_raw(one)) == keys.actor_key_id(keys.public_raw(one))
    assert keys.actor_key_id(keys.public_raw(one)) != keys.actor_key_id(keys.public_raw(two))


def test_actor_key_id_refuses_wrong_length():
    with pytest.raises(ValueError):
        keys.actor_key_id(b"\x00" * 31)


def test_note_key_hash_matches_go_test_key():
    # PeterNeumann+c74f20a3 from golang.org/x/mod sumdb/note tests.
    public = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    assert keys.note_key_hash("PeterNeumann", public) == 0xC74F20A3


def test_pem_round_trip_plain_and_encrypted():
    key = keys.generate()
    for password in (None, b"correct horse"):
        pem = keys.private_to_pem(key, password)
        assert pem.startswith(b"-----BEGIN ")
        loaded = keys.load_private_pem(pem, password)
        assert keys.public_raw(loaded) == keys.public_raw(key)


@given(st.binary(max_size=64))
def test_b64_round_trips(data):
    assert keys.unb64(keys.b64(data)) == data


@pytest.mark.parametrize("text", ["AQ", "AQ=", "AR==", "A Q==", "AQ==\n", "AQ==AQ==x", "*Q=="])
def test_unb64_refuses_non_canonical_base64(text):
    with pytest.raises(ValueError):
        keys.unb64(text)


def test_write_key_file_creates_0600_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "secret"
    old_umask = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        keys.write_key_file(path, b"one")
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b"one" and _mode(path) == 0o600
    with pytest.raises(FileExistsError):
        keys.write_key_file(path, b"two")
    assert path.read_bytes() == b"one"


def test_write_key_file_overwrite_replaces_atomically_with_0600(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"old")
    path.chmod(0o644)
    keys.write_key_file(path, b"new", overwrite=True)
    assert path.read_bytes() == b"new" and _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temp file left


def test_actor_key_file_round_trip(tmp_path):
    path = tmp_path / "me.key.json"
    key = keys.generate()
    key_id = keys.save_actor_key_file(path, key, display_name="Nguyễn Văn A")
    assert _mode(path) == 0o600
    doc = json.loads(path.read_text("utf-8"))
    assert doc["kind"] == "parindex-actor-key/v1"
    assert doc["key_id"] == key_id == keys.actor_key_id(keys.public_raw(key))
    assert keys.unb64(doc["private_key"]) == keys.private_raw(key)
    loaded_id, loaded, loaded_doc = keys.load_actor_key_file(path)
    assert loaded_id == key_id
    assert keys.private_raw(loaded) == keys.private_raw(key)
    assert loaded_doc["display_name"] == "Nguyễn Văn A"


def test_actor_key_file_without_display_name_omits_it(tmp_path):
    path = tmp_path / "k.json"
    keys.save_actor_key_file(path, keys.generate())
    assert "display_name" not in json.loads(path.read_text("utf-8"))


def test_actor_key_file_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "k.json"
    keys.save_actor_key_file(path, keys.generate())
    with pytest.raises(FileExistsError):
        keys.save_actor_key_file(path, keys.generate())
    second = keys.generate()
    keys.save_actor_key_file(path, second, overwrite=True)
    assert keys.private_raw(keys.load_actor_key_file(path)[1]) == keys.private_raw(second)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_loading_a_key_file_open_to_group_or_others_is_refused(tmp_path, mode):
    path = tmp_path / "k.json"
    keys.save_actor_key_file(path, keys.generate())
    path.chmod(mode)
    with pytest.raises(PermissionError, match="chmod 600"):
        keys.load_actor_key_file(path)


def test_loading_a_0400_key_file_is_allowed(tmp_path):
    path = tmp_path / "k.json"
    key_id = keys.save_actor_key_file(path, keys.generate())
    path.chmod(0o400)
    assert keys.load_actor_key_file(path)[0] == key_id


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(kind="something-else"),
        lambda d: d.update(key_id="pk_" + "a" * 32),
        lambda d: d.update(public_key=keys.b64(keys.public_raw(keys.generate()))),
        lambda d: d.update(private_key=keys.b64(b"\x00" * 31)),
        lambda d: d.pop("private_key"),
    ],
    ids=["kind", "key_id", "public_key", "short-seed", "no-private-key"],
)
def test_inconsistent_key_file_is_refused(tmp_path, edit):
    path = tmp_path / "k.json"
    keys.save_actor_key_file(path, keys.generate())
    doc = json.loads(path.read_text("utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(ValueError):
        keys.load_actor_key_file(path)
