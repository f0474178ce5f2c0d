"""The ledger's storage: leaves and their private store, perfect-subtree nodes, cursor,
signed checkpoints.

A single writer appends; every append stores the leaves, their private rows (salt and
content), the subtree nodes they complete and the stream cursor in one transaction, so a
crash loses or repeats nothing. Proofs read O(log n) stored nodes; the tree is never
rebuilt per request (docs/architecture.md#the-ledger).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, union_all, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.audit.domain.leaf import Leaf
from services.audit.tables import (
    ACTOR_LENGTH,
    LEVEL_SHIFT,
    checkpoints,
    cursor,
    leaves,
    node_key,
    nodes,
    receipts,
    sealed,
)
from shared.bulk import BulkInsert
from shared.checkpoint import Signer, sign_checkpoint
from shared.events import utcnow
from shared.merkle import Frontier, consistency_proof, inclusion_proof, needed_nodes, subtree_root

# Reads run on the writer's connection or on a route's read session alike.
Executor = AsyncSession | AsyncConnection


@dataclass(frozen=True)
class SignedCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    signed_at: datetime


async def fetch_nodes(
    conn: Executor, wanted: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Every wanted node in one round trip: leaf hashes (level 0, keyed by their index)
    from the leaves, the others from the nodes."""
    keys = sorted({node_key(level, i) for level, i in wanted})
    if not keys:
        return {}
    query = union_all(
        select(leaves.c.idx.label("id"), leaves.c.leaf_hash.label("hash")).where(
            leaves.c.idx.in_([k for k in keys if k >> LEVEL_SHIFT == 0])
        ),
        select(nodes.c.id, nodes.c.hash).where(
            nodes.c.id.in_([k for k in keys if k >> LEVEL_SHIFT > 0])
        ),
    )
    mask = (1 << LEVEL_SHIFT) - 1
    found = {(key >> LEVEL_SHIFT, key & mask): h for key, h in await conn.execute(query)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise LookupError(f"ledger nodes missing from storage: {missing[:5]}")
    return found


async def compute(conn: Executor, build: Callable[[Callable[[int, int], bytes]], Any]) -> Any:
    """Run a pure proof builder over stored nodes, fetched in one go."""
    stored = await fetch_nodes(conn, needed_nodes(build))
    return build(lambda level, index: stored[(level, index)])


class Ledger:
    """The single writer's view: cursor and frontier in memory, mirrored in the database."""

    def __init__(self, engine: AsyncEngine, signer: Signer, origin: str) -> None:
        self.engine = engine
        self.signer = signer
        self.origin = origin
        self.frontier = Frontier()
        self.last_stream_seq = 0
        self.latest: SignedCheckpoint | None = None
        self._bulk: tuple[BulkInsert, BulkInsert, BulkInsert] | None = None
        self.grown = asyncio.Event()  # set by each append: the checkpoint loop wakes

    @property
    def size(self) -> int:
        return self.frontier.size

    async def load(self) -> None:
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(cursor).where(cursor.c.id == 1))).first()
            if row is None:
                await conn.execute(insert(cursor).values(id=1, last_stream_seq=0, tree_size=0))
                size = 0
            else:
                self.last_stream_seq, size = row.last_stream_seq, row.tree_size
            self.frontier = await compute(conn, lambda get: Frontier.from_nodes(size, get))
            self.latest = await latest_checkpoint(conn)
        if self.latest is None or self.latest.tree_size < self.size:
            await self.checkpoint()

    async def append(self, batch: Sequence[Leaf]) -> int:
        """Append leaves past the cursor, in order; a redelivered one is skipped."""
        fresh = [leaf for leaf in batch if leaf.stream_seq > self.last_stream_seq]
        fresh = [
            leaf
            for i, leaf in enumerate(fresh)
            if i == 0 or leaf.stream_seq > fresh[i - 1].stream_seq
        ]
        if not fresh:
            return 0
        frontier = copy.deepcopy(self.frontier)  # adopted only once the transaction commits
        start = frontier.size
        node_rows = [
            (node_key(level, index), hash_)
            for level, index, hash_ in frontier.extend([leaf.hash for leaf in fresh])
        ]
        leaf_rows, sealed_rows, receipt_rows = [], [], []
        for idx, leaf in enumerate(fresh, start):
            unparseable = leaf.reason is not None
            if leaf.receipt is not None:
                receipt_rows.append({"receipt_commitment": leaf.receipt, "idx": idx})
            event_id, type_, aggregate_id, actor, occurred_at = leaf.search
            leaf_rows.append(
                (
                    idx,
                    leaf.stream_seq,
                    leaf.subject,
                    leaf.data,
                    leaf.hash,
                    unparseable,
                    type_,
                    leaf.day,
                )
            )
            sealed_rows.append(
                (
                    idx,
                    "raw" if unparseable else "envelope",
                    leaf.salt,
                    leaf.content,
                    event_id,
                    type_,
                    aggregate_id,
                    # An actor no search column holds is still sealed in the content.
                    actor if actor is None or len(actor) <= ACTOR_LENGTH else None,
                    occurred_at,
                    None,  # erased_at
                    None,  # erasure_id
                )
            )
        async with self.engine.begin() as conn:
            # The cursor first: it opens the transaction the bulk writes join.
            await conn.execute(
                update(cursor)
                .where(cursor.c.id == 1)
                .values(last_stream_seq=fresh[-1].stream_seq, tree_size=frontier.size)
            )
            to_leaves, to_sealed, to_nodes = self._inserts(conn.dialect)
            await to_leaves.execute(conn, leaf_rows)
            await to_sealed.execute(conn, sealed_rows)
            if node_rows:
                await to_nodes.execute(conn, node_rows)
            if receipt_rows:  # a few per batch at most: no bulk path needed
                await conn.execute(insert(receipts), receipt_rows)
        self.frontier = frontier
        self.last_stream_seq = fresh[-1].stream_seq
        self.grown.set()
        return len(fresh)

    def _inserts(self, dialect: Dialect) -> tuple[BulkInsert, BulkInsert, BulkInsert]:
        if self._bulk is None:
            self._bulk = (
                BulkInsert(leaves, dialect),
                BulkInsert(sealed, dialect),
                BulkInsert(nodes, dialect),
            )
        return self._bulk

    async def checkpoint(self) -> SignedCheckpoint | None:
        """Sign the current tree if it grew since the last checkpoint."""
        size = self.size
        if self.latest is not None and self.latest.tree_size >= size:
            return None
        root = self.frontier.root()
        note = sign_checkpoint(self.signer, self.origin, size, root)
        signed = SignedCheckpoint(size, root, note, utcnow())
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(checkpoints).values(
                    tree_size=size, root_hash=root, note=note, signed_at=signed.signed_at
                )
            )
        self.latest = signed
        return signed


# --- reads (any process; they use only committed rows) -------------------------------------
async def committed_size(conn: Executor) -> int:
    return int(await conn.scalar(select(cursor.c.tree_size).where(cursor.c.id == 1)) or 0)


async def latest_checkpoint(conn: Executor) -> SignedCheckpoint | None:
    row = (
        await conn.execute(select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1))
    ).first()
    return SignedCheckpoint(*row) if row else None


async def entries(conn: Executor, start: int, limit: int) -> list[Any]:
    return list(
        await conn.execute(
            select(leaves)
            .where(leaves.c.idx >= start, leaves.c.idx < start + limit)
            .order_by(leaves.c.idx)
        )
    )


async def inclusion(conn: Executor, index: int, tree_size: int) -> tuple[list[bytes], bytes, bytes]:
    """The proof, the root at `tree_size` and the leaf's hash, from one fetch of nodes."""

    def build(get: Callable[[int, int], bytes]) -> tuple[list[bytes], bytes, bytes]:
        return (
            inclusion_proof(index, tree_size, get),
            subtree_root(0, tree_size, get),
            get(0, index),
        )

    result: tuple[list[bytes], bytes, bytes] = await compute(conn, build)
    return result


async def consistency(conn: Executor, first: int, second: int) -> list[bytes]:
    result: list[bytes] = await compute(conn, lambda get: consistency_proof(first, second, get))
    return result


async def search(
    conn: Executor,
    *,
    after: int,
    limit: int,
    type: str | None = None,
    since: str | None = None,
    until: str | None = None,
    aggregate_id: Any = None,
    actor: str | None = None,
) -> list[Any]:
    """Leaves after an index, by public filters (type, days) and, for auditors, private
    ones (aggregate, actor: an erased leaf no longer matches them)."""
    query = select(leaves).where(leaves.c.idx > after)
    if type is not None:
        query = query.where(leaves.c.type == type)
    if since is not None:
        query = query.where(leaves.c.day >= since)
    if until is not None:
        query = query.where(leaves.c.day <= until)
    if aggregate_id is not None or actor is not None:
        query = query.join(sealed, sealed.c.idx == leaves.c.idx)
        if aggregate_id is not None:
            query = query.where(sealed.c.aggregate_id == aggregate_id)
        if actor is not None:
            query = query.where(sealed.c.actor == actor)
    return list(await conn.execute(query.order_by(leaves.c.idx).limit(limit)))


async def receipt_leaf(conn: Executor, commitment: str) -> int | None:
    """The first leaf of the hand-over whose receipt code has this commitment."""
    found = await conn.scalar(
        select(func.min(receipts.c.idx)).where(receipts.c.receipt_commitment == commitment)
    )
    return None if found is None else int(found)


async def public_leaves(conn: Executor, start: int, end: int, types: Sequence[str]) -> list[Any]:
    """(idx, leaf_data) of the leaves of these types in [start, end), in index order."""
    return list(
        await conn.execute(
            select(leaves.c.idx, leaves.c.leaf_data)
            .where(leaves.c.idx >= start, leaves.c.idx < end, leaves.c.type.in_(types))
            .order_by(leaves.c.idx)
        )
    )


async def count_unparseable(conn: Executor) -> int:
    return int(
        await conn.scalar(
            select(func.count()).select_from(leaves).where(leaves.c.unparseable.is_(True))
        )
        or 0
    )
