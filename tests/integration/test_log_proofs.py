"""Inclusion and consistency proofs, served from the store, against signed checkpoints."""

from __future__ import annotations

import itertools

import pytest

from application.deployment import open_app
from application.transparency import merkle
from application.transparency.leaf import event_leaf_hash
from tests.support import Env, checkpoint_root, command, event_row, sql

EVENTS = 40


@pytest.fixture
def grown(env: Env) -> Env:
    """About 40 events, with a checkpoint issued every few commands."""
    keys = []
    while env.app.tlog.size() < EVENTS:
        size = env.app.tlog.size()
        if size in (5, 8, 16, 17, 23, 31, 32, 33):
            env.checkpoint()
        if size % 9 == 4 and keys:
            victim = keys.pop()
            env.send(command(env.admin, "revoke_key", key_id=victim.key_id, reason="r"))
        else:
            keys.append(env.register(role="admin" if size % 5 == 0 else "observer")[0])
    env.checkpoint()
    env.reopen()  # proofs below come from a fresh app: nothing but the store
    return env


def _signed_heads(env: Env) -> list[tuple[int, bytes]]:
    heads = [checkpoint_root(cp.note, env.log_key) for cp in env.app.tlog.checkpoints()]
    assert len(heads) >= 9 and heads[0][0] == 2 and heads[-1][0] == env.app.tlog.size()
    return heads


def test_every_leaf_has_an_inclusion_proof_to_every_signed_checkpoint(grown: Env):
    app = grown.app
    for size, root in _signed_heads(grown):
        for leaf in app.tlog.leaves_range(0, size):
            proof = app.tlog.inclusion_proof(leaf.leaf_index, size)
            assert len(proof) <= size.bit_length()
            merkle.verify_inclusion(leaf.leaf_hash, leaf.leaf_index, size, proof, root)


def test_every_leaf_hash_is_the_hash_of_its_stored_event(grown: Env):
    app = grown.app
    for leaf in app.tlog.leaves_range(0, app.tlog.size()):
        oid, version, topic, state = event_row(app, leaf.leaf_index)
        assert event_leaf_hash(oid, version, topic, state) == leaf.leaf_hash


def test_every_pair_of_checkpoints_has_a_consistency_proof(grown: Env):
    heads = _signed_heads(grown)
    for (m, root1), (n, root2) in itertools.combinations(heads, 2):
        proof = grown.app.tlog.consistency_proof(m, n)
        merkle.verify_consistency(m, n, root1, root2, proof)


def test_checkpoint_roots_equal_the_root_recomputed_from_the_events(grown: Env):
    app = grown.app
    hashes = []
    for leaf in app.tlog.leaves_range(0, app.tlog.size()):
        oid, version, topic, state = event_row(app, leaf.leaf_index)
        hashes.append(event_leaf_hash(oid, version, topic, state))
    for size, root in _signed_heads(grown):
        assert merkle.root_from_leaf_hashes(hashes[:size]) == root
        assert app.tlog.root(size) == root


def test_a_proof_does_not_verify_for_another_leaf_or_another_root(grown: Env):
    app = grown.app
    heads = _signed_heads(grown)
    (_, root_small), (size, root) = heads[0], heads[-1]
    proof = app.tlog.inclusion_proof(7, size)
    other = app.tlog.leaf(8).leaf_hash
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(other, 7, size, proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(app.tlog.leaf(7).leaf_hash, 7, size, proof, root_small)


def test_proofs_are_read_from_the_store(grown: Env):
    # Corrupt one stored interior node: a proof that needs it no longer verifies,
    # which it would if proofs came from a tree held in memory.
    app = grown.app
    size, root = _signed_heads(grown)[-1]
    assert size == EVENTS
    t = app.tlog.t
    # Node (level 3, index 0) covers leaves 0..7; it is the sibling on the path
    # of leaf 10, and lies below the path of leaf 3.
    sql(app, f"UPDATE {t.nodes} SET hash = ? WHERE level = 3 AND idx = 0", (b"\x11" * 32,))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            app.tlog.leaf(10).leaf_hash, 10, size, app.tlog.inclusion_proof(10, size), root
        )
    merkle.verify_inclusion(
        app.tlog.leaf(3).leaf_hash, 3, size, app.tlog.inclusion_proof(3, size), root
    )
    sql(app, f"DELETE FROM {t.nodes} WHERE level = 3 AND idx = 0")
    with pytest.raises(LookupError):
        app.tlog.inclusion_proof(10, size)


def test_a_second_app_server_serves_the_same_proofs(grown: Env):
    size, root = _signed_heads(grown)[-1]
    other = open_app(grown.data_dir)
    try:
        for i in (0, 1, 17, size - 1):
            assert other.tlog.inclusion_proof(i, size) == grown.app.tlog.inclusion_proof(i, size)
        assert other.tlog.head() == (size, root)
    finally:
        other.close()
