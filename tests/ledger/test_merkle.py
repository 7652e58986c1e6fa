"""The pure RFC 6962 tree (ledger/merkle.py) against the published test vectors.

The vectors are the data of RFC 6962's reference tests as published with the transparency-dev
``merkle`` Go module (testonly/constants.go, proof/verify_test.go): eight leaf inputs, the root at
every size, and known inclusion and consistency proofs. Only the data is used here.
"""
from __future__ import annotations

import hashlib
import itertools

import pytest

from ckanext.sharing.ledger import merkle

LEAF_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = bytes.fromhex
# (leaf index, tree size, proof)
INCLUSION = [
    (0, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]
# (old size, new size, proof)
CONSISTENCY = [
    (1, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]
LEAVES = [merkle.leaf_hash(d) for d in LEAF_INPUTS]


def _all_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    builder = merkle.Builder(keep=((lv, i) for lv in range(8) for i in range(len(leaves))))
    for leaf in leaves:
        builder.add(leaf)
    return builder.nodes


def _inclusion(index: int, size: int, leaves: list[bytes]) -> list[bytes]:
    nodes = _all_nodes(leaves[:size])
    return [merkle.range_hash(s, e, nodes) for s, e in merkle.inclusion_ranges(index, size)]


def _consistency(old: int, size: int, leaves: list[bytes]) -> list[bytes]:
    nodes = _all_nodes(leaves[:size])
    return [merkle.range_hash(s, e, nodes) for s, e in merkle.consistency_ranges(old, size)]


def test_hashes_match_rfc6962_vectors():
    """Leaf, node and empty-tree hashes are RFC 6962's (0x00 / 0x01 prefixes, SHA-256)."""
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert merkle.node_hash(b"N123", b"N456").hex() == \
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


@pytest.mark.parametrize("size", range(9))
def test_root_at_every_size_matches_the_vectors(size):
    """Appending leaf by leaf (O(log n) edge) gives the published root at every size."""
    assert merkle.tree_root(LEAVES[:size]) == ROOTS[size]


def test_edge_is_the_compact_range():
    """The right edge has one complete subtree per set bit of the size, largest first."""
    assert merkle.edge_keys(0) == []
    assert merkle.edge_keys(7) == [(2, 0), (1, 2), (0, 6)]
    assert merkle.edge_keys(8) == [(3, 0)]
    edge: list[bytes] = []
    nodes = _all_nodes(LEAVES)
    for size, leaf in enumerate(LEAVES):
        assert edge == [nodes[k] for k in merkle.edge_keys(size)]
        edge, _ = merkle.append(edge, size, leaf)
    with pytest.raises(ValueError):
        merkle.append([LEAVES[0]], 3, LEAVES[1])


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_inclusion_proofs_match_the_vectors(index, size, proof):
    """Generated audit paths equal the published ones and verify against the published root."""
    assert _inclusion(index, size, LEAVES) == proof
    assert merkle.verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize("old,size,proof", CONSISTENCY)
def test_consistency_proofs_match_the_vectors(old, size, proof):
    """Generated consistency proofs equal the published ones and verify."""
    assert _consistency(old, size, LEAVES) == proof
    assert merkle.verify_consistency(old, size, ROOTS[old], ROOTS[size], proof)


def test_every_proof_of_a_larger_tree_verifies():
    """Inclusion of every leaf and consistency of every pair of sizes up to 70 leaves verify."""
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(70)]
    roots = [merkle.tree_root(leaves[:n]) for n in range(71)]
    nodes = _all_nodes(leaves)
    for size in range(1, 71):
        for index in range(size):
            proof = [merkle.range_hash(s, e, nodes) for s, e in merkle.inclusion_ranges(index, size)]
            assert merkle.verify_inclusion(index, size, leaves[index], proof, roots[size])
        for old in range(0, size + 1):
            proof = [merkle.range_hash(s, e, nodes) for s, e in merkle.consistency_ranges(old, size)]
            assert merkle.verify_consistency(old, size, roots[old], roots[size], proof), (old, size)


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    out = list(proof)
    out[i] = bytes([out[i][0] ^ 8]) + out[i][1:]
    return out


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_corrupted_inclusion_proofs_fail(index, size, proof):
    """A wrong index, size, leaf or root, a flipped bit, a missing or extra element: all fail."""
    root, leaf = ROOTS[size], LEAVES[index]
    some = hashlib.sha256(b"some").digest()
    bad = [
        (index - 1, size, leaf, proof, root), (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root), (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root), (index, size, some, proof, root),
        (index, size, leaf, proof, merkle.EMPTY_ROOT), (index, size, leaf, proof + [root], root),
        (index, size, leaf, [root] + proof, root), (index, size, leaf, proof + [b""], root),
        (index, size, leaf, proof[:-1], root),
    ] + [(index, size, leaf, _flip(proof, i), root) for i in range(len(proof))]
    for args in bad:
        assert not merkle.verify_inclusion(*args), args[:2]


@pytest.mark.parametrize("old,size,proof", CONSISTENCY)
def test_corrupted_consistency_proofs_fail(old, size, proof):
    """Wrong sizes, wrong or swapped roots, truncated, padded or bit-flipped proofs fail."""
    r1, r2 = ROOTS[old], ROOTS[size]
    bad = [
        (old - 1, size, r1, r2, proof), (old + 1, size, r1, r2, proof), (old ^ 2, size, r1, r2, proof),
        (old, size * 2, r1, r2, proof), (old, size // 2, r1, r2, proof),
        (old, size, merkle.EMPTY_ROOT, r2, proof), (old, size, r1, merkle.EMPTY_ROOT, proof),
        (old, size, r2, r1, proof), (old, size, r1, r2, []), (old, size, r1, r2, proof + [r1]),
        (old, size, r1, r2, [r2] + proof), (old, size, r1, r2, [proof[0]] + proof), (old, size, r1, r2, proof[:-1]),
    ] + [(old, size, r1, r2, _flip(proof, i)) for i in range(len(proof))]
    for args in bad:
        assert not merkle.verify_consistency(*args), args[:2]


def test_trivial_consistency():
    """Equal sizes need equal roots and no proof; from the empty tree anything is consistent."""
    assert merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])
    assert not merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])
    assert not merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[3], [ROOTS[1]])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, ROOTS[5], [])
    assert not merkle.verify_consistency(5, 3, ROOTS[5], ROOTS[3], [])


def test_ranges_refuse_impossible_arguments():
    """No proof of a leaf outside the tree, no consistency backwards, no unaligned subtree."""
    for args in ((3, 3), (-1, 3)):
        with pytest.raises(ValueError):
            merkle.inclusion_ranges(*args)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(4, 3)
    with pytest.raises(ValueError):
        merkle.cover(1, 3)
    assert list(itertools.chain.from_iterable(merkle.cover(0, 7))) == [2, 0, 1, 2, 0, 6]
