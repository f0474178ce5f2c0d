"""RFC 9162 §2.1 Merkle trees over SHA-256: hashing, proofs and verification, no I/O.

Stores persist *perfect subtree nodes*: node (level L, index i) is the root of the
complete subtree over leaves [i * 2**L, (i + 1) * 2**L); level 0 nodes are leaf hashes.
Every root, inclusion proof and consistency proof of an RFC 9162 tree is composed
of such nodes, so a server answers any of them with O(log n) node look-ups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

GetNode = Callable[[int, int], bytes]
"""Look up the perfect subtree node at ``(level, index)``."""

Node = tuple[int, int, bytes]
"""A perfect subtree node as ``(level, index, hash)``."""


class ProofError(ValueError):
    """A Merkle proof, or a value it is checked against, does not verify."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    # The RFC split makes each perfect subtree (largest first) the left child
    # of everything to its right, so a compact range folds from the right.
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = node_hash(h, root)
    return root


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The tree head over ``hashes``, computed level by level."""
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        # An unpaired last node moves up unchanged: that is the RFC split rule.
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Frontier:
    """Compact range over leaves [0, size): one perfect subtree root per set bit of size."""

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []  # largest (leftmost) subtree first

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    @classmethod
    def from_nodes(cls, size: int, get_node: GetNode) -> Frontier:
        """Rebuild the frontier of a tree of ``size`` leaves from persisted nodes."""
        if size < 0:
            raise ValueError(f"tree size must be >= 0, got {size}")
        frontier = cls()
        frontier._hashes = [get_node(level, index) for level, index in _decompose(0, size)]
        for h in frontier._hashes:
            _require_hash_size("stored node", h, ValueError)
        frontier._size = size
        return frontier

    def append(self, leaf: bytes) -> list[Node]:
        """Add a leaf hash; return every perfect subtree node completed by it, leaf first."""
        _require_hash_size("leaf hash", leaf, ValueError)
        index = self._size
        created: list[Node] = [(0, index, leaf)]
        self._hashes.append(leaf)
        level = 0
        # Each trailing 1-bit of the old size is a subtree that now has a right sibling.
        while (index >> level) & 1:
            right = self._hashes.pop()
            left = self._hashes.pop()
            level += 1
            merged = node_hash(left, right)
            self._hashes.append(merged)
            created.append((level, index >> level, merged))
        self._size += 1
        return created

    def extend(self, leaves: Sequence[bytes]) -> list[Node]:
        """Add leaf hashes in order; return the interior nodes (level >= 1) they complete,
        in the order `append` would. A batch's loop without `append`'s per-leaf lists."""
        for leaf in leaves:
            _require_hash_size("leaf hash", leaf, ValueError)
        hashes, created = self._hashes, []
        sha256 = hashlib.sha256
        for index in range(self._size, self._size + len(leaves)):
            merged = leaves[index - self._size]
            hashes.append(merged)
            level = 0
            while (index >> level) & 1:
                hashes.pop()
                merged = sha256(b"\x01" + hashes.pop() + merged).digest()
                hashes.append(merged)
                level += 1
                created.append((level, index >> level, merged))
        self._size += len(leaves)
        return created

    def root(self) -> bytes:
        """The tree head at the current size."""
        return _fold_right(self._hashes) if self._hashes else EMPTY_ROOT


def _decompose(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect nodes ``(level, index)`` making up an aligned range, left to right."""
    size = end - start
    nodes: list[tuple[int, int]] = []
    for level in reversed(range(size.bit_length())):
        if (size >> level) & 1:
            if start % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned to perfect subtrees")
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def subtree_root(start: int, end: int, get_node: GetNode) -> bytes:
    """RFC 9162 hash of leaves [start, end) from perfect nodes.

    ``start`` must be a multiple of the largest power of two <= ``end - start``,
    which holds for every subtree the RFC recursion visits.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    return _fold_right([get_node(level, index) for level, index in _decompose(start, end)])


def inclusion_proof(index: int, tree_size: int, get_node: GetNode) -> list[bytes]:
    """RFC 9162 §2.1.3.1 audit path for leaf ``index`` in a tree of ``tree_size``."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} outside tree of size {tree_size}")
    proof: list[bytes] = []  # collected top-down, the RFC lists it bottom-up
    start, end = 0, tree_size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            proof.append(subtree_root(mid, end, get_node))
            end = mid
        else:
            proof.append(subtree_root(start, mid, get_node))
            start = mid
    proof.reverse()
    return proof


def consistency_proof(first: int, second: int, get_node: GetNode) -> list[bytes]:
    """RFC 9162 §2.1.4.1 proof that the tree of ``first`` leaves is a prefix of ``second``."""
    if not 0 < first <= second:
        raise ValueError(f"need 0 < first <= second, got first={first} second={second}")
    proof: list[bytes] = []  # collected top-down, reversed at the end
    start, end = 0, second
    known = True  # whether the verifier already holds the hash of [start, first)
    while end > first:
        mid = start + _split(end - start)
        if first <= mid:
            proof.append(subtree_root(mid, end, get_node))
            end = mid
        else:
            proof.append(subtree_root(start, mid, get_node))
            start = mid
            known = False
    if not known:
        proof.append(subtree_root(start, end, get_node))
    proof.reverse()
    return proof


def needed_nodes(build: Callable[[GetNode], object]) -> list[tuple[int, int]]:
    """The ``(level, index)`` nodes ``build`` looks up, in order, so a store can batch-fetch.

    Example: ``needed_nodes(lambda get: inclusion_proof(5, 9, get))``.
    """
    seen: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        seen.append((level, index))
        return bytes(HASH_SIZE)

    build(record)
    return seen


def inclusion_proof_from_leaves(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Audit path straight from the RFC recursion over in-memory leaf hashes."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf index {index} outside tree of size {len(leaf_hashes)}")
    if len(leaf_hashes) == 1:
        return []
    k = _split(len(leaf_hashes))
    if index < k:
        return [
            *inclusion_proof_from_leaves(index, leaf_hashes[:k]),
            root_from_leaf_hashes(leaf_hashes[k:]),
        ]
    return [
        *inclusion_proof_from_leaves(index - k, leaf_hashes[k:]),
        root_from_leaf_hashes(leaf_hashes[:k]),
    ]


def consistency_proof_from_leaves(first: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof straight from the RFC SUBPROOF recursion over in-memory leaves."""
    if not 0 < first <= len(leaf_hashes):
        raise ValueError(f"need 0 < first <= {len(leaf_hashes)}, got {first}")
    return _subproof(first, leaf_hashes, True)


def _subproof(m: int, leaves: Sequence[bytes], known: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if known else [root_from_leaf_hashes(leaves)]
    k = _split(len(leaves))
    if m <= k:
        return [*_subproof(m, leaves[:k], known), root_from_leaf_hashes(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root_from_leaf_hashes(leaves[:k])]


def _require_hash_size(what: str, value: bytes, error: type[ValueError] = ProofError) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _shift_to_set_bit(fn: int, sn: int) -> tuple[int, int]:
    # Skip the levels where this node is a right edge with no sibling in the tree.
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(
    index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an audit path (RFC 9162 §2.1.3.2); raise ProofError if it does not verify."""
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} outside tree of size {tree_size}")
    _require_hash_size("leaf hash", leaf_hash)
    _require_hash_size("root", root)
    for p in proof:
        _require_hash_size("proof hash", p)
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_to_set_bit(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof (RFC 9162 §2.1.4.2); raise ProofError if it does not verify."""
    if first < 0 or second < first:
        raise ProofError(f"need 0 <= first <= second, got first={first} second={second}")
    if first == 0:
        # Every tree extends the empty one; accepting it would let a client skip the check.
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if first == second:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if first_root != second_root:
            raise ProofError("trees of equal size have different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _require_hash_size("first root", first_root)
    _require_hash_size("second root", second_root)
    for p in proof:
        _require_hash_size("proof hash", p)
    path = list(proof)
    if (first & (first - 1)) == 0:
        # A power-of-two first tree is itself a node of the second: the proof omits it.
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_to_set_bit(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root:
        raise ProofError("consistency proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("consistency proof does not lead to the second root")
