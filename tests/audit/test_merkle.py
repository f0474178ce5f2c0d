"""The audit ledger's Merkle tree follows RFC 9162 §2.1 exactly (shared/merkle.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.merkle import (
    EMPTY_ROOT,
    Frontier,
    GetNode,
    ProofError,
    consistency_proof,
    consistency_proof_from_leaves,
    inclusion_proof,
    inclusion_proof_from_leaves,
    leaf_hash,
    needed_nodes,
    node_hash,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parent.parent / "data" / "rfc9162"
TREE = json.loads((VECTORS / "tree.json").read_text())
VECTOR_LEAVES = [leaf_hash(bytes.fromhex(h)) for h in TREE["leaf_inputs_hex"]]
VECTOR_ROOTS = [bytes.fromhex(h) for h in TREE["root_hex_by_size"]]
INCLUSION_FILES = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((VECTORS / "consistency").rglob("*.json"))
MAX_SIZE = 2000


def _name(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text())
    return vector


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _proof(items: list[str] | None) -> list[bytes]:
    return [_b64(p) for p in items or []]


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


class Tree:
    """A tree grown one leaf at a time, keeping every node the Frontier reported."""

    def __init__(self, size: int) -> None:
        self.leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.roots = [EMPTY_ROOT]
        self.frontiers = [Frontier().hashes]
        frontier = Frontier()
        for h in self.leaves:
            for level, index, node in frontier.append(h):
                assert (level, index) not in self.nodes, "a node is reported once"
                self.nodes[(level, index)] = node
            self.roots.append(frontier.root())
            self.frontiers.append(frontier.hashes)

    def get_node(self, size: int) -> GetNode:
        """Node look-up as a store at ``size`` leaves would answer it."""

        def get(level: int, index: int) -> bytes:
            assert (index + 1) << level <= size, f"node ({level}, {index}) beyond size {size}"
            return self.nodes[(level, index)]

        return get


@cache
def big_tree() -> Tree:
    return Tree(MAX_SIZE)


@cache
def small_tree() -> Tree:
    return Tree(70)


# --- hashing and roots -------------------------------------------------------------


def test_vector_files_are_all_there() -> None:
    assert len(INCLUSION_FILES) == 98
    assert len(CONSISTENCY_FILES) == 98
    assert (VECTORS / "NOTICE").is_file()


def test_hashes_are_domain_separated_sha256() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


@pytest.mark.parametrize("size", range(len(VECTOR_ROOTS)))
def test_root_of_the_first_n_vector_leaves(size: int) -> None:
    frontier = Frontier()
    for h in VECTOR_LEAVES[:size]:
        frontier.append(h)
    assert root_from_leaf_hashes(VECTOR_LEAVES[:size]) == VECTOR_ROOTS[size]
    assert frontier.root() == VECTOR_ROOTS[size]


# --- the published vectors ---------------------------------------------------------


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_name)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v["proof"]), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
        return
    verify_inclusion(*args)
    if _b64(v["root"]) == VECTOR_ROOTS[v["treeSize"]]:
        # A happy proof over the vector tree is exactly the one we would serve.
        leaves = VECTOR_LEAVES[: v["treeSize"]]
        assert inclusion_proof_from_leaves(v["leafIdx"], leaves) == _proof(v["proof"])


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_name)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v["proof"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
        return
    verify_consistency(*args)
    if _b64(v["root2"]) == VECTOR_ROOTS[v["size2"]]:
        leaves = VECTOR_LEAVES[: v["size2"]]
        assert consistency_proof_from_leaves(v["size1"], leaves) == _proof(v["proof"])


# --- frontier and node-based proofs agree with the RFC recursion, sizes 1..70 --------


def test_every_stored_node_is_the_root_of_its_leaf_range() -> None:
    tree = small_tree()
    assert len(tree.nodes) == 2 * 70 - (70).bit_count()
    for (level, index), node in tree.nodes.items():
        assert node == root_from_leaf_hashes(tree.leaves[index << level : (index + 1) << level])


@pytest.mark.parametrize("size", range(1, 71))
def test_frontier_root_and_rebuild(size: int) -> None:
    tree = small_tree()
    assert tree.roots[size] == root_from_leaf_hashes(tree.leaves[:size])
    rebuilt = Frontier.from_nodes(size, tree.get_node(size))
    assert rebuilt.size == size
    assert rebuilt.hashes == tree.frontiers[size]
    assert rebuilt.root() == tree.roots[size]
    assert len(rebuilt.hashes) == size.bit_count()


@pytest.mark.parametrize("size", range(1, 71))
def test_node_based_proofs_equal_list_based_ones(size: int) -> None:
    tree = small_tree()
    get, leaves, root = tree.get_node(size), tree.leaves[:size], tree.roots[size]
    for index in range(size):
        proof = inclusion_proof(index, size, get)
        assert proof == inclusion_proof_from_leaves(index, leaves)
        verify_inclusion(index, size, leaves[index], proof, root)
    for first in range(1, size + 1):
        proof = consistency_proof(first, size, get)
        assert proof == consistency_proof_from_leaves(first, leaves)
        verify_consistency(first, size, tree.roots[first], root, proof)


def test_rebuilt_frontier_keeps_growing_the_same_tree() -> None:
    tree = small_tree()
    frontier = Frontier.from_nodes(37, tree.get_node(37))
    for h in tree.leaves[37:]:
        frontier.append(h)
    assert frontier.root() == tree.roots[70]


def test_subtree_root_composes_imperfect_ranges() -> None:
    tree = small_tree()
    get = tree.get_node(70)
    assert subtree_root(64, 70, get) == root_from_leaf_hashes(tree.leaves[64:70])
    assert subtree_root(0, 70, get) == tree.roots[70]
    with pytest.raises(ValueError, match="not aligned"):
        subtree_root(3, 7, get)
    with pytest.raises(ValueError):
        subtree_root(5, 5, get)


def test_needed_nodes_lists_the_lookups_for_batch_fetching() -> None:
    tree = Tree(9)
    wanted = needed_nodes(lambda get: inclusion_proof(5, 9, get))
    # Siblings from the top down: leaf 8, leaves 0-3, leaves 6-7, leaf 4.
    assert wanted == [(0, 8), (2, 0), (1, 3), (0, 4)]
    assert inclusion_proof(5, 9, tree.get_node(9)) == [tree.nodes[n] for n in reversed(wanted)]


def test_invalid_requests_are_refused() -> None:
    get = Tree(8).get_node(8)
    with pytest.raises(ValueError):
        inclusion_proof(8, 8, get)
    with pytest.raises(ValueError):
        consistency_proof(0, 8, get)
    with pytest.raises(ValueError):
        consistency_proof(5, 4, get)
    with pytest.raises(ValueError):
        Frontier().append(b"short")
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(0, 2, b"short", [bytes(32)], bytes(32))
    with pytest.raises(ProofError, match="32 bytes"):
        verify_consistency(1, 2, bytes(32), bytes(32), [b"short"])


# --- properties over random trees up to 2000 leaves --------------------------------


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX_SIZE))
    return size, draw(st.integers(0, size - 1))


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    second = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(1, second)), second


@settings(max_examples=300, deadline=None)
@given(size_and_index(), st.integers(0, 255), st.data())
def test_inclusion_proofs_verify_and_any_flipped_bit_fails(
    case: tuple[int, int], bit: int, data: st.DataObject
) -> None:
    size, index = case
    tree = big_tree()
    proof = inclusion_proof(index, size, tree.get_node(size))
    leaf, root = tree.leaves[index], tree.roots[size]
    assert len(proof) <= (size - 1).bit_length()
    assert len(needed_nodes(lambda get: inclusion_proof(index, size, get))) <= 2 * size.bit_length()
    verify_inclusion(index, size, leaf, proof, root)

    with pytest.raises(ProofError):
        verify_inclusion(index, size, _flip(leaf, bit), proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, proof, _flip(root, bit))
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(index, size, leaf, [*proof, leaf], root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, bad, root)
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, proof[:-1], root)


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.integers(0, 255), st.data())
def test_consistency_proofs_verify_and_any_flipped_bit_fails(
    case: tuple[int, int], bit: int, data: st.DataObject
) -> None:
    first, second = case
    tree = big_tree()
    proof = consistency_proof(first, second, tree.get_node(second))
    root1, root2 = tree.roots[first], tree.roots[second]
    assert len(proof) <= (second - 1).bit_length() + 1
    verify_consistency(first, second, root1, root2, proof)

    with pytest.raises(ProofError):
        verify_consistency(first, second, _flip(root1, bit), root2, proof)
    with pytest.raises(ProofError):
        verify_consistency(first, second, root1, _flip(root2, bit), proof)
    with pytest.raises(ProofError, match="too long" if first < second else "empty"):
        verify_consistency(first, second, root1, root2, [*proof, root1])
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        with pytest.raises(ProofError):
            verify_consistency(first, second, root1, root2, bad)
        with pytest.raises(ProofError):
            verify_consistency(first, second, root1, root2, proof[:-1])


@given(st.lists(st.integers(0, 40), min_size=1, max_size=6))
def test_extend_by_batches_equals_appending_one_by_one(batches: list[int]) -> None:
    """The batch path (`extend`, ingest's) reports exactly the interior nodes `append`
    does, in the same order, and reaches the same tree."""
    tree = small_tree()
    one, batched = Frontier(), Frontier()
    expected, got = [], []
    start = 0
    for n in batches:
        chunk = tree.leaves[start : start + n] if start + n <= 70 else []
        for h in chunk:
            expected += [node for node in one.append(h) if node[0] > 0]
        got += batched.extend(chunk)
        start += len(chunk)
        assert (batched.size, batched.hashes, batched.root()) == (one.size, one.hashes, one.root())
    assert got == expected


def test_extend_refuses_a_hash_of_the_wrong_size_and_changes_nothing() -> None:
    frontier = Frontier()
    frontier.extend([leaf_hash(b"a")])
    with pytest.raises(ValueError, match="32 bytes"):
        frontier.extend([leaf_hash(b"b"), b"short"])
    assert frontier.size == 1 and frontier.root() == leaf_hash(b"a")
