"""RFC 6962 / RFC 9162 Merkle trees: hashing, compact ranges, proofs, verifiers.

Pure functions over bytes; no I/O. Proofs are built from a node store that keeps every
perfect subtree hash by ``(level, index)``: level 0 index i is leaf i, level k index i
covers leaves ``[i*2^k, (i+1)*2^k)``. Perfect nodes never change once written, so a store
persists them as leaves are appended (``CompactRange.append``) and serves every past
tree size from the same rows. Non-perfect right-edge subtrees are never stored; they
are folded from the perfect subtrees of their range's binary decomposition.

A node getter is ``get_nodes(coords: list[tuple[int, int]]) -> dict[coord, bytes]``.
Each proof function collects all the coordinates it needs (O(log n)) and calls the
getter once, so a database store answers in one query.

Verifiers follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 and are strict: every hash,
root and proof element must be exactly 32 bytes, otherwise ``ProofError``.

Consistency from size 0 (this project's rule): a proof from the empty tree (m == 0)
is valid if and only if the proof is empty and ``root1 == EMPTY_ROOT`` (SHA-256 of
b""); for m == n == 0 root2 must be EMPTY_ROOT too. It proves nothing about root2 but
is the honest answer for a checkpoint issued before the first leaf. The CCTV vectors
agree; the transparency-dev vectors reject size1 == 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]
NodeGetter = Callable[[list[Coord]], dict[Coord, bytes]]


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class ProofError(ValueError):
    """A proof, hash or root failed verification."""


class CompactRange:
    """Right frontier of a tree: the perfect subtrees covering leaves 0..size-1.

    ``_hashes`` holds one hash per set bit of ``size``, largest subtree first.
    """

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf hash; return every perfect node it completes as (level, index, hash).

        The leaf itself comes first (level 0), then each parent merged up the
        right edge, so a store can persist all perfect nodes incrementally.
        """
        _check_len(leaf_hash, "leaf hash", ValueError)
        leaf_hash = bytes(leaf_hash)  # stored nodes must not change under the store
        index = self.size
        done = [(0, index, leaf_hash)]
        h, level = leaf_hash, 0
        # Each trailing 1 bit of the old size is a left sibling waiting for this node.
        while (index >> level) & 1:
            h = node_hash(self._hashes.pop(), h)
            level += 1
            done.append((level, index >> level, h))
        self._hashes.append(h)
        self.size += 1
        return done

    def root(self) -> bytes:
        """Return the tree head MTH of the leaves so far (EMPTY_ROOT for size 0)."""
        return _fold(self._hashes)

    def to_bytes(self) -> bytes:
        """Serialise as 8-byte big-endian size followed by the frontier, left to right."""
        return self.size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactRange:
        """Parse ``to_bytes`` output; ValueError unless the length matches the size exactly."""
        if len(data) < 8:
            raise ValueError("compact range is shorter than its size field")
        size = int.from_bytes(data[:8], "big")
        count = size.bit_count()
        if len(data) != 8 + count * HASH_SIZE:
            raise ValueError(f"compact range of size {size} needs {count} hashes")
        cr = cls()
        cr.size = size
        cr._hashes = [data[8 + i * HASH_SIZE : 8 + (i + 1) * HASH_SIZE] for i in range(count)]
        return cr

    def copy(self) -> CompactRange:
        """Return an independent copy."""
        cr = CompactRange()
        cr.size, cr._hashes = self.size, list(self._hashes)
        return cr


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """Return MTH over the given leaf hashes, streaming in O(log n) memory."""
    cr = CompactRange()
    for h in hashes:
        cr.append(h)
    return cr.root()


class MemoryNodes:
    """In-memory node store for tests and tools: keeps every perfect node."""

    def __init__(self) -> None:
        self._range = CompactRange()
        self.nodes: dict[Coord, bytes] = {}

    @property
    def size(self) -> int:
        return self._range.size

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash."""
        for level, index, h in self._range.append(leaf_hash):
            self.nodes[(level, index)] = h

    def root(self) -> bytes:
        """Return the current tree head."""
        return self._range.root()

    def get(self, coords: list[Coord]) -> dict[Coord, bytes]:
        """Node getter: the stored hashes among ``coords`` (missing ones are left out)."""
        return {c: self.nodes[c] for c in coords if c in self.nodes}


# --- proof generation -------------------------------------------------------------


def _check_len(h: object, what: str, exc: type[ValueError] = ProofError) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise exc(f"{what} must be {HASH_SIZE} bytes")


def _fold(hashes: Sequence[bytes]) -> bytes:
    # RFC trees put the largest power of two on the left, so a decomposed range
    # is hashed right to left.
    if not hashes:
        return EMPTY_ROOT
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def _decompose(begin: int, end: int) -> list[Coord]:
    """Perfect nodes covering [begin, end), left to right; begin must be aligned."""
    out, pos = [], begin
    for level in range((end - begin).bit_length() - 1, -1, -1):
        if (end - begin) >> level & 1:
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def _path(level: int, index: int, size: int) -> list[list[Coord]]:
    """Sibling ranges from node (level, index) up to the root of a tree of ``size``.

    Each entry is the decomposition of one proof element, bottom up. A right sibling
    starting at or past ``size`` does not exist (the node is promoted); one that
    runs past ``size`` is the ephemeral right-edge subtree.
    """
    out = []
    while not (index == 0 and (1 << level) >= size):
        start = (index ^ 1) << level
        if start < size:
            out.append(_decompose(start, min(start + (1 << level), size)))
        index >>= 1
        level += 1
    return out


def _fetch(groups: list[list[Coord]], get_nodes: NodeGetter) -> list[bytes]:
    wanted = [c for g in groups for c in g]
    if not wanted:
        return []
    got = get_nodes(wanted)
    missing = [c for c in wanted if c not in got]
    if missing:
        raise LookupError(f"node store has no node {missing[0]}")
    return [_fold([got[c] for c in g]) for g in groups]


def _check_sizes(*values: int) -> None:
    for v in values:
        if not isinstance(v, int) or v < 0:
            raise ValueError("sizes and indices must be non-negative integers")


def subtree_hash(begin: int, end: int, get_nodes: NodeGetter) -> bytes:
    """Return MTH of leaves [begin, end); the range must be a node of some tree.

    That is, begin is a multiple of the smallest power of two >= end - begin.
    """
    _check_sizes(begin, end)
    if begin >= end or begin % (1 << (end - begin - 1).bit_length()):
        raise ValueError(f"[{begin}, {end}) is not a subtree range")
    return _fetch([_decompose(begin, end)], get_nodes)[0]


def root_at(size: int, get_nodes: NodeGetter) -> bytes:
    """Return the tree head of the first ``size`` leaves (EMPTY_ROOT for 0)."""
    _check_sizes(size)
    return _fold(_fetch([[c] for c in _decompose(0, size)], get_nodes))


def inclusion_proof(index: int, size: int, get_nodes: NodeGetter) -> list[bytes]:
    """Return the RFC 9162 section 2.1.3.1 inclusion proof of leaf ``index`` in ``size``."""
    _check_sizes(index, size)
    if index >= size:
        raise ValueError(f"leaf index {index} is not below tree size {size}")
    return _fetch(_path(0, index, size), get_nodes)


def consistency_proof(m: int, n: int, get_nodes: NodeGetter) -> list[bytes]:
    """Return the RFC 9162 section 2.1.4.1 consistency proof from size m to size n.

    Empty when m == n or m == 0 (see the module docstring for the size-0 rule).
    """
    _check_sizes(m, n)
    if m > n:
        raise ValueError(f"old size {m} is larger than new size {n}")
    if m == n or m == 0:
        return []
    # The largest perfect subtree ending at m; its path to the root of n is the proof.
    level = (m & -m).bit_length() - 1
    index = (m - 1) >> level
    groups = _path(level, index, n)
    if index != 0:
        # m is not a power of two, so the verifier cannot know this node: send it.
        groups.insert(0, [(level, index)])
    return _fetch(groups, get_nodes)


# --- verification -----------------------------------------------------------------


def _check_claim(proof: Sequence[bytes], *numbers: int) -> None:
    for p in proof:
        _check_len(p, "proof element")
    if any(not isinstance(v, int) or v < 0 for v in numbers):
        raise ProofError("sizes and indices must be non-negative integers")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by an inclusion proof (RFC 9162 section 2.1.3.2)."""
    _check_len(leaf_hash, "leaf hash")
    _check_claim(proof, index, size)
    if index >= size:
        raise ProofError("leaf index is not below tree size")
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows leaf ``index`` is in the tree ``root``."""
    _check_len(root, "root")
    if root_from_inclusion_proof(leaf_hash, index, size, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(m: int, n: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Raise ProofError unless ``proof`` shows tree (m, root1) is a prefix of (n, root2)."""
    _check_len(root1, "old root")
    _check_len(root2, "new root")
    _check_claim(proof, m, n)
    if m > n:
        raise ProofError("old size is larger than new size")
    if m == 0 or m == n:
        if proof:
            raise ProofError("proof must be empty")
        if m == 0 and root1 != EMPTY_ROOT:
            raise ProofError("old root of the empty tree must be SHA-256 of nothing")
        if m == n and root1 != root2:
            raise ProofError("roots differ for equal sizes")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if m & (m - 1) == 0:
        # The old tree is a perfect subtree, so its root is the proof's first node.
        path.insert(0, bytes(root1))
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the new root")
