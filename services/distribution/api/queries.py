"""Distribution's read-model SQL behind its GET routes (and the replies of its commands)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.distribution.api.schemas import (
    AllocationOut,
    BudgetOut,
    CertificateStatus,
    ManifestItem,
    RoundOut,
    RoundSummaryOut,
    RwTotals,
)
from services.distribution.private import latest_note
from services.distribution.projections import (
    TOTALS,
    allocations,
    budgets,
    certificates,
    rounds,
)
from services.registry.published import households
from shared.events.distribution import Programme


# --- budgets and officers ------------------------------------------------------------------
def _budgets() -> Any:
    b = budgets.c
    return select(
        b.budget_id,
        b.programme,
        b.period,
        b.total_idr,
        b.allocated_idr,
        (b.total_idr - b.allocated_idr).label("remaining_idr"),
        b.benefit_idr,
        b.package,
    )


async def budget(session: AsyncSession, budget_id: UUID) -> BudgetOut | None:
    row = (await session.execute(_budgets().where(budgets.c.budget_id == budget_id))).first()
    return BudgetOut.model_validate(row._mapping) if row is not None else None


async def budget_list(session: AsyncSession, programme: Programme | None) -> list[BudgetOut]:
    query = _budgets().order_by(budgets.c.period, budgets.c.programme)
    if programme is not None:
        query = query.where(budgets.c.programme == programme)
    return [BudgetOut.model_validate(r._mapping) for r in await session.execute(query)]


async def certificate_list(session: AsyncSession, today: date) -> list[CertificateStatus]:
    """Every certificate, newest first, and whether it is valid today."""
    rows = await session.execute(select(certificates).order_by(certificates.c.certified_on.desc()))
    return [
        CertificateStatus(**r._mapping, valid_today=r.certified_on <= today <= r.expires_on)
        for r in rows
    ]


# --- rounds --------------------------------------------------------------------------------
def _rounds() -> Any:
    return select(rounds, latest_note(rounds.c.round_id).label("endorsement_note"))


async def round_(session: AsyncSession, round_id: UUID) -> RoundOut | None:
    row = (await session.execute(_rounds().where(rounds.c.round_id == round_id))).first()
    return RoundOut.model_validate(row._mapping) if row is not None else None


async def round_list(
    session: AsyncSession,
    programme: Programme | None,
    status: str | None,
    period: str | None = None,
) -> list[RoundOut]:
    query = _rounds().order_by(rounds.c.seq.desc())
    if period is not None:
        query = query.where(rounds.c.period == period)
    if programme is not None:
        query = query.where(rounds.c.programme == programme)
    if status is not None:
        query = query.where(rounds.c.status == status)
    return [RoundOut.model_validate(r._mapping) for r in await session.execute(query)]


async def round_summary(session: AsyncSession, round_id: UUID) -> RoundSummaryOut | None:
    """The round's totals, and per RW (pending: allocated, neither received nor
    reported undelivered)."""
    overall = await round_(session, round_id)
    if overall is None:
        return None
    a = allocations.c
    query = (
        select(a.rw, a.status, func.count().label("households"), func.sum(a.amount_idr))
        .where(a.round_id == round_id)
        .group_by(a.rw, a.status)
        .order_by(a.rw)
    )
    per_rw: dict[str, dict[str, int]] = {}
    for rw, status, count, idr in await session.execute(query):
        entry = per_rw.setdefault(rw, dict.fromkeys((*TOTALS, "pending"), 0))
        entry["allocated"] += count
        entry["amount_allocated_idr"] += int(idr)
        entry[{"allocated": "pending"}.get(status, status)] += count
        if status == "received":
            entry["amount_received_idr"] += int(idr)
    return RoundSummaryOut(
        round_id=round_id,
        programme=overall.programme,
        period=overall.period,
        status=overall.status,
        **{name: getattr(overall, name) for name in TOTALS},
        pending=overall.allocated - overall.received - overall.undelivered,
        per_rw=[RwTotals(rw=rw, **totals) for rw, totals in sorted(per_rw.items())],
    )


async def round_known(session: AsyncSession, round_id: UUID) -> bool:
    found = await session.scalar(select(rounds.c.seq).where(rounds.c.round_id == round_id))
    return found is not None


# --- allocations and the manifest ----------------------------------------------------------
async def allocation(session: AsyncSession, allocation_id: UUID) -> AllocationOut | None:
    query = select(
        allocations, latest_note(allocations.c.allocation_id).label("undelivered_note")
    ).where(allocations.c.allocation_id == allocation_id)
    row = (await session.execute(query)).first()
    return AllocationOut.model_validate(row._mapping) if row is not None else None


def _manifest() -> Any:
    a = allocations.c
    return select(
        a.seq,
        a.allocation_id,
        a.household_id,
        a.rt,
        a.rw,
        a.programme,
        a.amount_idr,
        a.package,
        a.status,
        a.undelivered_reason,
        a.version,
    ).order_by(a.seq)


async def manifest(
    session: AsyncSession,
    round_id: UUID,
    *,
    after: int,
    limit: int,
    rw: str | None,
    status: str | None,
) -> list[tuple[int, ManifestItem]]:
    """(position, item) pairs after a paging position, `limit + 1` at most."""
    a = allocations.c
    conditions = [a.round_id == round_id, a.seq > after]
    if rw is not None:
        conditions.append(a.rw == rw)
    if status is not None:
        conditions.append(a.status == status)
    rows = await session.execute(_manifest().where(and_(*conditions)).limit(limit + 1))
    return [(r.seq, ManifestItem.model_validate(r._mapping)) for r in rows]


async def allocations_of_member(
    session: AsyncSession, round_id: UUID, nik_commitment: str
) -> list[ManifestItem]:
    """The round's allocations to households of which the NIK (by its commitment) is a
    member. member_commitments is a JSON list of hex strings: the quoted commitment
    matches one element exactly, alike on SQLite and PostgreSQL."""
    members = cast(households.c.member_commitments, String)
    query = (
        _manifest()
        .join(households, households.c.household_id == allocations.c.household_id)
        .where(allocations.c.round_id == round_id, members.contains(f'"{nik_commitment}"'))
    )
    return [ManifestItem.model_validate(r._mapping) for r in await session.execute(query)]
