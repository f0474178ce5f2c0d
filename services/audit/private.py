"""The ledger's private store: each leaf's salt and content (what its commitment opens
to), for auditors only; and erasure, which deletes them and leaves the leaf as it was,
and keeps the erasure's request (its reference) beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.audit.domain.erasure import LINKING_TYPES, Household, Target, might_hold
from services.audit.tables import erasures, receipts, sealed
from shared.events.audit import LegalBasis
from shared.pii import SaltedCommitment

Executor = AsyncSession | AsyncConnection
SCAN_PAGE = 2000
CHUNK = 5000  # ids per IN list, well inside every driver's parameter limit


async def opening(db: Executor, index: int) -> Any:
    return (await db.execute(select(sealed).where(sealed.c.idx == index))).first()


async def openings(db: Executor, start: int, end: int) -> list[Any]:
    return list(
        await db.execute(
            select(sealed).where(sealed.c.idx >= start, sealed.c.idx < end).order_by(sealed.c.idx)
        )
    )


# --- erasure --------------------------------------------------------------------------------
async def matching(db: Executor, target: Target, target_id: UUID) -> list[int]:
    """Indices of the leaves not yet erased that belong to the household or aggregate,
    locked (PostgreSQL) until the transaction ends, so two erasures never share one."""
    live = (sealed.c.content.is_not(None), sealed.c.kind == "envelope")
    if target == "aggregate":
        rows = await db.execute(
            select(sealed.c.idx)
            .where(*live, sealed.c.aggregate_id == target_id)
            .order_by(sealed.c.idx)
            .with_for_update()
        )
        return [idx for (idx,) in rows]
    household = Household(target_id)
    linking = await db.execute(
        select(sealed.c.content).where(*live, sealed.c.type.in_(LINKING_TYPES))
    )
    household = household.linked_by(
        orjson.loads(content) for (content,) in linking if might_hold(content, household.needles)
    )
    found = [idx async for idx in _scan(db, household)]
    return await _lock(db, found)


async def _scan(db: Executor, household: Household) -> AsyncIterator[int]:
    """Every live envelope, a page at a time: erasures are rare, and a byte test spares
    parsing all but the few that name one of the household's ids."""
    needles, after = household.needles, -1
    while True:
        rows = list(
            await db.execute(
                select(sealed.c.idx, sealed.c.content)
                .where(
                    sealed.c.idx > after,
                    sealed.c.content.is_not(None),
                    sealed.c.kind == "envelope",
                )
                .order_by(sealed.c.idx)
                .limit(SCAN_PAGE)
            )
        )
        for idx, content in rows:
            if might_hold(content, needles) and household.owns(orjson.loads(content)):
                yield idx
        if len(rows) < SCAN_PAGE:
            return
        after = rows[-1][0]


async def _lock(db: Executor, indices: Sequence[int]) -> list[int]:
    locked: list[int] = []
    for start in range(0, len(indices), CHUNK):
        rows = await db.execute(
            select(sealed.c.idx)
            .where(sealed.c.idx.in_(indices[start : start + CHUNK]), sealed.c.content.is_not(None))
            .order_by(sealed.c.idx)
            .with_for_update()
        )
        locked += [idx for (idx,) in rows]
    return locked


async def erase(db: Executor, indices: Sequence[int], erasure_id: UUID, now: datetime) -> None:
    """Delete what the leaves commit to, the personal search columns with it, and the
    receipt index (an erased hand-over is no longer found by its receipt code)."""
    for start in range(0, len(indices), CHUNK):
        await db.execute(delete(receipts).where(receipts.c.idx.in_(indices[start : start + CHUNK])))
        await db.execute(
            update(sealed)
            .where(sealed.c.idx.in_(indices[start : start + CHUNK]))
            .values(
                salt=None,
                content=None,
                event_id=None,
                aggregate_id=None,
                actor=None,
                erased_at=now,
                erasure_id=erasure_id,
            )
        )


async def record_erasure(
    db: Executor,
    erasure_id: UUID,
    *,
    legal_basis: LegalBasis,
    target: Target,
    reference: str,
    committed: SaltedCommitment,
    leaves: int,
    requested_by: str,
    requested_at: datetime,
) -> None:
    """The request: its reference (e.g. a letter number) with the salt of the commitment
    that the audit.leaves_erased event carries, who asked and when."""
    await db.execute(
        insert(erasures).values(
            erasure_id=erasure_id,
            legal_basis=legal_basis,
            target=target,
            reference=reference,
            reference_salt=committed.salt,
            leaves=leaves,
            requested_by=requested_by,
            requested_at=requested_at,
        )
    )
