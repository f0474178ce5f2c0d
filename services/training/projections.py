"""Training's read models, projected from its own events in the command's transaction and
rebuildable from the event store: `courses` (with their seat counters), `enrolments`,
`attendance` and `outcomes`; and the facts the course's commands read.

The trainer's name and staff notes are not in version-2 events: they are in training's
private store (`private.py`), which a rebuild leaves. What training knows of the registry's
households is the registry's published view (services/registry/published.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
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
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import published
from services.training import private
from services.training.domain.enrolment_rules import HouseholdFacts
from services.training.errors import OUTCOME_RECORDED
from shared import eventstore
from shared.db import BigId, UTCDateTime, versioned_update
from shared.events import Envelope
from shared.events.training import (
    AttendanceRecorded,
    Category,
    CourseOpened,
    OutcomeRecorded,
    TraineeEnrolled,
    TraineeWithdrawn,
    TrainingCompleted,
    WaitlistPromoted,
)
from shared.uow import Unique

metadata = MetaData()

courses = Table(
    "courses",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("course_id", Uuid, nullable=False, unique=True),
    Column("category", String(20), nullable=False),
    Column("title", String(160), nullable=False),
    Column("sessions", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("completion_threshold_pct", Integer, nullable=False),
    Column("seated", Integer, nullable=False),
    Column("waitlisted", Integer, nullable=False),
    Column("completed", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("enrolment_id", Uuid, nullable=False, unique=True),
    Column("course_id", Uuid, nullable=False, index=True),
    Column("household_id", Uuid, nullable=False, index=True),
    Column("member_commitment", String(64), nullable=False, index=True),
    Column("rw", String(2), nullable=False),
    Column("status", String(12), nullable=False),
    Column("priority", Boolean, nullable=False),
    Column("attended", Integer, nullable=False),
    Column("attendance_pct", Integer),
    Column("certificate_number", String(60)),
    Column("withdrawal_reason", String(12)),
    Column("enrolled_at", UTCDateTime(), nullable=False),
)

attendance = Table(
    "attendance",
    metadata,
    Column("enrolment_id", Uuid, primary_key=True),
    Column("session_id", Uuid, primary_key=True),
    Column("present", Boolean, nullable=False),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("enrolment_id", Uuid, primary_key=True),
    Column("months_after", Integer, primary_key=True),
    Column("monthly_income_idr", BigId, nullable=False),
    Column("business_status", String(10), nullable=False),
    Column("employed", Boolean, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
# One follow-up per enrolment and month count. The course decider refuses a second one (the
# course's commands take turns); the primary key is the backstop.
CONSTRAINTS = {
    "outcomes_pkey": Unique(
        OUTCOME_RECORDED, "this follow-up month is recorded already", field="months_after"
    )
}


async def project(session: AsyncSession, new_events: Sequence[Envelope]) -> None:
    for envelope in new_events:
        await apply(session, envelope)


def _course(envelope: Envelope, **counters: Any) -> Any:
    return versioned_update(courses.c.course_id, envelope, **counters)


def _enrolment(enrolment_id: Any, **values: Any) -> Any:
    return update(enrolments).where(enrolments.c.enrolment_id == enrolment_id).values(**values)


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    c = courses.c
    event = envelope.typed()
    await private.from_v1(session, envelope, event)
    match event:
        case CourseOpened() as e:
            await session.execute(
                insert(courses).values(
                    course_id=envelope.aggregate_id,
                    category=e.category,
                    title=e.title,
                    sessions=[s.model_dump(mode="json") for s in e.sessions],
                    capacity=e.capacity,
                    completion_threshold_pct=e.completion_threshold_pct,
                    seated=0,
                    waitlisted=0,
                    completed=0,
                    version=envelope.aggregate_version,
                    opened_at=envelope.occurred_at,
                )
            )
        case TraineeEnrolled() as e:
            await session.execute(
                insert(enrolments).values(
                    enrolment_id=e.enrolment_id,
                    course_id=envelope.aggregate_id,
                    household_id=e.household_id,
                    member_commitment=e.member_commitment,
                    rw=e.rw,
                    status="waitlisted" if e.waitlisted else "enrolled",
                    priority=e.priority,
                    attended=0,
                    enrolled_at=envelope.occurred_at,
                )
            )
            counter = "waitlisted" if e.waitlisted else "seated"
            await session.execute(_course(envelope, **{counter: c[counter] + 1}))
        case WaitlistPromoted() as e:
            await session.execute(_enrolment(e.enrolment_id, status="enrolled"))
            await session.execute(
                _course(envelope, seated=c.seated + 1, waitlisted=c.waitlisted - 1)
            )
        case TraineeWithdrawn() as e:
            was = await session.scalar(
                select(enrolments.c.status).where(enrolments.c.enrolment_id == e.enrolment_id)
            )
            await session.execute(
                _enrolment(e.enrolment_id, status="withdrawn", withdrawal_reason=e.reason)
            )
            counter = "waitlisted" if was == "waitlisted" else "seated"
            await session.execute(_course(envelope, **{counter: c[counter] - 1}))
        case AttendanceRecorded() as e:
            key = (attendance.c.enrolment_id == e.enrolment_id) & (
                attendance.c.session_id == e.session_id
            )
            await session.execute(delete(attendance).where(key))
            await session.execute(
                insert(attendance).values(
                    enrolment_id=e.enrolment_id, session_id=e.session_id, present=e.present
                )
            )
            present = (
                select(func.count())
                .select_from(attendance)
                .where(
                    attendance.c.enrolment_id == e.enrolment_id,
                    attendance.c.present.is_(True),
                )
                .scalar_subquery()
            )
            await session.execute(_enrolment(e.enrolment_id, attended=present))
            await session.execute(_course(envelope))
        case TrainingCompleted() as e:
            await session.execute(
                _enrolment(
                    e.enrolment_id,
                    status="completed",
                    certificate_number=e.certificate_number,
                    attendance_pct=e.attendance_pct,
                )
            )
            await session.execute(_course(envelope, completed=c.completed + 1))
        case OutcomeRecorded() as e:
            await session.execute(
                insert(outcomes).values(
                    enrolment_id=e.enrolment_id,
                    months_after=e.months_after,
                    monthly_income_idr=e.monthly_income_idr,
                    business_status=e.business_status,
                    employed=e.employed,
                    recorded_at=envelope.occurred_at,
                )
            )
            await session.execute(_course(envelope))


# --- facts the course's commands read, in their transaction -------------------------------
async def household(session: AsyncSession, household_id: UUID) -> HouseholdFacts | None:
    """The household as training knows it from the registry's events; None if unknown."""
    row = await published.find(session, household_id)
    if row is None:
        return None
    return HouseholdFacts(
        active=row.active,
        eligible=row.eligible,
        rw=row.rw,
        member_commitments=tuple(row.member_commitments),
    )


async def category(session: AsyncSession, course_id: UUID) -> Category | None:
    """The course's category (it names the certificates); None if there is no such course."""
    found: Category | None = await session.scalar(
        select(courses.c.category).where(courses.c.course_id == course_id)
    )
    return found


async def rebuild(session: AsyncSession) -> int:
    """Recompute the read models from the event store."""
    return await eventstore.replay(session, project, [outcomes, attendance, enrolments, courses])
