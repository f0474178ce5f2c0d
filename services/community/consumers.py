"""Community consumers: the rounds and courses that residents may give feedback on, as
distribution and training announce them (nothing is asked of those services)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.community import appeal_consumers, verification_projections
from services.community.projections import subjects
from shared.consumers import Subscription
from shared.events import Envelope, EventPayload
from shared.events.distribution import RoundScheduled
from shared.events.training import CourseOpened


async def on_announcement(session: AsyncSession, envelope: Envelope, event: EventPayload) -> None:
    match event:
        case RoundScheduled():
            row = {
                "subject_type": "round",
                "title": f"{event.programme} {event.period}",
                "rws": [p.rw for p in event.poskos],
            }
        case CourseOpened():
            row = {"subject_type": "course", "title": event.title, "rws": []}
        case _:
            return
    known = await session.scalar(
        select(subjects.c.subject_id).where(subjects.c.subject_id == envelope.aggregate_id)
    )
    if known is None:
        await session.execute(insert(subjects).values(subject_id=envelope.aggregate_id, **row))


CONSUMERS = [
    Subscription("community-rounds", "bansos.distribution.round_scheduled", on_announcement),
    Subscription("community-courses", "bansos.training.course_opened", on_announcement),
    *appeal_consumers.CONSUMERS,  # the registry's answers to appeals
]


# Verification with recipients: each round's hand-overs and its closure, by one consumer
# so that they come in stream order (the closure after its hand-overs).
CONSUMERS.append(
    Subscription(
        "community-handovers", "bansos.distribution.>", verification_projections.on_distribution
    )
)
