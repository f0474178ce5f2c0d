"""Read-model SQL of the verification routes (issue 15)."""

from __future__ import annotations

from collections import Counter
from typing import Any, get_args
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.community.api.verification_schemas import (
    RoundVerification,
    RwVerification,
    SampleOut,
    VerificationOut,
)
from services.community.verification_projections import (
    handovers,
    sample_members,
    samples,
    verifications,
)
from shared.events.community_verification import Discrepancy
from shared.events.public import SMALL_CELL, suppressed


async def sample(session: AsyncSession, round_id: UUID) -> SampleOut | None:
    row = (await session.execute(select(samples).where(samples.c.round_id == round_id))).first()
    if row is None:
        return None
    members = await session.scalars(
        select(sample_members.c.allocation_id)
        .where(sample_members.c.round_id == round_id)
        .order_by(sample_members.c.position)
    )
    return SampleOut(**row._mapping, allocation_ids=list(members))


async def verification(session: AsyncSession, allocation_id: UUID) -> VerificationOut:
    row = (
        await session.execute(
            select(verifications).where(verifications.c.allocation_id == allocation_id)
        )
    ).one()
    return VerificationOut.model_validate(
        {k: v for k, v in row._mapping.items() if k not in ("verified_at", "facilitator")}
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole >= SMALL_CELL else None


async def round_verification(session: AsyncSession, round_id: UUID) -> RoundVerification | None:
    """Counts per round and per RW of the sample; small cells suppressed (public)."""
    drawn = (await session.execute(select(samples).where(samples.c.round_id == round_id))).first()
    if drawn is None:
        return None
    sampled_rws = Counter(
        await session.scalars(
            select(handovers.c.rw)
            .join(sample_members, sample_members.c.allocation_id == handovers.c.allocation_id)
            .where(sample_members.c.round_id == round_id)
        )
    )
    done = list(
        await session.execute(
            select(verifications.c.rw, verifications.c.discrepancies).where(
                verifications.c.round_id == round_id
            )
        )
    )
    kinds: Counter[str] = Counter(k for r in done for k in r.discrepancies)
    verified_rws = Counter(r.rw for r in done)
    flagged_rws = Counter(r.rw for r in done if r.discrepancies)
    per_rw = []
    for rw in sorted(sampled_rws):
        sampled, verified, flagged = sampled_rws[rw], verified_rws[rw], flagged_rws[rw]
        per_rw.append(
            RwVerification(
                rw=rw,
                sampled=suppressed(sampled),
                verified=suppressed(verified),
                with_discrepancy=suppressed(flagged),
                verification_rate=_rate(verified, sampled),
                discrepancy_rate=_rate(flagged, verified),
            )
        )
    shown: dict[Any, int | str] = {k: suppressed(kinds[k]) for k in get_args(Discrepancy)}
    return RoundVerification(
        round_id=round_id,
        sample_size=drawn.k,
        tree_size=drawn.tree_size,
        root_hash=drawn.root_hash,
        verified=suppressed(len(done)),
        discrepancies=shown,
        per_rw=per_rw,
    )
