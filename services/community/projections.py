"""Community read models, updated in the command's transaction.

`complaints`, `feedback` and `meetings` are projections of the community's own events
(rebuildable from the event store). A complaint is found by its ticket code's commitment:
the code itself, a bearer secret, is shown once to whoever filed it and kept nowhere. What
residents wrote and who they are is in the private store (`private.py`). `subjects` are
the rounds and courses announced by distribution and training (consumers.py), so feedback
can name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.community import appeal_projections, case_projections, verification_projections
from services.community.errors import RECEIPT_RATED, TICKET_COLLISION
from shared import eventstore
from shared.db import BigId, UTCDateTime, versioned_update
from shared.events import Envelope
from shared.events.community import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintFiledV1,
    ComplaintResolved,
    FeedbackSubmitted,
    FollowUpUpdated,
    MeetingHeld,
)
from shared.pii import Commitments
from shared.uow import Projector, Unique

metadata = MetaData()

complaints = Table(
    "complaints",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", Uuid, nullable=False, unique=True),
    Column("ticket_commitment", String(64), nullable=False),
    Column("category", String(20), nullable=False),
    Column("rw", String(2), nullable=False, index=True),
    Column("status", String(12), nullable=False, index=True),
    Column("anonymous", Boolean, nullable=False),
    Column("references", JSON, nullable=False),
    Column("escalated_to", JSON, nullable=False),
    Column("outcome", String(16)),
    Column("filed_at", UTCDateTime(), nullable=False),
    Column("acknowledged_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("version", Integer, nullable=False),
    # Named, so that a ticket code drawn twice is told apart from other conflicts.
    UniqueConstraint("ticket_commitment", name="uq_complaints_ticket_commitment"),
)
CONSTRAINTS = {
    "uq_complaints_ticket_commitment": Unique(
        TICKET_COLLISION, "a ticket code was drawn twice; try again"
    ),
    "uq_feedback_receipt_commitment": Unique(
        RECEIPT_RATED, "this hand-over is already rated", field="receipt_code"
    ),
}

feedback = Table(
    "feedback",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("feedback_id", Uuid, nullable=False, unique=True),
    Column("subject_type", String(8), nullable=False),
    Column("subject_id", Uuid, nullable=False, index=True),
    Column("rating", Integer, nullable=False),
    Column("rw", String(2)),
    Column("anonymous", Boolean, nullable=False),
    Column("submitted_at", UTCDateTime(), nullable=False),
    # A rating that named its hand-over by receipt code: one per receipt (issue 15).
    Column("receipt_commitment", String(64)),
    UniqueConstraint("receipt_commitment", name="uq_feedback_receipt_commitment"),
)

meetings = Table(
    "meetings",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("meeting_id", Uuid, nullable=False, unique=True),
    Column("kind", String(12), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("rw", String(2), nullable=False, index=True),
    Column("facilitator", String(120), nullable=False),
    Column("attendance", JSON, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("aspirations", JSON, nullable=False),
    Column("follow_ups", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("topic_codes", JSON, nullable=False),  # version 2 of meeting_held; [] before
)

subjects = Table(
    "subjects",
    metadata,
    Column("subject_id", Uuid, primary_key=True),
    Column("subject_type", String(8), nullable=False),
    Column("title", String(200), nullable=False),
    Column("rws", JSON, nullable=False),
)


def projector(keys: Commitments | None) -> Projector:
    """The projection, with the key to commit to a version-1 event's ticket code (which
    only an old event store holds: see `project`)."""

    async def project(session: AsyncSession, new_events: Sequence[Envelope]) -> None:
        for envelope in new_events:
            await apply(session, envelope, keys)
            await appeal_projections.apply(session, envelope)

    return project


# What commands append: version-2 events only, whose ticket is already a commitment. A
# version-1 `complaint_filed` (the code in clear) is met only when an old event store is
# replayed, which `rebuild` does with the service's keys.
project = projector(None)


def _complaint(envelope: Envelope, **values: Any) -> Any:
    return versioned_update(complaints.c.complaint_id, envelope, **values)


def _ticket(event: ComplaintFiled, keys: Commitments | None) -> str:
    if not isinstance(event, ComplaintFiledV1):
        return event.ticket_commitment
    if keys is None:
        raise ValueError("a version-1 complaint is projected with the ticket key: projector(keys)")
    return keys.ticket(event.ticket_code)


async def apply(session: AsyncSession, envelope: Envelope, keys: Commitments | None) -> None:
    at = envelope.occurred_at
    match envelope.typed():
        case ComplaintFiled() as e:
            await session.execute(
                insert(complaints).values(
                    complaint_id=envelope.aggregate_id,
                    ticket_commitment=_ticket(e, keys),
                    category=e.category,
                    rw=e.rw,
                    status="filed",
                    anonymous=e.anonymous,
                    references=e.references.model_dump(mode="json", exclude_none=True),
                    escalated_to=[],
                    filed_at=at,
                    version=envelope.aggregate_version,
                )
            )
        case ComplaintAcknowledged():
            await session.execute(_complaint(envelope, status="acknowledged", acknowledged_at=at))
        case ComplaintEscalated() as e:
            current = await session.scalar(
                complaints.select()
                .with_only_columns(complaints.c.escalated_to)
                .where(complaints.c.complaint_id == envelope.aggregate_id)
            )
            # Escalating is acting on it: it acknowledges a complaint not yet acknowledged.
            await session.execute(
                _complaint(
                    envelope,
                    status="escalated",
                    escalated_to=[*(current or []), e.to],
                    acknowledged_at=func.coalesce(complaints.c.acknowledged_at, at),
                )
            )
        case ComplaintResolved() as e:
            await session.execute(
                _complaint(envelope, status="resolved", outcome=e.outcome, resolved_at=at)
            )
        case FeedbackSubmitted() as e:
            await session.execute(
                insert(feedback).values(
                    feedback_id=envelope.aggregate_id,
                    subject_type=e.subject_type,
                    subject_id=e.subject_id,
                    rating=e.rating,
                    rw=e.rw,
                    anonymous=e.anonymous,
                    submitted_at=at,
                    receipt_commitment=e.receipt_commitment,
                )
            )
        case MeetingHeld() as e:
            await session.execute(
                insert(meetings).values(
                    meeting_id=envelope.aggregate_id,
                    kind=e.kind,
                    held_on=e.held_on,
                    rw=e.rw,
                    facilitator=envelope.actor,
                    attendance=e.attendance.model_dump(),
                    topics=list(e.topics),
                    aspirations=list(e.aspirations),
                    follow_ups=[f.model_dump() for f in e.follow_ups],
                    version=envelope.aggregate_version,
                    topic_codes=list(e.topic_codes),
                )
            )
        case FollowUpUpdated() as e:
            row = meetings.c.meeting_id == envelope.aggregate_id
            follow_ups = await session.scalar(
                meetings.select().with_only_columns(meetings.c.follow_ups).where(row)
            )
            changed = [dict(f) for f in follow_ups or []]
            changed[e.index]["status"] = e.status
            await session.execute(
                update(meetings)
                .where(row)
                .values(follow_ups=changed, version=envelope.aggregate_version)
            )
        case _ if envelope.aggregate_type == "case":
            await case_projections.apply(session, envelope)
    await verification_projections.apply(session, envelope)


# --- facts the commands read, in their transaction ----------------------------------------
async def subject_known(session: AsyncSession, subject_type: str, subject_id: UUID) -> bool:
    """Whether distribution or training announced this round or course."""
    found = await session.scalar(
        select(subjects.c.subject_id).where(
            subjects.c.subject_id == subject_id, subjects.c.subject_type == subject_type
        )
    )
    return found is not None


async def receipt_facts(session: AsyncSession, commitment: str) -> tuple[UUID | None, bool]:
    """(the round of the hand-over with this receipt commitment, whether it was rated)."""
    round_id = await session.scalar(
        select(verification_projections.handovers.c.round_id).where(
            verification_projections.handovers.c.receipt_commitment == commitment
        )
    )
    rated = await session.scalar(
        select(feedback.c.feedback_id).where(feedback.c.receipt_commitment == commitment)
    )
    return round_id, rated is not None


async def rebuild(session: AsyncSession, keys: Commitments) -> int:
    """Recompute the projections from the event store (the private store and the subjects
    learnt from other services stay)."""
    return await eventstore.replay(
        session,
        projector(keys),
        [
            complaints,
            feedback,
            meetings,
            *case_projections.TABLES,
            *verification_projections.OWN,
            appeal_projections.appeals,
        ],
    )
