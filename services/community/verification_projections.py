"""Read models of the verification with recipients (issue 15).

Learnt from distribution (consumers.py, `on_distribution`, not rebuilt from the event
store): `handovers`, each allocation's outcome with its RW and receipt commitment, and
`closures`, each closed round with the stream sequence of its closure (which bounds the
closure's leaf index in the audit ledger: domain/verification.py). Projections of the
community's own events (rebuildable): `samples`, `sample_members` and `verifications`.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumers import current_stream_seq
from shared.db import UTCDateTime
from shared.events import Envelope, EventPayload
from shared.events.community_verification import VerificationRecorded, VerificationSampleDrawn
from shared.events.distribution import AidReceived, AidUndelivered, RoundClosed

metadata = MetaData()

handovers = Table(
    "handovers",
    metadata,
    Column("allocation_id", Uuid, primary_key=True),
    Column("round_id", Uuid, nullable=False, index=True),
    Column("rw", String(2), nullable=False),
    Column("status", String(12), nullable=False),  # received | undelivered
    # Of a received hand-over: HMAC(receipt key, the code), for feedback by receipt code.
    Column("receipt_commitment", String(64), index=True),
)

closures = Table(
    "closures",
    metadata,
    Column("round_id", Uuid, primary_key=True),
    Column("closed_at", UTCDateTime(), nullable=False),
    # The closure's stream sequence: None if it was not learnt from the stream.
    Column("stream_seq", Integer),
    Column("received", Integer, nullable=False),  # the hand-overs the closure counts
)

samples = Table(
    "samples",
    metadata,
    Column("round_id", Uuid, primary_key=True),
    Column("origin", String(200), nullable=False),
    Column("tree_size", Integer, nullable=False),
    Column("root_hash", String(44), nullable=False),
    Column("population", Integer, nullable=False),
    Column("k", Integer, nullable=False),
    Column("drawn_at", UTCDateTime(), nullable=False),
    Column("drawn_by", String(120), nullable=False),
)

sample_members = Table(
    "sample_members",
    metadata,
    Column("allocation_id", Uuid, primary_key=True),
    Column("round_id", Uuid, nullable=False, index=True),
    Column("position", Integer, nullable=False),
)

verifications = Table(
    "verifications",
    metadata,
    Column("allocation_id", Uuid, primary_key=True),
    Column("round_id", Uuid, nullable=False, index=True),
    Column("rw", String(2), nullable=False),
    Column("received", Boolean, nullable=False),
    Column("full", Boolean),
    Column("asked_to_pay", Boolean, nullable=False),
    Column("pay_band", String(10)),
    Column("respectful", Boolean, nullable=False),
    Column("discrepancies", JSON, nullable=False),
    Column("complaint_id", Uuid),
    Column("verified_at", UTCDateTime(), nullable=False),
    Column("facilitator", String(120), nullable=False),
)

OWN = [samples, sample_members, verifications]  # what a rebuild recomputes


# --- learnt from distribution ---------------------------------------------------------------
async def on_distribution(session: AsyncSession, envelope: Envelope, event: EventPayload) -> None:
    """Hand-overs and closures as distribution announces them; a redelivery changes
    nothing (the first word on a round stays). An allocation reported undelivered (no one
    at home) may be handed over later, and a hand-over is final: `received` replaces
    `undelivered`, never the reverse, so the round's population is every allocation with
    a hand-over, as its closure counts them."""
    match event:
        case AidReceived() | AidUndelivered():
            known = await session.scalar(
                select(handovers.c.status).where(handovers.c.allocation_id == envelope.aggregate_id)
            )
            if known is None:
                await session.execute(
                    insert(handovers).values(
                        allocation_id=envelope.aggregate_id,
                        round_id=event.round_id,
                        rw=event.rw,
                        status="received" if isinstance(event, AidReceived) else "undelivered",
                        receipt_commitment=(
                            event.receipt_commitment if isinstance(event, AidReceived) else None
                        ),
                    )
                )
            elif known == "undelivered" and isinstance(event, AidReceived):
                await session.execute(
                    update(handovers)
                    .where(handovers.c.allocation_id == envelope.aggregate_id)
                    .values(status="received", receipt_commitment=event.receipt_commitment)
                )
        case RoundClosed():
            known = await session.scalar(
                select(closures.c.round_id).where(closures.c.round_id == envelope.aggregate_id)
            )
            if known is None:
                await session.execute(
                    insert(closures).values(
                        round_id=envelope.aggregate_id,
                        closed_at=envelope.occurred_at,
                        stream_seq=current_stream_seq.get(),
                        received=event.received,
                    )
                )


# --- the community's own events -----------------------------------------------------------
async def apply(session: AsyncSession, envelope: Envelope) -> None:
    match envelope.typed():
        case VerificationSampleDrawn() as e:
            await session.execute(
                insert(samples).values(
                    round_id=e.round_id,
                    origin=e.origin,
                    tree_size=e.tree_size,
                    root_hash=e.root_hash,
                    population=e.population,
                    k=e.k,
                    drawn_at=envelope.occurred_at,
                    drawn_by=envelope.actor,
                )
            )
            if e.allocation_ids:
                await session.execute(
                    insert(sample_members),
                    [
                        {"allocation_id": a, "round_id": e.round_id, "position": i}
                        for i, a in enumerate(e.allocation_ids)
                    ],
                )
        case VerificationRecorded() as e:
            await session.execute(
                insert(verifications).values(
                    allocation_id=envelope.aggregate_id,
                    round_id=e.round_id,
                    rw=e.rw,
                    received=e.received,
                    full=e.full,
                    asked_to_pay=e.asked_to_pay,
                    pay_band=e.pay_band,
                    respectful=e.respectful,
                    discrepancies=list(e.discrepancies),
                    complaint_id=e.complaint_id,
                    verified_at=envelope.occurred_at,
                    facilitator=envelope.actor,
                )
            )


# --- facts the commands read, in their transaction ----------------------------------------
async def closure(session: AsyncSession, round_id: UUID) -> tuple[bool, int | None, int]:
    """(closed, the closure's stream sequence, the received hand-overs it counts)."""
    row = (
        await session.execute(
            select(closures.c.stream_seq, closures.c.received).where(
                closures.c.round_id == round_id
            )
        )
    ).first()
    return (False, None, 0) if row is None else (True, row.stream_seq, row.received)


async def received_in(session: AsyncSession, round_id: UUID) -> tuple[UUID, ...]:
    return tuple(
        await session.scalars(
            select(handovers.c.allocation_id).where(
                handovers.c.round_id == round_id, handovers.c.status == "received"
            )
        )
    )
