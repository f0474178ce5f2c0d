"""Distribution read models, updated in the command's transaction (rebuildable from events).

Two invariants live here because they span aggregates and must hold under concurrency:
an allocation never takes a budget below zero (a conditional UPDATE of the budget row),
and no hand-over lands in a round that is not endorsed or already closed (a conditional
UPDATE of the round row, which also serialises hand-overs with the round's closure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.distribution.domain import officer_id
from shared import eventstore
from shared.db import BigId, UTCDateTime
from shared.domain import Conflict
from shared.events import Envelope
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidReceivedV1,
    AidUndelivered,
    AidUndeliveredV1,
    OfficerCertified,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
)

metadata = MetaData()

budgets = Table(
    "budgets",
    metadata,
    Column("budget_id", Uuid, primary_key=True),
    Column("programme", String(8), nullable=False),
    Column("period", String(7), nullable=False),
    Column("total_idr", BigId, nullable=False),
    Column("allocated_idr", BigId, nullable=False),
    Column("benefit_idr", BigId, nullable=False),
    Column("package", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)

certificates = Table(
    "officer_certificates",
    metadata,
    Column("certificate_number", String(60), primary_key=True),
    Column("officer_id", Uuid, nullable=False, index=True),
    Column("officer_sub", String(120), nullable=False),
    Column("certified_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
)

rounds = Table(
    "rounds",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("round_id", Uuid, nullable=False, unique=True),
    Column("programme", String(8), nullable=False),
    Column("period", String(7), nullable=False),
    Column("budget_id", Uuid, nullable=False),
    Column("status", String(12), nullable=False),
    Column("poskos", JSON, nullable=False),
    Column("allocated", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("undelivered", Integer, nullable=False),
    Column("amount_allocated_idr", BigId, nullable=False),
    Column("amount_received_idr", BigId, nullable=False),
    Column("endorsed_by", String(120)),
    Column("version", Integer, nullable=False),
    Column("scheduled_at", UTCDateTime(), nullable=False),
)

allocations = Table(
    "allocations",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("allocation_id", Uuid, nullable=False, unique=True),
    Column("round_id", Uuid, nullable=False),
    Column("household_id", Uuid, nullable=False),
    Column("programme", String(8), nullable=False),
    Column("rt", String(3), nullable=False),
    Column("rw", String(2), nullable=False),
    Column("amount_idr", BigId, nullable=False),
    Column("package", JSON, nullable=False),
    Column("status", String(12), nullable=False),
    Column("based_on_event_id", Uuid, nullable=False),
    Column("officer_id", Uuid),
    Column("received_at", UTCDateTime()),
    Column("undelivered_reason", String(16)),
    Column("version", Integer, nullable=False),
    UniqueConstraint("round_id", "household_id", name="uq_allocations_round_household"),
    Index("ix_allocations_round_rw", "round_id", "rw", "seq"),
)


async def project(session: AsyncSession, new_events: Sequence[Envelope]) -> None:
    """In order; consecutive allocations go together, so a bulk charges its budget once."""
    allocated: list[Envelope] = []
    for envelope in new_events:
        if envelope.type == AidAllocated.event_type:
            allocated.append(envelope)
            continue
        if allocated:
            await _allocate(session, allocated)
            allocated = []
        await apply(session, envelope)
    if allocated:
        await _allocate(session, allocated)


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    aid = envelope.aggregate_id
    touched: dict[str, Any] = {"version": envelope.aggregate_version}
    match envelope.typed():
        case ProgrammeBudgeted(kind="initial") as e:
            await session.execute(
                insert(budgets).values(
                    budget_id=aid,
                    programme=e.programme,
                    period=e.period,
                    total_idr=e.amount_idr,
                    allocated_idr=0,
                    benefit_idr=e.benefit_idr,
                    package=[i.model_dump() for i in e.package],
                    **touched,
                )
            )
        case ProgrammeBudgeted() as e:
            await session.execute(
                update(budgets)
                .where(budgets.c.budget_id == aid)
                .values(total_idr=budgets.c.total_idr + e.amount_idr, **touched)
            )
        case OfficerCertified() as e:
            await session.execute(
                insert(certificates).values(
                    certificate_number=e.certificate_number,
                    officer_id=officer_id(e.officer_sub),
                    officer_sub=e.officer_sub,
                    certified_on=e.certified_on,
                    expires_on=e.expires_on,
                )
            )
        case RoundScheduled() as e:
            await session.execute(
                insert(rounds).values(
                    round_id=aid,
                    programme=e.programme,
                    period=e.period,
                    budget_id=e.budget_id,
                    status="scheduled",
                    poskos=[p.model_dump(mode="json") for p in e.poskos],
                    allocated=0,
                    received=0,
                    undelivered=0,
                    amount_allocated_idr=0,
                    amount_received_idr=0,
                    scheduled_at=envelope.occurred_at,
                    **touched,
                )
            )
        case RoundEndorsed():
            await session.execute(
                update(rounds)
                .where(rounds.c.round_id == aid)
                .values(status="endorsed", endorsed_by=envelope.actor, **touched)
            )
        case RoundClosed():
            await session.execute(
                update(rounds).where(rounds.c.round_id == aid).values(status="closed", **touched)
            )
        case AidReceived() | AidReceivedV1() as e:  # version 1 is a class of its own
            await _hand_over(
                session, envelope, "received", officer_id=e.officer_id, received_at=e.received_at
            )
        case AidUndelivered() | AidUndeliveredV1() as e:
            await _hand_over(
                session,
                envelope,
                "undelivered",
                officer_id=e.officer_id,
                undelivered_reason=e.reason,
            )


async def _allocate(session: AsyncSession, new: Sequence[Envelope]) -> None:
    """Allocations of one transaction: the budget is charged once per round, atomically."""
    per_round: Counter[UUID] = Counter()
    amount: Counter[UUID] = Counter()
    rows = []
    for envelope in new:
        e = envelope.typed()  # version 1 (with the head's masked NIK) is a subclass
        assert isinstance(e, AidAllocated)
        per_round[e.round_id] += 1
        amount[e.round_id] += e.amount_idr
        rows.append(
            {
                "allocation_id": envelope.aggregate_id,
                "round_id": e.round_id,
                "household_id": e.household_id,
                "programme": e.programme,
                "rt": e.rt,
                "rw": e.rw,
                "amount_idr": e.amount_idr,
                "package": [i.model_dump() for i in e.package],
                "status": "allocated",
                "based_on_event_id": e.based_on_event_id,
                "version": envelope.aggregate_version,
            }
        )
    for round_id, needed in amount.items():
        budget = await session.scalar(
            select(rounds.c.budget_id).where(rounds.c.round_id == round_id)
        )
        charged = await session.execute(
            update(budgets)
            .where(
                budgets.c.budget_id == budget,
                budgets.c.total_idr - budgets.c.allocated_idr >= needed,
            )
            .values(allocated_idr=budgets.c.allocated_idr + needed)
        )
        if charged.rowcount != 1:  # type: ignore[attr-defined]
            remaining = await session.scalar(
                select(budgets.c.total_idr - budgets.c.allocated_idr).where(
                    budgets.c.budget_id == budget
                )
            )
            raise Conflict(
                "budget_exceeded",
                f"the budget has {remaining} IDR left; this needs {needed} IDR "
                f"for {per_round[round_id]} household(s)",
            )
        opened = await session.execute(
            update(rounds)
            .where(rounds.c.round_id == round_id, rounds.c.status != "closed")
            .values(
                allocated=rounds.c.allocated + per_round[round_id],
                amount_allocated_idr=rounds.c.amount_allocated_idr + needed,
            )
        )
        if opened.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("round_closed", "the round is closed")
    await session.execute(insert(allocations), rows)


async def _hand_over(session: AsyncSession, envelope: Envelope, status: str, **values: Any) -> None:
    row = (
        await session.execute(
            select(allocations.c.round_id, allocations.c.status, allocations.c.amount_idr).where(
                allocations.c.allocation_id == envelope.aggregate_id
            )
        )
    ).one()
    counters: dict[str, Any] = {}
    if row.status == "undelivered":  # a household not at home, visited again
        counters["undelivered"] = rounds.c.undelivered - 1
    if status == "received":
        counters["received"] = rounds.c.received + 1
        counters["amount_received_idr"] = rounds.c.amount_received_idr + row.amount_idr
    else:
        counters["undelivered"] = rounds.c.undelivered + (0 if row.status == "undelivered" else 1)
    endorsed = await session.execute(
        update(rounds)
        .where(rounds.c.round_id == row.round_id, rounds.c.status == "endorsed")
        .values(**counters)
    )
    if endorsed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "round_not_open", "the round is not open for hand-overs (not endorsed, or closed)"
        )
    await session.execute(
        update(allocations)
        .where(allocations.c.allocation_id == envelope.aggregate_id)
        .values(status=status, version=envelope.aggregate_version, **values)
    )


async def rebuild(session: AsyncSession) -> int:
    """Recompute this service's own read models from its event store. (The eligibility
    view comes from the registry's events: replay the stream into it instead.)"""
    return await eventstore.replay(session, project, [allocations, rounds, certificates, budgets])
