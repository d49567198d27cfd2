"""RFC 6962 §2.1 Merkle tree hashing, inclusion and consistency proofs: pure functions over leaf hashes.

leaf = SHA-256(0x00 ‖ bytes), node = SHA-256(0x01 ‖ left ‖ right); the tree of n leaves splits at the largest
power of two smaller than n. The root of the empty tree is SHA-256 of nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes; iterative, so a large log needs no deep recursion."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Pairing left to right and carrying an odd last node up gives exactly RFC 6962's split-tree shape.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) for the leaf at ``index`` among ``leaves`` (RFC 6962 §2.1.1)."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError("index outside the tree")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(index, leaves[:k]) + [root(leaves[k:])]
    return inclusion_proof(index - k, leaves[k:]) + [root(leaves[:k])]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) that the tree of the first ``first`` leaves is a prefix of ``leaves`` (§2.1.2)."""
    n = len(leaves)
    if not 0 < first <= n:
        raise ValueError("first outside the tree")
    return _subproof(first, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], whole) + [root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root(leaves[:k])]


def verify_inclusion(index: int, tree_size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` lead from ``leaf`` at ``index`` to ``expected_root``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size ``first`` with ``first_root`` a prefix of the one of ``second``?"""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is itself the start of the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn != 0 and fn & 1 == 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def extend_frontier(frontier: Sequence[bytes], size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The compact range of the tree of ``size`` leaves (the roots of its perfect subtrees, largest first, one
    per set bit of ``size``: at most log2 n hashes) extended with ``leaves``: O(new leaves) hashing."""
    stack = list(frontier)
    for leaf in leaves:
        node, carried = leaf, size
        while carried & 1:  # each trailing set bit is a perfect subtree of the new one's height: merge
            node = node_hash(stack.pop(), node)
            carried >>= 1
        stack.append(node)
        size += 1
    return stack


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH from a compact range: the perfect subtrees folded from the right, exactly RFC 6962's split shape."""
    if not frontier:
        return hashlib.sha256(b"").digest()
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = node_hash(left, node)
    return node
