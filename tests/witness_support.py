"""A small log for witness tests: leaves, signed checkpoints, consistency proofs, forks;
and `Older`, a deployment's store put back to an older state on either backend."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.config import Settings
from application.signing.keys import b64
from application.transparency import merkle
from application.transparency.cosignature_store import CosignatureStore
from application.transparency.note import Checkpoint, Signer, sign_note
from tests.support import Env, sql, truncate_log

ORIGIN = "parindex.test/witnessed-log"


def fixed_key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


class TestLog:
    """An RFC 6962 log in memory, signed by one log key (the same key for every fork)."""

    __test__ = False  # not a pytest class

    def __init__(self, origin: str = ORIGIN, key: Ed25519PrivateKey | None = None) -> None:
        self.signer = Signer(origin, key or fixed_key("log:" + origin))
        self.origin = origin
        self.nodes = merkle.MemoryNodes()
        self.leaves: list[bytes] = []
        self.tag = ""  # leaves of a fork get another tag, so they differ

    @property
    def vkey(self) -> str:
        return self.signer.verifier().vkey

    def grow(self, n: int, tag: str = "") -> TestLog:
        for _ in range(n):
            data = f"{tag or self.tag}leaf {len(self.leaves)}".encode()
            self.leaves.append(data)
            self.nodes.append(merkle.leaf_hash(data))
        return self

    def fork(self, keep: int, tag: str = "fork ") -> TestLog:
        """Another log under the same key: the first ``keep`` leaves, then different ones."""
        other = TestLog(self.origin, None)
        other.signer, other.tag = self.signer, tag
        for data in self.leaves[:keep]:
            other.leaves.append(data)
            other.nodes.append(merkle.leaf_hash(data))
        return other

    @property
    def size(self) -> int:
        return self.nodes.size

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return merkle.root_at(size, self.nodes.get) if size else merkle.EMPTY_ROOT

    def checkpoint(self, size: int | None = None) -> str:
        size = self.size if size is None else size
        return sign_note(Checkpoint(self.origin, size, self.root(size)).format(), [self.signer])

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        if old in (0, new):
            return []
        return merkle.consistency_proof(old, new, self.nodes.get)

    def request(self, old: int, size: int | None = None, proof: list[bytes] | None = None) -> bytes:
        """An add-checkpoint body from ``old`` to ``size`` (the current size by default)."""
        size = self.size if size is None else size
        proof = self.proof(old, size) if proof is None else proof
        head = f"old {old}\n" + "".join(b64(h) + "\n" for h in proof)
        return (head + "\n" + self.checkpoint(size)).encode("utf-8")


class Older:
    """What an operator restores: a copy of the SQLite file, or (PostgreSQL) the tail cut
    back to a size, the checkpoints, cosignatures and command ids above it deleted too."""

    def __init__(self, env: Env):
        self.env = env
        self.size = env.app.tlog.size()
        if env.database_url is None:
            self.copy = env.data_dir.parent / "events.older.sqlite"
            src = sqlite3.connect(Settings.load(env.data_dir).sqlite_path)
            dst = sqlite3.connect(self.copy)
            src.backup(dst)
            dst.close()
            src.close()

    def restore(self) -> None:
        env = self.env
        if env.database_url is None:
            env.app.close()
            shutil.copy(self.copy, Settings.load(env.data_dir).sqlite_path)
            env.reopen()
            return
        truncate_log(env.app, self.size)
        table = CosignatureStore(env.app.tlog).table
        sql(env.app, f"DELETE FROM {table} WHERE size > ?", (self.size,))
        t = env.app.tlog.t
        sql(env.app, f"DELETE FROM {t.checkpoints} WHERE size > ?", (self.size,))
        sql(env.app, f"DELETE FROM {t.commands} WHERE first_leaf >= ?", (self.size,))
        env.reopen()
