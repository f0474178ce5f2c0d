"""The ledger's reads behind its GET routes, shaped as their replies. The rows come from
the storage's own reads: the tree in ledger.py, the sealed store in private.py, the
witnesses' cosignatures in cosignatures.py. Every read of one reply is in one session,
so it sees one committed state of the tree."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import cosignatures, ledger, private
from services.audit.api.schemas import (
    CheckpointOut,
    ConsistencyOut,
    CosignatureSeen,
    EntriesOut,
    EntryOut,
    ErasedOut,
    InclusionProofOut,
    LeafOut,
    OpenedOut,
    OpeningOut,
    OpeningsOut,
    SearchOut,
    StatsOut,
    b64,
)
from services.audit.cosignatures import Cosignature
from services.audit.errors import NO_CHECKPOINT, NO_COSIGNED_CHECKPOINT
from services.audit.ledger import Ledger, SignedCheckpoint
from services.audit.settings import Witness
from shared.domain import DomainError


# --- entries, proofs, search -----------------------------------------------------------------
def _leaf(row: Any, *, with_data: bool = True) -> dict[str, Any]:
    data = row.leaf_data if isinstance(row.leaf_data, bytes) else bytes(row.leaf_data)
    try:
        leaf = orjson.loads(data)
        public, sealed = leaf["public"], leaf["sealed"]
    except (ValueError, KeyError, TypeError):
        public = sealed = None  # stored bytes that no longer parse are served as they are
    served: dict[str, Any] = {
        "index": row.idx,
        "stream_seq": row.stream_seq,
        "subject": row.subject,
        "public": public,
        "sealed": sealed,
        "leaf_hash": b64(row.leaf_hash),
    }
    if with_data:
        served["leaf_data"] = b64(data)  # exactly what is stored: the verifier judges it
    return served


async def entries(session: AsyncSession, start: int, limit: int) -> EntriesOut:
    size = await ledger.committed_size(session)
    rows = await ledger.entries(session, start, min(limit, max(0, size - start)))
    following = start + len(rows)
    return EntriesOut(
        entries=[EntryOut(**_leaf(r)) for r in rows],
        tree_size=size,
        next=following if rows and following < size else None,
    )


async def latest(session: AsyncSession) -> SignedCheckpoint:
    found = await ledger.latest_checkpoint(session)
    if found is None:
        raise DomainError(NO_CHECKPOINT, "the ledger has not signed a checkpoint yet")
    return found


async def inclusion_proof(session: AsyncSession, index: int, tree_size: int) -> InclusionProofOut:
    proof, root, leaf = await ledger.inclusion(session, index, tree_size)
    return InclusionProofOut(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(leaf),
        root_hash=b64(root),
        hashes=[b64(h) for h in proof],
    )


async def consistency_proof(session: AsyncSession, first: int, second: int) -> ConsistencyOut:
    proof = await ledger.consistency(session, first, second)
    return ConsistencyOut(first=first, second=second, hashes=[b64(h) for h in proof])


async def search(session: AsyncSession, *, after: int, limit: int, **filters: Any) -> SearchOut:
    """Entries without their bytes after an index; `limit + 1` are read to know whether
    a next page exists (its cursor is the index to start from)."""
    rows = await ledger.search(session, after=after, limit=limit + 1, **filters)
    more = len(rows) > limit
    rows = rows[:limit]
    return SearchOut(
        entries=[LeafOut(**_leaf(r, with_data=False)) for r in rows],
        next_cursor=str(rows[-1].idx + 1) if more else None,
    )


async def stats(session: AsyncSession, running: Ledger) -> StatsOut:
    size = await ledger.committed_size(session)
    last = await ledger.latest_checkpoint(session)
    flagged = await ledger.count_unparseable(session)
    return StatsOut(
        tree_size=size,
        last_stream_seq=running.last_stream_seq,  # the writer's, read after the tree's
        checkpoint_size=last.tree_size if last else None,
        checkpoint_signed_at=last.signed_at if last else None,
        unparseable_leaves=flagged,
    )


# --- checkpoints ---------------------------------------------------------------------------
async def checkpoint(
    session: AsyncSession, quorum: int, witnesses: tuple[Witness, ...]
) -> tuple[SignedCheckpoint, list[Cosignature]]:
    """The latest checkpoint (with quorum 0), else the latest that `quorum` configured
    witnesses cosigned; with the cosignatures it holds."""
    if quorum == 0:
        chosen = await latest(session)
    else:
        found = await cosignatures.latest_cosigned(session, quorum, witnesses)
        if found is None:
            raise DomainError(
                NO_COSIGNED_CHECKPOINT,
                f"no checkpoint holds {quorum} cosignatures of configured witnesses",
                field="cosigned",
            )
        chosen = found
    return chosen, await cosignatures.held(session, chosen.tree_size)


def checkpoint_json(
    origin: str, chosen: SignedCheckpoint, held: list[Cosignature]
) -> CheckpointOut:
    return CheckpointOut(
        origin=origin,
        tree_size=chosen.tree_size,
        root_hash=b64(chosen.root_hash),
        note=cosignatures.cosigned_note(chosen.note, held),
        signed_at=chosen.signed_at,
        cosignatures=[CosignatureSeen(witness=c.witness, timestamp=c.timestamp) for c in held],
    )


# --- sealed openings -------------------------------------------------------------------------
def _opened(row: Any) -> dict[str, Any]:
    content = bytes(row.content)
    return {
        "index": row.idx,
        "kind": row.kind,
        "salt": b64(bytes(row.salt)),
        "content": b64(content),  # exactly the bytes committed to
        "envelope": orjson.loads(content) if row.kind == "envelope" else None,
    }


async def sealed_row(session: AsyncSession, index: int) -> tuple[int, Any]:
    """The tree's size, and the leaf's private row if the index is in the tree."""
    size = await ledger.committed_size(session)
    return size, await private.opening(session, index) if index < size else None


def opening(row: Any) -> OpeningOut:
    return OpeningOut(**_opened(row))


async def openings(session: AsyncSession, start: int, limit: int) -> OpeningsOut:
    size = await ledger.committed_size(session)
    rows = await private.openings(session, start, min(start + limit, size))
    following = start + len(rows)
    return OpeningsOut(
        entries=[
            ErasedOut(index=r.idx, erased=True, erasure_id=r.erasure_id)
            if r.erased_at is not None
            else OpenedOut(erased=False, **_opened(r))
            for r in rows
        ],
        tree_size=size,
        next=following if rows and following < size else None,
    )
