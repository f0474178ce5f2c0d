"""What commands read of the read models, in their own transaction: the facts of other
aggregates and of the registry's households that the deciders judge."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.distribution.domain.allocation import EligibleHousehold, OfficerFacts, RoundFacts
from services.distribution.domain.ids import budget_id, officer_id
from services.distribution.domain.round import RoundStatus
from services.distribution.errors import ROUND_NOT_FOUND
from services.distribution.projections import (
    TOTALS,
    allocations,
    budgets,
    certificates,
    rounds,
)
from services.registry.published import households
from shared.domain import DomainError
from shared.events.distribution import PackageItem, Programme


async def budget_exists(session: AsyncSession, programme: Programme, period: str) -> bool:
    wanted = budget_id(programme, period)
    found = await session.scalar(select(budgets.c.budget_id).where(budgets.c.budget_id == wanted))
    return found is not None


async def round_facts(session: AsyncSession, round_id: UUID) -> RoundFacts:
    """The round an allocation is made in, with its budget's benefit and package."""
    row = (
        await session.execute(
            select(rounds, budgets.c.benefit_idr, budgets.c.package)
            .join(budgets, budgets.c.budget_id == rounds.c.budget_id)
            .where(rounds.c.round_id == round_id)
        )
    ).first()
    if row is None:
        raise DomainError(ROUND_NOT_FOUND, f"no round {round_id}", field="round_id")
    return RoundFacts(
        round_id=round_id,
        status=row.status,
        programme=row.programme,
        period=row.period,
        rws=tuple(p["rw"] for p in row.poskos),
        benefit_idr=row.benefit_idr,
        package=tuple(PackageItem(**i) for i in row.package),
    )


def _household(row: Any) -> EligibleHousehold:
    return EligibleHousehold(
        household_id=row.household_id,
        active=row.active,
        eligible=row.eligible,
        rt=row.rt,
        rw=row.rw,
        member_commitments=tuple(row.member_commitments),
        decided_by_event_id=row.decided_by_event_id,
    )


async def household(session: AsyncSession, household_id: UUID) -> EligibleHousehold | None:
    """The household as the registry's events describe it; None if never announced."""
    row = (
        await session.execute(select(households).where(households.c.household_id == household_id))
    ).first()
    return _household(row) if row is not None else None


async def allocatable(session: AsyncSession, r: RoundFacts) -> list[EligibleHousehold]:
    """Active, eligible households of the round's RWs with nothing of its programme for
    its period yet, in any round."""
    taken = (
        select(allocations.c.household_id)
        .join(rounds, rounds.c.round_id == allocations.c.round_id)
        .where(rounds.c.programme == r.programme, rounds.c.period == r.period)
    )
    h = households.c
    rows = await session.execute(
        select(households)
        .where(
            h.rw.in_(r.rws),
            h.active.is_(True),
            h.eligible.is_(True),
            h.decided_by_event_id.is_not(None),
            h.household_id.not_in(taken),
        )
        .order_by(h.rw, h.rt)
    )
    return [_household(row) for row in rows]


async def officer(session: AsyncSession, officer_sub: str, on: date) -> OfficerFacts:
    """The officer, and until when a certificate valid on `on` holds (None: none does)."""
    c = certificates.c
    until = await session.scalar(
        select(func.max(c.expires_on)).where(
            c.officer_sub == officer_sub, c.certified_on <= on, c.expires_on >= on
        )
    )
    return OfficerFacts(officer_id=officer_id(officer_sub), certified_until=until)


async def hand_over(session: AsyncSession, allocation_id: UUID) -> tuple[RoundStatus, list[str]]:
    """The allocation's round status and its household's member commitments. Nothing for
    an allocation never made: the unit of work answers `allocation_not_found` for it."""
    row = (
        await session.execute(
            select(rounds.c.status, households.c.member_commitments)
            .select_from(allocations)
            .join(rounds, rounds.c.round_id == allocations.c.round_id)
            .join(households, households.c.household_id == allocations.c.household_id)
            .where(allocations.c.allocation_id == allocation_id)
        )
    ).first()
    return (row.status, row.member_commitments) if row is not None else ("new", [])


async def lock_round_totals(session: AsyncSession, round_id: UUID) -> dict[str, int]:
    """The round's totals, its row locked until the command commits: a hand-over
    committing meanwhile is counted, a later one finds the round closed (see
    projections.count_hand_over). Zeros for a round never scheduled: the unit of work
    answers `round_not_found` for it."""
    row = (
        await session.execute(
            select(*(rounds.c[name] for name in TOTALS))
            .where(rounds.c.round_id == round_id)
            .with_for_update()
        )
    ).first()
    return dict(row._mapping) if row is not None else dict.fromkeys(TOTALS, 0)
