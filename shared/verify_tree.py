"""The tree half of `bansos verify`: every served entry against its hashed bytes, every leaf
folded into a Frontier (O(log n) memory), and a bisection for the first leaf outside the
signed tree. Leaf data (ledger v2) is RFC 8785 JSON of exactly
``{"public": view, "sealed": hex SHA-256(salt || content), "stream_seq": n, "subject": s}``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from shared.events import canonical_json
from shared.ledger_client import VerificationError, consistent, get_json, unb64
from shared.merkle import Frontier, leaf_hash

Progressed = Callable[[int, int], None]
LEAF_KEYS = {"public", "sealed", "stream_seq", "subject"}
_SEALED = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Leaf:
    """What a checked leaf commits to in the clear, for the sealed check beside it."""

    index: int
    stream_seq: int
    public: dict[str, Any]
    sealed: str


# Called with each checked page of leaves, in index order (the sealed check hooks in here).
PageCheck = Callable[[Sequence[Leaf]], None]


@dataclass
class Prefix:
    """Leaves [0, size) folded into a frontier plus the last stream_seq: enough to resume."""

    frontier: Frontier
    last_seq: int | None = None


def same_json(a: Any, b: Any) -> bool:
    # Compare canonical bytes, not Python values: in Python True == 1 and 1 == 1.0.
    try:
        return canonical_json(a) == canonical_json(b)
    except ValueError:
        return False


def _parse_leaf(data: bytes, index: int) -> dict[str, Any]:
    leaf: Any = None
    try:
        leaf = json.loads(data)
        # Re-encoding must give the same bytes: one leaf, one spelling (no duplicate keys).
        canonical = isinstance(leaf, dict) and canonical_json(leaf) == data
    except ValueError:
        canonical = False
    if not canonical:
        raise VerificationError(index, "leaf_data is not a canonical JSON object")
    if set(leaf) != LEAF_KEYS:
        raise VerificationError(index, f"leaf_data must hold exactly {sorted(LEAF_KEYS)}")
    if not isinstance(leaf["public"], dict):
        raise VerificationError(index, "leaf_data's public view is not an object")
    if not isinstance(leaf["sealed"], str) or not _SEALED.fullmatch(leaf["sealed"]):
        raise VerificationError(index, "leaf_data's sealed is not 64 lowercase hex digits")
    if type(leaf["stream_seq"]) is not int or not isinstance(leaf["subject"], str):
        raise VerificationError(index, "leaf_data's stream_seq or subject has the wrong type")
    parsed: dict[str, Any] = leaf
    return parsed


def check_leaf_fields(data: bytes, entry: dict[str, Any], index: int) -> Leaf:
    """The hashed bytes must say what the entry says."""
    leaf = _parse_leaf(data, index)
    for name in ("stream_seq", "subject", "sealed"):
        if leaf[name] != entry.get(name) or type(leaf[name]) is not type(entry.get(name)):
            raise VerificationError(index, f"leaf_data disagrees with the entry's {name}")
    if not same_json(leaf["public"], entry.get("public")):
        raise VerificationError(index, "leaf_data disagrees with the entry's public view")
    return Leaf(index, leaf["stream_seq"], leaf["public"], leaf["sealed"])


def check_entry(entry: Any, index: int, last_seq: int | None) -> tuple[bytes, Leaf]:
    """Check one served entry on its own and against its predecessor; return (hash, leaf)."""
    if not isinstance(entry, dict):
        raise VerificationError(index, "entry is not a JSON object")
    served_index = entry.get("index")
    if type(served_index) is int and served_index > index:
        raise VerificationError(index, "missing entry (gap in the ledger)")
    if served_index != index:
        raise VerificationError(index, f"unexpected entry index {served_index!r}")
    data = unb64(entry.get("leaf_data"), index, "leaf_data")
    digest = leaf_hash(data)
    if digest != unb64(entry.get("leaf_hash"), index, "leaf_hash"):
        raise VerificationError(index, "leaf_hash does not match leaf_data")
    leaf = check_leaf_fields(data, entry, index)
    if last_seq is not None and leaf.stream_seq != last_seq + 1:
        raise VerificationError(index, f"gap in stream_seq: {last_seq} then {leaf.stream_seq}")
    return digest, leaf


def extend(
    client: httpx.Client,
    prefix: Prefix,
    end: int,
    page_size: int,
    progress: Progressed | None = None,
    on_page: PageCheck | None = None,
) -> None:
    """Download, check and fold entries [prefix size, end) into ``prefix``."""
    while (start := prefix.frontier.size) < end:
        # Always ask from the next index we need: the server's "next" is not trusted.
        page = get_json(client, "/ledger/entries", start=start, limit=min(page_size, end - start))
        entries = page.get("entries")
        if not isinstance(entries, list) or not entries:
            raise VerificationError(start, "missing entry (gap in the ledger)")
        leaves = []
        for entry in entries[: end - start]:
            digest, leaf = check_entry(entry, prefix.frontier.size, prefix.last_seq)
            prefix.frontier.append(digest)
            prefix.last_seq = leaf.stream_seq
            leaves.append(leaf)
        if on_page is not None:
            on_page(leaves)
        if progress is not None:
            progress(prefix.frontier.size, end)


def first_bad_leaf(client: httpx.Client, size: int, root: bytes, page_size: int) -> int:
    """Bisect for the first leaf outside the signed tree, using the server's own proofs.

    Prefix m is good iff the server can prove our root of its first m leaves is a prefix
    of the signed tree. The frontier of the last good prefix is kept, so each step only
    downloads [good, mid): the whole search re-reads at most ``size`` entries.
    """
    good, bad = Prefix(Frontier()), size  # the empty prefix is good, the whole tree is not
    while bad - good.frontier.size > 1:
        mid = (good.frontier.size + bad) // 2
        trial = copy.deepcopy(good)
        extend(client, trial, mid, page_size)
        if consistent(client, mid, size, trial.frontier.root(), root):
            good = trial
        else:
            bad = mid
    return bad - 1


def check_history(
    client: httpx.Client,
    trusted: tuple[int, bytes],
    local: bytes | None,
    signed: tuple[int, bytes],
    may_lag: bool,
) -> None:
    """The tree we trusted and the one signed now must be one history, by our own leaves
    and by proof. ``local`` is our root of the first trusted-size leaves (when the signed
    tree is at least that big). A signed tree smaller than the trusted one is a shrink,
    unless ``may_lag`` (a cosigned checkpoint may trail the newest): then it must be a
    prefix of the trusted tree."""
    (old_size, old_root), (size, root) = trusted, signed
    rewritten = f"the log was rewritten since the checkpoint you trusted (size {old_size})"
    if size < old_size:
        if not may_lag:
            raise VerificationError(None, f"{rewritten}: it now has only {size} entries")
        if size > 0 and not consistent(client, size, old_size, root, old_root):
            raise VerificationError(None, rewritten)
    elif local != old_root or not consistent(client, old_size, size, old_root, root):
        raise VerificationError(None, rewritten)
