"""docs/FORMATS.md, re-implemented from its text alone, checked against a live deployment.

Nothing here imports our leaf or Merkle code: hashlib, struct, base64, json and
cryptography recompute what the doc describes (leaf bytes, leaf hashes, roots, proofs,
checkpoint signatures, actor signatures, key ids), and every value must equal what the
service stored. The commands are signed here too, from the doc's section 3, so the doc's
signing rules are the ones the service accepts. If the code changes a byte format, this
fails until the doc says so.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import sqlite3
import stat
import struct
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from application.audit.bundle import export_bundle
from application.deployment import init_deployment, issue_checkpoint, open_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "FORMATS.md"

COMMAND_CONTEXT = b"parindex-command/v1\n"
ACTOR_KEY_CONTEXT = b"parindex-actor-key/v1\n"
LEAF_CONTEXT = b"parindex-event/v1\n"
EMPTY_ROOT = hashlib.sha256(b"").digest()
DEPLOYMENT_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/deployment")
KEY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://parindex/keys")
GENESIS_TOPIC = "domain.deployment:Deployment.Initialised"
KEY_TOPIC = "domain.keys:ActorKey."
LIBRARY_MEMBERS = {"timestamp", "originator_topic", "signed", "class_version"}
ORIGIN = "example.gov.vn/par-index"


# -- the doc, section by section, as an outsider would code it ------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Section 1: standard alphabet, padded, canonical."""
    raw = base64.b64decode(text, validate=True)
    assert b64(raw) == text, f"not canonical base64: {text!r}"
    return raw


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def actor_key_id(public_key: bytes) -> str:
    """Section 2.1."""
    digest = hashlib.sha256(ACTOR_KEY_CONTEXT + public_key).digest()
    return "pk_" + base64.b32encode(digest[:20]).decode("ascii").lower()


def note_key_hash(name: str, public_key: bytes) -> int:
    """Section 2.3."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + b"\x01" + public_key).digest()
    return struct.unpack(">I", digest[:4])[0]


def parse_vkey(vkey: str) -> tuple[str, int, bytes]:
    """Section 2.3: split at the first two '+' only; check the hash."""
    name, hash8, key64 = vkey.split("+", 2)
    raw = unb64(key64)
    assert len(raw) == 33 and raw[0] == 1
    assert int(hash8, 16) == note_key_hash(name, raw[1:])
    assert hash8 == hash8.lower() and len(hash8) == 8
    return name, int(hash8, 16), raw[1:]


def jcs(command: dict) -> bytes:
    """Section 3.3 for commands of strings, integers, booleans and null with BMP keys."""
    return json.dumps(command, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sign(command: dict, key: Ed25519PrivateKey) -> dict:
    """Sections 3.1 and 3.4."""
    return {"command": command, "signature": b64(key.sign(COMMAND_CONTEXT + jcs(command)))}


def leaf_bytes(originator_id: uuid.UUID, version: int, topic: str, state: bytes) -> bytes:
    """Section 5.1."""
    t = topic.encode("utf-8")
    return (
        LEAF_CONTEXT
        + originator_id.bytes
        + struct.pack(">Q", version)
        + struct.pack(">I", len(t))
        + t
        + struct.pack(">I", len(state))
        + state
    )


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes: list[bytes]) -> bytes:
    """Section 5.2, recursively, straight from the definition."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2, strict 32-byte hashes (section 5.5)."""
    if index >= size or any(len(p) != 32 for p in [leaf, root, *proof]):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, root1: bytes, root2: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2 plus the doc's size-0 rule (section 5.5)."""
    if any(len(h) != 32 for h in [root1, root2, *proof]) or m > n:
        return False
    if m == 0:
        return not proof and root1 == EMPTY_ROOT and (n > 0 or root2 == EMPTY_ROOT)
    if m == n:
        return not proof and root1 == root2
    if not proof:
        return False
    path = [root1, *proof] if m & (m - 1) == 0 else list(proof)
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


def ed25519_ok(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def open_checkpoint(note: str, vkey: str) -> tuple[str, int, bytes]:
    """Section 6.2 then 6.1: check the log key's signature line, return the body."""
    name, key_hash, public_key = parse_vkey(vkey)
    split = note.rfind("\n\n")
    body, sigs = note[: split + 1], note[split + 2 :]
    assert sigs.endswith("\n")
    good = 0
    for line in sigs[:-1].split("\n"):
        assert line.startswith("\u2014 ")
        line_name, sig64 = line[2:].split(" ")
        blob = unb64(sig64)
        if line_name == name and struct.unpack(">I", blob[:4])[0] == key_hash:
            assert len(blob) == 68
            assert ed25519_ok(public_key, body.encode("utf-8"), blob[4:])
            good += 1
    assert good == 1
    origin, size, root64, *extensions = body[:-1].split("\n")
    assert re.fullmatch(r"0|[1-9][0-9]*", size) and not extensions
    root = unb64(root64)
    assert len(root) == 32
    return origin, int(size), root


def frontier_root(blob: bytes) -> tuple[int, bytes]:
    """Section 9.2, parindex_log_state.frontier."""
    size = struct.unpack(">Q", blob[:8])[0]
    hashes = [blob[8 + 32 * i : 40 + 32 * i] for i in range(bin(size).count("1"))]
    assert len(blob) == 8 + 32 * len(hashes)
    if not hashes:
        return size, EMPTY_ROOT
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return size, h


def doc_examples() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    found = re.findall(r"<!-- example: ([\w-]+) -->\n```[a-z]*\n(.*?)```", text, re.S)
    return dict(found)


def doc_state_members() -> dict[str, list[str]]:
    """Section 4.3: the member tables that follow each **`topic`** heading."""
    text = DOC.read_text("utf-8")
    out = {}
    for topic, table in re.findall(
        r"\*\*`([\w.:]+)`\*\*[^\n]*\n(?:[^\n|]*\n)*?\n((?:\|[^\n]*\n)+)", text
    ):
        rows = [line for line in table.splitlines()[2:]]
        out[topic] = [re.match(r"\| `(\w+)`", row).group(1) for row in rows]
    return out


# -- a live deployment --------------------------------------------------------------


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    data = root / "data"
    init = init_deployment(data, origin=ORIGIN, admin_name="Quản trị viên")

    key_file = Path(init["admin_key_file"])
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data / "keys" / "log.key").st_mode) == 0o600
    doc = json.loads(key_file.read_text("utf-8"))
    admin = Ed25519PrivateKey.from_private_bytes(unb64(doc["private_key"]))
    assert doc["kind"] == "parindex-actor-key/v1"
    assert unb64(doc["public_key"]) == raw_public(admin)
    admin_id = actor_key_id(raw_public(admin))
    assert doc["key_id"] == admin_id == init["admin_key_id"]

    officer, officer2, admin2 = (Ed25519PrivateKey.generate() for _ in range(3))

    def register(cid: str, key: Ed25519PrivateKey, role: str, scope: str, name: str) -> dict:
        return sign(
            {
                "type": "register_key",
                "id": cid,
                "issued_at": now(),
                "actor": admin_id,
                "key_id": actor_key_id(raw_public(key)),
                "public_key": b64(raw_public(key)),
                "role": role,
                "scope": scope,
                "display_name": name,
            },
            admin,
        )

    envelopes = [
        register("reg-officer", officer, "commune_officer", "commune:tan-cuong", "Nguyễn Thị Hoa"),
        register("reg-admin-2", admin2, "admin", "*", "Trần Văn Bình"),
        sign(
            {
                "type": "rotate_key",
                "id": "rotate-officer",
                "issued_at": now(),
                "actor": admin_id,
                "old_key_id": actor_key_id(raw_public(officer)),
                "key_id": actor_key_id(raw_public(officer2)),
                "public_key": b64(raw_public(officer2)),
            },
            admin,
        ),
        sign(
            {
                "type": "revoke_key",
                "id": "revoke-admin-2",
                "issued_at": now(),
                "actor": actor_key_id(raw_public(admin2)),
                "key_id": actor_key_id(raw_public(admin2)),
                "reason": "Tự thu hồi",
            },
            admin2,
        ),
    ]
    app = open_app(data)
    try:
        receipts = [app.handle(env) for env in envelopes]
        replay = app.handle(envelopes[0])
        issue_checkpoint(app)
        bundle = root / "bundle.jsonl.gz"
        export_bundle(app.tlog, bundle, log_key=init["log_key"], origin=ORIGIN)
        proofs = {
            (i, n): app.tlog.inclusion_proof(i, n)
            for n in range(1, app.tlog.size() + 1)
            for i in range(n)
        }
    finally:
        app.close()

    db = sqlite3.connect(data / "events.sqlite")
    try:
        rows = db.execute(
            "SELECT l.leaf_index, l.originator_id, l.originator_version, l.leaf_hash, "
            "e.topic, e.state FROM parindex_log_leaves l JOIN stored_events e "
            "ON e.originator_id = l.originator_id AND e.originator_version = "
            "l.originator_version ORDER BY l.leaf_index"
        ).fetchall()
        stored_count = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        checkpoints = db.execute(
            "SELECT size, root, note FROM parindex_checkpoints ORDER BY size, id"
        ).fetchall()
        state = db.execute("SELECT size, frontier FROM parindex_log_state").fetchall()
        commands = dict((r[0], r[1:]) for r in db.execute("SELECT * FROM parindex_commands"))
    finally:
        db.close()
    return {
        "init": init,
        "admin_id": admin_id,
        "envelopes": envelopes,
        "receipts": receipts,
        "replay": replay,
        "bundle": bundle,
        "proofs": proofs,
        "stored_count": stored_count,
        "events": [
            (i, uuid.UUID(hex=oid), v, bytes(h), topic, bytes(st))
            for i, oid, v, h, topic, st in rows
        ],
        "checkpoints": [(s, bytes(r), note) for s, r, note in checkpoints],
        "state": state,
        "commands": commands,
    }


def _hashes(deployment) -> list[bytes]:
    return [
        leaf_hash(leaf_bytes(oid, v, topic, st))
        for _i, oid, v, _h, topic, st in deployment["events"]
    ]


# -- the tests ----------------------------------------------------------------------


def test_every_leaf_hash_is_recomputed_from_the_stored_event(deployment):
    events = deployment["events"]
    assert [e[0] for e in events] == list(range(len(events)))  # contiguous, from 0
    assert len(events) == deployment["stored_count"] == 7  # one leaf per stored event
    for (_i, _oid, _v, stored, _t, _s), recomputed in zip(events, _hashes(deployment), strict=True):
        assert recomputed == stored


def test_receipts_name_the_leaves_the_log_holds(deployment):
    by_index = {e[0]: e for e in deployment["events"]}
    for receipt in deployment["receipts"]:
        assert receipt["replayed"] is False
        assert receipt["log_index"] == receipt["events"][0]["leaf_index"]
        assert receipt["tree_size"] == receipt["events"][-1]["leaf_index"] + 1
        for ev in receipt["events"]:
            index, oid, version, stored, _t, _s = by_index[ev["leaf_index"]]
            assert (ev["originator_id"], ev["version"]) == (str(oid), version)
            assert ev["leaf_hash"] == stored.hex()
    first, replay = deployment["receipts"][0], deployment["replay"]
    assert replay == {**first, "replayed": True}


def test_idempotency_digest_is_the_documented_hash(deployment):
    for env in deployment["envelopes"]:
        command = env["command"]
        digest, first_leaf, count = deployment["commands"][command["id"]]
        expected = hashlib.sha256(jcs(command) + b"\n" + unb64(env["signature"])).hexdigest()
        assert digest == expected
    assert deployment["commands"]["rotate-officer"][2] == 2  # Rotated, then Registered


def test_tree_root_equals_the_latest_checkpoint_and_the_stored_frontier(deployment):
    hashes = _hashes(deployment)
    size, root, note = deployment["checkpoints"][-1]
    assert size == len(hashes)
    assert root == mth(hashes)
    origin, note_size, note_root = open_checkpoint(note, deployment["init"]["log_key"])
    assert (origin, note_size, note_root) == (ORIGIN, size, mth(hashes))
    [(state_size, frontier)] = deployment["state"]
    assert (state_size, mth(hashes)) == frontier_root(bytes(frontier))


def test_every_checkpoint_is_signed_by_the_genesis_log_key_over_its_body(deployment):
    genesis = json.loads(deployment["events"][0][5])
    assert genesis["log_key"] == deployment["init"]["log_key"]
    name, _key_hash, _pub = parse_vkey(genesis["log_key"])
    assert name == genesis["origin"] == ORIGIN
    hashes = _hashes(deployment)
    assert [c[0] for c in deployment["checkpoints"]] == [2, len(hashes)]
    for size, root, note in deployment["checkpoints"]:
        assert open_checkpoint(note, genesis["log_key"]) == (ORIGIN, size, mth(hashes[:size]))
        assert root == mth(hashes[:size])


def test_inclusion_proofs_of_the_log_verify_by_rfc_9162(deployment):
    hashes = _hashes(deployment)
    for (index, size), proof in deployment["proofs"].items():
        assert verify_inclusion(hashes[index], index, size, proof, mth(hashes[:size]))


def test_every_event_carries_the_actor_signature_over_the_exact_command(deployment):
    registry: dict[str, list] = {}  # key id -> [public key, role, registered, revoked]
    genesis_admin = None
    for index, _oid, _v, _h, topic, state in deployment["events"]:
        body = json.loads(state)
        signed = body["signed"]
        text, key_id = signed["command"], signed["key_id"]
        command = json.loads(text)
        assert command["actor"] == key_id
        assert jcs(command) == text.encode("utf-8")  # stored command text is canonical
        if topic == GENESIS_TOPIC:
            genesis_admin = body["admin_key_id"]
        info = registry.get(key_id)
        if command["type"] == "init_deployment" and (info is None or info[2] > index):
            info = [unb64(command["public_key"]), "admin", index, None]
        assert info is not None and info[2] <= index, f"leaf {index}: unknown key"
        assert info[3] is None or info[3] >= index, f"leaf {index}: revoked key"
        assert ed25519_ok(
            info[0], COMMAND_CONTEXT + text.encode("utf-8"), unb64(signed["signature"])
        )
        for name, value in body.items():
            if name not in LIBRARY_MEMBERS and name in command:
                assert command[name] == value, f"leaf {index}: {name}"
        if topic.startswith(KEY_TOPIC):  # section 4.7
            signer = registry.get(key_id)
            by_admin = (
                signer is not None
                and signer[1] == "admin"
                and (signer[3] is None or signer[3] >= index)
            )
            if not (by_admin or (command["type"] == "init_deployment" and key_id == genesis_admin)):
                continue
            kind = topic[len(KEY_TOPIC) :]
            if kind == "Registered":
                assert body["key_id"] == actor_key_id(unb64(body["public_key"]))
                registry.setdefault(
                    body["key_id"], [unb64(body["public_key"]), body["role"], index, None]
                )
            else:
                named = command["key_id"] if kind == "Revoked" else command["old_key_id"]
                if registry[named][3] is None:
                    registry[named][3] = index
    assert sorted(r[1] for r in registry.values()) == [
        "admin",
        "admin",
        "commune_officer",
        "commune_officer",
    ]
    revoked = sorted(r[3] for r in registry.values() if r[3] is not None)
    assert revoked == [4, 6]  # the rotated officer key, the self-revoked admin


def test_genesis_is_leaf_0_initialised_and_leaf_1_the_self_signed_admin(deployment):
    (i0, oid0, v0, _, topic0, state0), (i1, oid1, v1, _, topic1, state1) = deployment["events"][:2]
    g, a = json.loads(state0), json.loads(state1)
    assert (topic0, oid0, v0) == (GENESIS_TOPIC, DEPLOYMENT_ID, 1)
    assert (topic1, v1) == ("domain.keys:ActorKey.Registered", 1)
    assert oid1 == uuid.uuid5(KEY_NAMESPACE, g["admin_key_id"])
    assert g["signed"] == a["signed"]
    command = json.loads(g["signed"]["command"])
    assert command["type"] == "init_deployment"
    assert command["actor"] == g["admin_key_id"] == a["key_id"] == deployment["admin_id"]
    assert command["actor"] == actor_key_id(unb64(command["public_key"]))
    assert (a["role"], a["scope"], a["public_key"]) == ("admin", "*", command["public_key"])
    assert command["log_key"] == g["log_key"] and command["origin"] == g["origin"]


def test_state_bytes_are_compact_json_with_the_documented_members_in_order(deployment):
    documented = doc_state_members()
    seen = set()
    for _i, oid, _v, _h, topic, state in deployment["events"]:
        body = json.loads(state)
        assert json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() == state
        assert list(body) == documented[topic], topic
        assert body["timestamp"]["_type_"] == "datetime_iso"
        if topic.startswith(KEY_TOPIC) and "key_id" in body:
            assert oid == uuid.uuid5(KEY_NAMESPACE, body["key_id"])
        seen.add(topic)
    assert seen == {GENESIS_TOPIC, *(KEY_TOPIC + k for k in ("Registered", "Revoked", "Rotated"))}


def test_the_audit_bundle_holds_the_documented_lines(deployment):
    with gzip.open(deployment["bundle"], "rb") as f:
        lines = f.read().decode("utf-8").splitlines()
    objs = [json.loads(line) for line in lines]
    assert all(list(o)[0] == "kind" for o in objs)
    assert all(line.startswith('{"kind":"') for line in lines)
    kinds = [o["kind"] for o in objs]
    assert kinds == ["header", *["event"] * 7, "checkpoint", "checkpoint", "consistency", "end"]
    header, end = objs[0], objs[-1]
    hashes = _hashes(deployment)
    assert header["format"] == "parindex-audit-bundle/v1"
    assert (header["origin"], header["log_key"]) == (ORIGIN, deployment["init"]["log_key"])
    assert (header["size"], header["root"]) == (len(hashes), mth(hashes).hex())
    for obj, (index, oid, version, stored, topic, state) in zip(
        objs[1:8], deployment["events"], strict=True
    ):
        assert obj == {
            "kind": "event",
            "leaf_index": index,
            "leaf_hash": stored.hex(),
            "originator_id": str(oid),
            "version": version,
            "topic": topic,
            "state": b64(state),
        }
        assert (
            leaf_hash(
                leaf_bytes(
                    uuid.UUID(obj["originator_id"]),
                    obj["version"],
                    obj["topic"],
                    unb64(obj["state"]),
                )
            ).hex()
            == obj["leaf_hash"]
        )
    cps = [o for o in objs if o["kind"] == "checkpoint"]
    assert [c["note"] for c in cps] == [c[2] for c in deployment["checkpoints"]]
    [cons] = [o for o in objs if o["kind"] == "consistency"]
    m, n = cons["size1"], cons["size2"]
    proof = [bytes.fromhex(h) for h in cons["proof"]]
    assert verify_consistency(m, n, mth(hashes[:m]), mth(hashes[:n]), proof)
    assert end == {
        "kind": "end",
        "events": 7,
        "checkpoints": 2,
        "consistency_proofs": 1,
        "evidence": 0,
    }


def test_the_size_zero_consistency_rule():
    root = hashlib.sha256(b"x").digest()
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [root])


def test_the_worked_examples_in_the_doc_are_consistent():
    ex = doc_examples()
    # 2.1: the key id of the example public key.
    public = bytes.fromhex(ex["actor-public-key-hex"].strip())
    assert actor_key_id(public) == ex["actor-key-id"].strip()
    # 3.4 / 3.5: signing input = context || JCS, signed by that key.
    signing_input = bytes.fromhex("".join(ex["signing-input-hex"].split()))
    assert signing_input == COMMAND_CONTEXT + ex["command-jcs"].strip().encode("utf-8")
    command = json.loads(ex["command-jcs"])
    assert jcs(command) == ex["command-jcs"].strip().encode("utf-8")
    assert command["actor"] == ex["actor-key-id"].strip()
    assert ed25519_ok(public, signing_input, unb64(ex["command-signature"].strip()))
    # 4.3 / 4.4: the example state carries that exact command and signature.
    state = json.loads(ex["state-bytes"])
    assert state["signed"] == {
        "command": ex["command-jcs"].strip(),
        "signature": ex["command-signature"].strip(),
        "key_id": command["actor"],
    }
    # 5.4: the leaf bytes parse by the layout and hash to the leaf hash.
    leaf = bytes.fromhex("".join(ex["leaf-hex"].split()))
    assert leaf[:18] == LEAF_CONTEXT
    oid, version = uuid.UUID(bytes=leaf[18:34]), struct.unpack(">Q", leaf[34:42])[0]
    (tlen,) = struct.unpack(">I", leaf[42:46])
    topic = leaf[46 : 46 + tlen].decode("utf-8")
    (slen,) = struct.unpack(">I", leaf[46 + tlen : 50 + tlen])
    body = leaf[50 + tlen :]
    assert len(body) == slen
    assert leaf_bytes(oid, version, topic, body) == leaf
    assert leaf_hash(leaf).hex() == ex["leaf-hash"].strip()
    revoked = json.loads(body)
    assert ed25519_ok(
        public,
        COMMAND_CONTEXT + revoked["signed"]["command"].encode("utf-8"),
        unb64(revoked["signed"]["signature"]),
    )
    # 5.5: four leaves, their root, an inclusion and a consistency proof.
    hashes = [bytes.fromhex(h) for h in ex["leaf-hashes"].split()]
    assert hashes[3].hex() == ex["leaf-hash"].strip()
    root = bytes.fromhex(ex["root-4"].strip())
    assert mth(hashes) == root
    incl = [bytes.fromhex(h) for h in ex["inclusion-3-4"].split()]
    assert verify_inclusion(hashes[3], 3, 4, incl, root)
    cons = [bytes.fromhex(h) for h in ex["consistency-2-4"].split()]
    assert verify_consistency(2, 4, mth(hashes[:2]), root, cons)
    # 2.3 / 6.4: the checkpoint verifies with the example vkey and names that root.
    vkey = ex["log-vkey"].strip()
    origin, size, cp_root = open_checkpoint(ex["checkpoint-note"], vkey)
    assert (origin, size, cp_root) == (vkey.split("+")[0], 4, root)
    # 7: the bundle lines agree with all of the above.
    lines = [json.loads(line) for line in ex["bundle-lines"].strip().splitlines()]
    header, event = lines[0], lines[1]
    assert (header["size"], header["root"], header["log_key"]) == (4, root.hex(), vkey)
    assert unb64(event["state"]) == body and event["leaf_hash"] == leaf_hash(leaf).hex()


def doc_permissions() -> dict[str, set[str]]:
    """Section 3.6.1: the table after the `permissions` marker."""
    text = DOC.read_text("utf-8")
    table = text.split("<!-- permissions -->\n", 1)[1].split("\n\n", 1)[0]
    rows = table.splitlines()[2:]
    out = {}
    for row in rows:
        command_type, roles = (cell.strip() for cell in row.strip("|").split("|"))
        out[command_type.strip("`")] = {r.strip().strip("`") for r in roles.split(",")}
    return out


def test_the_documented_permission_table_is_the_one_the_code_enforces():
    from domain.actors import PERMISSIONS

    assert doc_permissions() == {t: {r.value for r in roles} for t, roles in PERMISSIONS.items()}


def test_each_command_occupies_one_run_of_leaves_and_every_run_starts_signed(deployment):
    """Section 4.4: runs by (id, digest); each id in one run; the first event signed."""
    runs: list[tuple[tuple[str, str], list[int]]] = []
    for index, _oid, _v, _h, _topic, state in deployment["events"]:
        body = json.loads(state)
        signed = body["signed"]  # no Assessment.Opened in this log: every event is signed
        command = json.loads(signed["command"])
        digest = hashlib.sha256(
            signed["command"].encode("utf-8") + b"\n" + unb64(signed["signature"])
        ).hexdigest()
        ident = (command["id"], digest)
        if runs and runs[-1][0] == ident and runs[-1][1][-1] == index - 1:
            runs[-1][1].append(index)
        else:
            runs.append((ident, [index]))
    ids = [ident[0] for ident, _ in runs]
    assert len(ids) == len(set(ids))  # a command id in one run only
    for (command_id, digest), leaves in runs:
        assert deployment["commands"][command_id] == (digest, leaves[0], len(leaves))
    rotated = dict(runs)[("rotate-officer", deployment["commands"]["rotate-officer"][0])]
    rotated_state, successor = (json.loads(deployment["events"][i][5]) for i in rotated)
    officer = json.loads(deployment["events"][2][5])  # registered by reg-officer
    # 3.6 rotate_key: the successor has the old key's role and scope by replay.
    assert (successor["role"], successor["scope"]) == (officer["role"], officer["scope"])
    assert rotated_state["successor_key_id"] == successor["key_id"]
    assert successor["rotated_from"] == officer["key_id"]
