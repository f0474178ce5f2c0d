"""What training keeps and never publishes (docs/architecture.md#personal-data): who teaches a
course, and what
staff wrote about a trainee (a withdrawal's or a follow-up's note).

Version-2 events carry neither: a course's event has no trainer, and a note travels as a
commitment salted per note, the salt kept here beside the note so the commitment can be
opened (`Commitments.opens`). The handlers write here in the command's transaction, so it
commits with the events or not at all; a rebuild of the read models leaves it.
Version-1 events carried the trainer and notes themselves: replaying one keeps them here
too (`from_v1`), with no salt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Uuid, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope, EventPayload
from shared.events.training import (
    CourseOpenedV1,
    OutcomeRecorded,
    OutcomeRecordedV1,
    TraineeWithdrawn,
    TraineeWithdrawnV1,
)
from shared.pii import SALT_BYTES, Commitments

metadata = MetaData()

trainers = Table(
    "trainers",
    metadata,
    Column("course_id", Uuid, primary_key=True),
    Column("trainer", String(120), nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("event_id", Uuid, primary_key=True),  # the event whose note_commitment it opens
    Column("enrolment_id", Uuid, nullable=False, index=True),
    Column("kind", String(12), nullable=False),  # withdrawal | outcome
    Column("months_after", Integer),  # an outcome's follow-up
    Column("body", String(500), nullable=False),
    Column("salt", LargeBinary(SALT_BYTES)),  # none: from a version-1 event, which held it
)


@dataclass(frozen=True)
class Note:
    """A note as typed, with its commitment and salt (none for an empty note)."""

    body: str
    commitment: str | None = None
    salt: bytes | None = field(default=None, repr=False)


def note(keys: Commitments, body: str) -> Note:
    if not body:
        return Note("")
    sealed = keys.salted("text", body)
    return Note(body, sealed.commitment, sealed.salt)


async def keep_trainer(session: AsyncSession, course_id: UUID, trainer: str) -> None:
    await session.execute(insert(trainers).values(course_id=course_id, trainer=trainer))


async def keep_note(session: AsyncSession, envelope: Envelope, kept: Note) -> None:
    """The note of the event that committed to it (nothing for an empty note)."""
    if kept.body:
        await _insert_note(session, envelope, envelope.typed(), kept.body, kept.salt)


async def _insert_note(
    session: AsyncSession, envelope: Envelope, event: EventPayload, body: str, salt: bytes | None
) -> None:
    months_after: int | None = None
    match event:
        case OutcomeRecorded():
            enrolment_id, kind, months_after = event.enrolment_id, "outcome", event.months_after
        case TraineeWithdrawn():
            enrolment_id, kind = event.enrolment_id, "withdrawal"
        case _:
            raise TypeError(f"{envelope.type} carries no note")
    await session.execute(
        insert(notes).values(
            event_id=envelope.event_id,
            enrolment_id=enrolment_id,
            kind=kind,
            months_after=months_after,
            body=body,
            salt=salt,
        )
    )


async def from_v1(session: AsyncSession, envelope: Envelope, event: EventPayload) -> None:
    """A replayed version-1 event's trainer or note, unless kept already."""
    match event:
        case CourseOpenedV1():
            known = select(trainers.c.course_id).where(
                trainers.c.course_id == envelope.aggregate_id
            )
            if await session.scalar(known) is None:
                await keep_trainer(session, envelope.aggregate_id, event.trainer)
        case TraineeWithdrawnV1() | OutcomeRecordedV1() if event.note:
            known = select(notes.c.event_id).where(notes.c.event_id == envelope.event_id)
            if await session.scalar(known) is None:
                await _insert_note(session, envelope, event, event.note, None)


async def notes_of(
    session: AsyncSession, enrolment_ids: Sequence[UUID]
) -> dict[tuple[UUID, str, int | None], str]:
    """Notes by (enrolment, kind, months after) for the staff who read a history."""
    if not enrolment_ids:
        return {}
    n = notes.c
    rows = await session.execute(
        select(n.enrolment_id, n.kind, n.months_after, n.body).where(
            n.enrolment_id.in_(enrolment_ids)
        )
    )
    return {(r.enrolment_id, r.kind, r.months_after): r.body for r in rows}
