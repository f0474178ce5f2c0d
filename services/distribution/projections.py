"""Distribution's read models, projected from its own events in the command's transaction
and rebuildable from the event store: `budgets`, `officer_certificates`, `rounds` and
`allocations`. Staff notes are in private.py; the households view is the registry's
(services/registry/published.py), kept by consumers.py.

Two rules span aggregates and must hold under any concurrency, so they live here, as
conditional updates in the command's own transaction: `charge_budget` (a budget never goes
below zero) and `count_hand_over` (a hand-over only in an endorsed round).
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

from services.distribution.domain.ids import officer_id
from services.distribution.errors import (
    ALREADY_ALLOCATED,
    BUDGET_EXCEEDED,
    CERTIFICATE_RECORDED,
    ROUND_CLOSED,
    ROUND_NOT_OPEN,
)
from shared import eventstore
from shared.db import BigId, UTCDateTime
from shared.domain import DomainError
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
from shared.uow import Unique

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

# A certificate number is one officer's: the officer's decider sees only their own, so
# the primary key refuses the same number recorded for another officer.
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
# A round's counters, which its closure records.
TOTALS = ("allocated", "received", "undelivered", "amount_allocated_idr", "amount_received_idr")

# A household once per round (the allocation's id, one per programme, period and
# household, already says more: the decider refuses a second; these keys back it up).
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

_ALLOCATED_TWICE = Unique(ALREADY_ALLOCATED, "the household is already allocated in this round")
CONSTRAINTS = {
    "officer_certificates_pkey": Unique(
        CERTIFICATE_RECORDED,
        "this certificate number is already recorded",
        field="certificate_number",
    ),
    "uq_allocations_round_household": _ALLOCATED_TWICE,
    "allocations_allocation_id_key": _ALLOCATED_TWICE,
}


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
    """Allocations of one transaction: each round's budget is charged once, atomically."""
    households: Counter[UUID] = Counter()
    amount: Counter[UUID] = Counter()
    rows = []
    for envelope in new:
        e = envelope.typed()  # version 1 (with the head's masked NIK) is a subclass
        assert isinstance(e, AidAllocated)
        households[e.round_id] += 1
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
        await charge_budget(session, round_id, needed, households[round_id])
        await count_allocations(session, round_id, needed, households[round_id])
    await session.execute(insert(allocations), rows)


async def charge_budget(
    session: AsyncSession, round_id: UUID, amount_idr: int, households: int
) -> None:
    """Invariant: a budget never goes below zero.

    The round's budget row is charged only `WHERE total - allocated >= amount`, one
    statement, so two allocations racing for the last of a budget cannot both pass (the
    row's lock orders them, and the second re-reads what the first left). When no row
    matches, the whole command is refused (`budget_exceeded`): a bulk allocation included,
    all or nothing."""
    budget = await session.scalar(select(rounds.c.budget_id).where(rounds.c.round_id == round_id))
    left = budgets.c.total_idr - budgets.c.allocated_idr
    charged = await session.execute(
        update(budgets)
        .where(budgets.c.budget_id == budget, left >= amount_idr)
        .values(allocated_idr=budgets.c.allocated_idr + amount_idr)
    )
    if charged.rowcount != 1:  # type: ignore[attr-defined]
        remaining = await session.scalar(select(left).where(budgets.c.budget_id == budget))
        raise DomainError(
            BUDGET_EXCEEDED,
            f"the budget has {remaining} IDR left; this needs {amount_idr} IDR "
            f"for {households} household(s)",
        )


async def count_allocations(
    session: AsyncSession, round_id: UUID, amount_idr: int, households: int
) -> None:
    """A closed round takes no allocation, even one decided before it closed (the closure
    locks the round's row, so its totals count every allocation committed before it)."""
    counted = await session.execute(
        update(rounds)
        .where(rounds.c.round_id == round_id, rounds.c.status != "closed")
        .values(
            allocated=rounds.c.allocated + households,
            amount_allocated_idr=rounds.c.amount_allocated_idr + amount_idr,
        )
    )
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(ROUND_CLOSED, "the round is closed")


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
    await count_hand_over(session, row.round_id, **counters)
    await session.execute(
        update(allocations)
        .where(allocations.c.allocation_id == envelope.aggregate_id)
        .values(status=status, version=envelope.aggregate_version, **values)
    )


async def count_hand_over(session: AsyncSession, round_id: UUID, **counters: Any) -> None:
    """Invariant: a hand-over only in an endorsed round.

    The allocation's decider refuses a hand-over in a round its facts show not endorsed
    or closed; this holds it when the round changes meanwhile. The round's counters move
    only `WHERE status = 'endorsed'`, and closing a round locks its row first
    (`lock_round_totals`), so a hand-over either commits before the closure and is counted
    in its totals, or finds the round closed and is refused (`round_not_open`)."""
    counted = await session.execute(
        update(rounds)
        .where(rounds.c.round_id == round_id, rounds.c.status == "endorsed")
        .values(**counters)
    )
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(
            ROUND_NOT_OPEN, "the round is not open for hand-overs (not endorsed, or closed)"
        )


async def rebuild(session: AsyncSession) -> int:
    """Recompute this service's own read models from its event store (the staff notes
    stay; the households view comes from the registry's events: replay the stream)."""
    return await eventstore.replay(session, project, [allocations, rounds, certificates, budgets])
