"""The RFC 6962 Merkle tree over the audit ledger (SPEC §5), as pure functions of hashes.

No database and no CKAN here: :mod:`ckanext.sharing.ledger.tree` feeds these functions the rows.
Hashing is RFC 6962 §2.1 (= RFC 9162 §2.1.1): a leaf is SHA-256(0x00 ‖ data), an interior node
SHA-256(0x01 ‖ left ‖ right), the empty tree SHA-256(""). The tree over n leaves splits at the
largest power of two smaller than n, so every *complete* subtree is a node ``(level, index)``
covering leaves ``[index·2^level, (index+1)·2^level)``; those are the only nodes ever stored.

The right edge of the tree (one complete subtree per set bit of n, largest first: the "compact
range" of ``[0, n)``) is all an append needs: :func:`append` is O(log n) and returns the complete
nodes it finished, and :func:`root_of` folds the edge into the root. Proofs (RFC 6962 §2.1.1–2.1.2)
are given as the leaf ranges whose hashes form them (:func:`inclusion_ranges`,
:func:`consistency_ranges`); :func:`cover` names the complete nodes a range hash needs, so a
caller fetches them in one query and :func:`range_hash` combines them. Verification follows
RFC 9162 §2.1.3.2 and §2.1.4.2.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]  # (level, index) of a complete subtree
Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data): the hash of one leaf (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (> 1): where RFC 6962 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# --- the right edge, appends and roots ----------------------------------------------------------


def edge_keys(size: int) -> list[NodeKey]:
    """The complete subtrees of the tree's right edge at ``size`` leaves, largest (leftmost) first."""
    keys = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def append(edge: Sequence[bytes], size: int, leaf: bytes) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Add the leaf hash ``leaf`` as leaf number ``size`` to a tree given by its right edge.

    Returns the new edge and the complete nodes ``(level, index, hash)`` this append finished
    (the leaf itself first). O(log n): only the edge is read, nothing is rescanned.
    """
    if len(edge) != bin(size).count("1"):
        raise ValueError(f"an edge of {len(edge)} hashes cannot be a tree of {size} leaves")
    new_edge = list(edge)
    finished = [(0, size, leaf)]
    h, n, level = leaf, size, 0
    while n & 1:
        h = node_hash(new_edge.pop(), h)
        n >>= 1
        level += 1
        finished.append((level, n, h))
    new_edge.append(h)
    return new_edge, finished


def root_of(edge: Sequence[bytes]) -> bytes:
    """The tree head (root hash) of the tree whose right edge is ``edge`` (RFC 6962 MTH)."""
    if not edge:
        return EMPTY_ROOT
    root = edge[-1]
    for h in reversed(edge[:-1]):
        root = node_hash(h, root)
    return root


class Builder:
    """Streams leaf hashes into a tree, keeping the right edge and the complete nodes asked for.

    Used to recompute the tree from the rows (``audit verify``): memory is O(log n) plus the
    ``keep`` nodes (those a proof needs).
    """

    def __init__(self, keep: Iterable[NodeKey] = ()) -> None:
        self.size = 0
        self.edge: list[bytes] = []
        self._keep = set(keep)
        self.nodes: dict[NodeKey, bytes] = {}

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        self.edge, finished = append(self.edge, self.size, leaf)
        self.size += 1
        for level, index, h in finished:
            if (level, index) in self._keep:
                self.nodes[(level, index)] = h

    def root(self) -> bytes:
        """The current tree head."""
        return root_of(self.edge)


def tree_root(leaves: Iterable[bytes]) -> bytes:
    """The root over the given leaf hashes, in order."""
    builder = Builder()
    for leaf in leaves:
        builder.add(leaf)
    return builder.root()


# --- proofs as ranges of leaves -------------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 §2.1.1 PATH).

    Each element is the leaf range whose subtree hash is that proof element, from the leaf's
    sibling up to the root's other child.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(old_size: int, size: int) -> list[Range]:
    """The consistency proof from the tree of ``old_size`` leaves to ``size`` leaves
    (RFC 6962 §2.1.2 PROOF / SUBPROOF), as leaf ranges, bottom first."""
    if not 0 <= old_size <= size:
        raise ValueError(f"no consistency proof from {old_size} to {size} leaves")
    if old_size in (0, size):
        return []
    proof: list[Range] = []
    start, end, whole = 0, size, True
    m = old_size
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            m -= k
            start += k
            whole = False
    if not whole:
        proof.append((start, end))
    proof.reverse()
    return proof


def cover(start: int, end: int) -> list[NodeKey]:
    """The complete nodes whose hashes make up the subtree hash of leaves ``[start, end)``."""
    if end - start < 1:
        raise ValueError("an empty range has no subtree hash")
    if _is_pow2(end - start):
        level = (end - start).bit_length() - 1
        if start % (end - start):
            raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 6962 tree")
        return [(level, start >> level)]
    k = _split(end - start)
    return cover(start, start + k) + cover(start + k, end)


def range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes] | Callable[[NodeKey], bytes]) -> bytes:
    """The subtree hash of leaves ``[start, end)`` from the complete nodes of :func:`cover`."""
    get = nodes if callable(nodes) else nodes.__getitem__
    if _is_pow2(end - start):
        level = (end - start).bit_length() - 1
        return get((level, start >> level))
    k = _split(end - start)
    return node_hash(range_hash(start, start + k, get), range_hash(start + k, end, get))


def needed(ranges: Iterable[Range]) -> set[NodeKey]:
    """Every complete node that the hashes of ``ranges`` need."""
    return {key for start, end in ranges for key in cover(start, end)}


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ----------------------------------------------


def _climb(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0: skip the levels where the node has no
    right sibling (RFC 9162 §2.1.3.2 step 3)."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` leads to from leaf hash ``leaf`` at ``index``; None if it cannot."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof) or len(leaf) != HASH_SIZE:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _climb(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root``?"""
    return root_from_inclusion(index, size, leaf, proof) == root


def verify_consistency(old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]) -> bool:
    """Does ``proof`` show that the tree (``size``, ``root``) extends (``old_size``, ``old_root``)?"""
    if not 0 <= old_size <= size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == size:
        return not proof and old_root == root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if _is_pow2(old_size):
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
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
            fn, sn = _climb(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == root and sn == 0
