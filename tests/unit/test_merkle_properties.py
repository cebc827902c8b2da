"""Property tests of the Merkle code against a naive transcription of RFC 9162.

Proofs are generated from one MemoryNodes store of MAX_SIZE leaves: perfect nodes never
change, so the same store serves every smaller tree size.

Consistency from size 0 (the project's rule, see merkle.py): valid only with an empty
proof and root1 == EMPTY_ROOT; tested here with generated proofs and in
test_merkle_vectors.py against both vector sets.
"""

from __future__ import annotations

import math
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.transparency.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    MemoryNodes,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 600
LEAVES = [leaf_hash(b"leaf-%d" % i) for i in range(MAX_SIZE)]
STORE = MemoryNodes()
for _h in LEAVES:
    STORE.append(_h)


# --- naive RFC 9162 section 2.1 ---------------------------------------------------------


def _split(n: int) -> int:
    """Largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


@cache
def mth(begin: int, end: int) -> bytes:
    if end - begin == 0:
        return EMPTY_ROOT
    if end - begin == 1:
        return LEAVES[begin]
    k = _split(end - begin)
    return node_hash(mth(begin, begin + k), mth(begin + k, end))


def rfc_path(m: int, begin: int, end: int) -> list[tuple[str, bytes]]:
    """PATH(m, D[begin:end]) with the side of each sibling, bottom up."""
    n = end - begin
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return rfc_path(m, begin, begin + k) + [("R", mth(begin + k, end))]
    return rfc_path(m - k, begin + k, end) + [("L", mth(begin, begin + k))]


def rfc_subproof(m: int, begin: int, end: int, b: bool) -> list[tuple[str, bytes]]:
    """SUBPROOF(m, D[begin:end], b) with a shape tag for each element."""
    n = end - begin
    if m == n:
        return [] if b else [("self", mth(begin, end))]
    k = _split(n)
    if m <= k:
        return rfc_subproof(m, begin, begin + k, b) + [("R", mth(begin + k, end))]
    return rfc_subproof(m - k, begin + k, end, False) + [("L", mth(begin, begin + k))]


def rfc_consistency(m: int, n: int) -> list[tuple[str, bytes]]:
    return [] if m == 0 else rfc_subproof(m, 0, n, True)


def _shape(tagged: list[tuple[str, bytes]]) -> list[str]:
    return [side for side, _ in tagged]


# --- agreement with the RFC text --------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 70))
def test_exhaustive_small_trees(n: int) -> None:
    root = mth(0, n)
    assert root_at(n, STORE.get) == root
    for i in range(n):
        proof = inclusion_proof(i, n, STORE.get)
        assert proof == [h for _, h in rfc_path(i, 0, n)]
        verify_inclusion(LEAVES[i], i, n, proof, root)
    for m in range(0, n + 1):
        proof = consistency_proof(m, n, STORE.get)
        assert proof == [h for _, h in rfc_consistency(m, n)]
        verify_consistency(m, n, mth(0, m), root, proof)


sizes = st.integers(min_value=1, max_value=300)


@st.composite
def inclusion_cases(draw):
    n = draw(sizes)
    i = draw(st.integers(0, n - 1))
    return i, n, inclusion_proof(i, n, STORE.get)


@st.composite
def consistency_cases(draw):
    n = draw(sizes)
    m = draw(st.integers(0, n))
    return m, n, consistency_proof(m, n, STORE.get)


@given(inclusion_cases())
def test_inclusion_proofs_verify(case) -> None:
    i, n, proof = case
    assert proof == [h for _, h in rfc_path(i, 0, n)]
    assert root_from_inclusion_proof(LEAVES[i], i, n, proof) == mth(0, n)
    verify_inclusion(LEAVES[i], i, n, proof, root_at(n, STORE.get))


@given(consistency_cases())
def test_consistency_proofs_verify(case) -> None:
    m, n, proof = case
    assert proof == [h for _, h in rfc_consistency(m, n)]
    verify_consistency(m, n, root_at(m, STORE.get), root_at(n, STORE.get), proof)


# --- every single mutation fails --------------------------------------------------------


def _flip(proof: list[bytes], data) -> list[bytes]:
    k = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, HASH_SIZE * 8 - 1))
    el = bytearray(proof[k])
    el[bit // 8] ^= 1 << (bit % 8)
    return proof[:k] + [bytes(el)] + proof[k + 1 :]


def _drop(proof: list[bytes], data) -> list[bytes]:
    k = data.draw(st.integers(0, len(proof) - 1))
    return proof[:k] + proof[k + 1 :]


def _add(proof: list[bytes], data) -> list[bytes]:
    k = data.draw(st.integers(0, len(proof)))
    extra = data.draw(
        st.one_of(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE), st.sampled_from(LEAVES))
    )
    return proof[:k] + [extra] + proof[k:]


MUTATIONS = {"flip": _flip, "drop": _drop, "add": _add}


@pytest.mark.parametrize("kind", MUTATIONS)
@given(case=inclusion_cases(), data=st.data())
def test_inclusion_proof_mutation_fails(kind, case, data) -> None:
    i, n, proof = case
    if kind != "add" and not proof:
        return
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[i], i, n, MUTATIONS[kind](proof, data), mth(0, n))


@pytest.mark.parametrize("kind", MUTATIONS)
@given(case=consistency_cases(), data=st.data())
def test_consistency_proof_mutation_fails(kind, case, data) -> None:
    m, n, proof = case
    if kind != "add" and not proof:
        return
    with pytest.raises(ProofError):
        verify_consistency(m, n, mth(0, m), mth(0, n), MUTATIONS[kind](proof, data))


@given(case=inclusion_cases(), data=st.data())
def test_inclusion_wrong_index_or_size(case, data) -> None:
    i, n, proof = case
    j = data.draw(st.integers(0, MAX_SIZE))
    s = data.draw(st.integers(0, MAX_SIZE))
    if (j, s) == (i, n):
        return
    args = (LEAVES[i], j, s, proof, mth(0, n))
    # An inclusion proof alone does not bind the tree size (the signed checkpoint
    # does): a claim with the same left/right shape computes the same root and
    # passes. Any other claimed position must fail.
    if j < s and _shape(rfc_path(j, 0, s)) == _shape(rfc_path(i, 0, n)):
        assert s != n, "two leaves of one tree share a proof shape"
        verify_inclusion(*args)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(*args)


@given(case=consistency_cases(), data=st.data())
def test_consistency_wrong_sizes(case, data) -> None:
    m, n, proof = case
    m2 = data.draw(st.integers(0, MAX_SIZE))
    n2 = data.draw(st.integers(0, MAX_SIZE))
    if (m2, n2) == (m, n):
        return
    args = (m2, n2, mth(0, m), mth(0, n), proof)
    # As above, sizes are bound by checkpoints, not proofs: same shape, same result.
    same = (
        0 < m2 <= n2 and 0 < m and _shape(rfc_consistency(m2, n2)) == _shape(rfc_consistency(m, n))
    )
    # Size-0 rule: from the empty tree (EMPTY_ROOT, empty proof) to any size passes.
    same = same or (m2 == 0 and m == 0 and n2 > 0)
    if same:
        verify_consistency(*args)
    else:
        with pytest.raises(ProofError):
            verify_consistency(*args)


@given(case=inclusion_cases(), data=st.data())
def test_inclusion_wrong_leaf_or_root(case, data) -> None:
    i, n, proof = case
    other = data.draw(st.integers(0, MAX_SIZE - 1).filter(lambda k: k != i))
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[other], i, n, proof, mth(0, n))
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[i], i, n, proof, mth(0, n - 1) if n > 1 else EMPTY_ROOT)


def test_strict_lengths() -> None:
    proof = inclusion_proof(3, 10, STORE.get)
    root = mth(0, 10)
    for bad in (b"", LEAVES[0][:31], LEAVES[0] + b"\x00"):
        with pytest.raises(ProofError, match="32 bytes"):
            verify_inclusion(bad, 3, 10, proof, root)
        with pytest.raises(ProofError, match="32 bytes"):
            verify_inclusion(LEAVES[3], 3, 10, proof, bad)
        with pytest.raises(ProofError, match="32 bytes"):
            verify_inclusion(LEAVES[3], 3, 10, [*proof[:-1], bad], root)
        with pytest.raises(ProofError, match="32 bytes"):
            verify_consistency(1, 1, bad, bad, [])
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[3], -1, 10, proof, root)
    with pytest.raises(ProofError):
        verify_consistency(-1, 10, root, root, [])


# --- compact range ----------------------------------------------------------------------


@given(sizes.map(lambda n: n - 1))
def test_compact_range_round_trip_and_root(n: int) -> None:
    cr = CompactRange()
    seen: dict[tuple[int, int], bytes] = {}
    for i in range(n):
        for level, index, h in cr.append(LEAVES[i]):
            assert (level, index) not in seen
            assert h == mth(index << level, (index + 1) << level)
            seen[(level, index)] = h
    assert cr.size == n
    assert cr.root() == mth(0, n) == root_from_leaf_hashes(LEAVES[:n])
    assert len(cr.to_bytes()) == 8 + HASH_SIZE * n.bit_count()
    back = CompactRange.from_bytes(cr.to_bytes())
    assert back.size == n and back.root() == cr.root() and back.to_bytes() == cr.to_bytes()
    # Every perfect node of the tree was reported exactly once.
    assert len(seen) == sum(n >> level for level in range(n.bit_length() + 1))
    # A copy is independent, and a restored range keeps growing correctly.
    copy = cr.copy()
    back.append(LEAVES[n])
    assert back.root() == mth(0, n + 1)
    assert copy.root() == cr.root() == mth(0, n)


def test_compact_range_rejects_bad_input() -> None:
    assert CompactRange().root() == EMPTY_ROOT
    assert CompactRange.from_bytes(bytes(8)).size == 0
    cr = CompactRange()
    for h in LEAVES[:5]:
        cr.append(h)
    data = cr.to_bytes()
    for bad in (data[:-1], data + b"\x00", data[:7], (7).to_bytes(8, "big") + data[8:]):
        with pytest.raises(ValueError):
            CompactRange.from_bytes(bad)
    with pytest.raises(ValueError):
        cr.append(b"short")


# --- argument checks and the node store -------------------------------------------------


def test_out_of_range_arguments() -> None:
    for call in (
        lambda: inclusion_proof(5, 5, STORE.get),
        lambda: inclusion_proof(0, 0, STORE.get),
        lambda: inclusion_proof(-1, 5, STORE.get),
        lambda: consistency_proof(6, 5, STORE.get),
        lambda: consistency_proof(-1, 5, STORE.get),
        lambda: subtree_hash(3, 3, STORE.get),
        lambda: subtree_hash(1, 4, STORE.get),
        lambda: subtree_hash(4, 9, STORE.get),
        lambda: root_at(-1, STORE.get),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, ProofError)


@given(st.integers(1, 64), st.integers(0, 8))
def test_subtree_hash_of_node_ranges(length: int, slot: int) -> None:
    # Node ranges start at a multiple of the smallest power of two >= their length.
    begin = (1 << (length - 1).bit_length()) * slot
    if begin + length <= MAX_SIZE:
        assert subtree_hash(begin, begin + length, STORE.get) == mth(begin, begin + length)


def test_missing_node_is_reported() -> None:
    small = MemoryNodes()
    for h in LEAVES[:4]:
        small.append(h)
    assert small.size == 4 and small.root() == mth(0, 4)
    with pytest.raises(LookupError):
        inclusion_proof(0, 5, small.get)


# --- one batched read for a big tree ----------------------------------------------------

BIG = 1_000_003


@cache
def _cached(level: int, index: int) -> bytes:
    # Cache only the upper levels: a few thousand entries instead of two million.
    if level < 10:
        return _lazy(level, index)
    return node_hash(_cached(level - 1, 2 * index), _cached(level - 1, 2 * index + 1))


def _lazy(level: int, index: int) -> bytes:
    if level == 0:
        return leaf_hash(index.to_bytes(8, "big"))
    return node_hash(_lazy(level - 1, 2 * index), _lazy(level - 1, 2 * index + 1))


class CountingGetter:
    def __init__(self) -> None:
        self.calls: list[list[tuple[int, int]]] = []

    def __call__(self, coords: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.calls.append(list(coords))
        for level, index in coords:
            assert (index + 1) << level <= BIG, "asked for a node that is not perfect"
        return {c: _cached(*c) for c in coords}


@pytest.mark.parametrize("index", [0, 1, 2, 524_287, 524_288, 999_999, BIG - 2, BIG - 1])
def test_inclusion_proof_reads_once_from_big_tree(index: int) -> None:
    get = CountingGetter()
    proof = inclusion_proof(index, BIG, get)
    assert len(get.calls) == 1
    assert len(get.calls[0]) <= 2 * math.log2(BIG) + 2
    assert len(set(get.calls[0])) == len(get.calls[0])
    verify_inclusion(_cached(0, index), index, BIG, proof, root_at(BIG, CountingGetter()))


@pytest.mark.parametrize("m", [1, 2, 3, 500_000, 524_288, BIG - 1])
def test_consistency_proof_reads_once_from_big_tree(m: int) -> None:
    get = CountingGetter()
    proof = consistency_proof(m, BIG, get)
    assert len(get.calls) == 1
    assert len(get.calls[0]) <= 2 * math.log2(BIG) + 2
    roots = CountingGetter()
    verify_consistency(m, BIG, root_at(m, roots), root_at(BIG, roots), proof)
    assert len(roots.calls) == 2


@settings(deadline=None)
@given(st.integers(1, 300))
def test_memory_nodes_root_matches(n: int) -> None:
    assert root_at(n, STORE.get) == mth(0, n)
