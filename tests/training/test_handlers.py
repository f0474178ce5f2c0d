"""The course's handlers on a real database (SQLite and PostgreSQL): where a command finds
its course, what it writes beside its events, and the constraint behind a rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import insert, select

from services.training import handlers, private, projections
from services.training.api.schemas import (
    AttendanceIn,
    CourseIn,
    EnrolmentIn,
    OutcomeIn,
    SessionIn,
    WithdrawalIn,
)
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.domain import DomainError
from shared.uow import UnitOfWork
from tests.training.conftest import TrainingDb

HEAD, SPOUSE = "3174091203650001", "3174094506700002"
TODAY = wib_today()


def course_form(capacity: int = 2) -> CourseIn:
    return CourseIn(
        category="digital_skills",
        title="Jualan daring",
        trainer="Mbak Rina (relawan TIK)",
        # Held seven months ago: its 6-month follow-up (OUTCOME) is due.
        sessions=[SessionIn(on=TODAY - timedelta(days=214), place="Kelurahan")],
        capacity=capacity,
    )


async def opened(db: TrainingDb, capacity: int = 2) -> UUID:
    outcome = await handlers.open_course(db.uow(), course_form(capacity), default_threshold_pct=75)
    return outcome.events[0].aggregate_id


Command = Callable[[UnitOfWork, TrainingDb, UUID], Awaitable[Any]]
OUTCOME = OutcomeIn(months_after=6, monthly_income_idr=1_000_000, business_status="running")
ON_A_COURSE: dict[str, Command] = {
    "enrol": lambda uow, db, cid: handlers.enrol(
        uow, cid, EnrolmentIn(household_id=uuid4(), member_nik=HEAD), db.keys
    ),
    "withdraw": lambda uow, db, cid: handlers.withdraw(
        uow, cid, uuid4(), WithdrawalIn(reason="work", note="kerja"), db.keys
    ),
    "attendance": lambda uow, db, cid: handlers.record_attendance(
        uow, cid, uuid4(), AttendanceIn(present=[uuid4()])
    ),
    "complete": lambda uow, db, cid: handlers.complete(uow, cid, uuid4()),
    "outcome": lambda uow, db, cid: handlers.record_outcome(uow, cid, uuid4(), OUTCOME, db.keys),
}


@pytest.mark.parametrize("command", list(ON_A_COURSE))
async def test_a_course_never_opened_refuses_every_other_command(
    training_db: TrainingDb, command: str
) -> None:
    # The unit of work is the one place that checks that the course exists.
    with pytest.raises(DomainError) as err:
        await ON_A_COURSE[command](training_db.uow(), training_db, uuid4())
    assert (err.value.code, err.value.status, err.value.field) == (
        "course_not_found",
        404,
        "course_id",
    )
    assert await training_db.rows(private.notes) == []


async def test_the_trainer_and_notes_are_kept_with_their_events(training_db: TrainingDb) -> None:
    db = training_db
    cid = await opened(db)
    assert await db.rows(private.trainers) == [
        {"course_id": cid, "trainer": "Mbak Rina (relawan TIK)"}
    ]
    household = await db.announce([HEAD, SPOUSE])
    eid = await handlers.enrol(
        db.uow(), cid, EnrolmentIn(household_id=household, member_nik=HEAD), db.keys
    )
    left = await handlers.withdraw(
        db.uow(), cid, eid, WithdrawalIn(reason="work", note="kerja"), db.keys
    )
    [note] = await db.rows(private.notes)
    assert (note["event_id"], note["enrolment_id"], note["kind"], note["body"]) == (
        left.events[0].event_id,
        eid,
        "withdrawal",
        "kerja",
    )
    commitment = left.events[0].payload["note_commitment"]
    assert db.keys.opens("text", "kerja", note["salt"], commitment)
    # Refused, the command keeps no note either.
    with pytest.raises(DomainError) as err:
        await handlers.withdraw(
            db.uow(), cid, eid, WithdrawalIn(reason="work", note="lagi"), db.keys
        )
    assert err.value.code == "not_withdrawable"
    assert len(await db.rows(private.notes)) == 1


async def completed(db: TrainingDb) -> tuple[UUID, UUID, Any]:
    """A course of one session whose one trainee attended it and completed: (course,
    enrolment, the course's row)."""
    cid = await opened(db)
    household = await db.announce([HEAD])
    form = EnrolmentIn(household_id=household, member_nik=HEAD)
    eid = await handlers.enrol(db.uow(), cid, form, db.keys)
    async with db.sessions() as session:
        course = (
            await session.execute(
                select(projections.courses).where(projections.courses.c.course_id == cid)
            )
        ).one()
    session_id = UUID(course.sessions[0]["session_id"])
    await handlers.record_attendance(db.uow(), cid, session_id, AttendanceIn(present=[eid]))
    await handlers.complete(db.uow(), cid, eid)
    return cid, eid, course


async def test_certificates_are_named_after_the_course(training_db: TrainingDb) -> None:
    cid, eid, _ = await completed(training_db)
    async with training_db.sessions() as session:
        assert await projections.category(session, cid) == "digital_skills"
    [row] = await training_db.rows(projections.enrolments)
    assert (row["enrolment_id"], row["certificate_number"]) == (
        eid,
        f"TB-DIG-{TODAY:%Y}-{str(cid)[:6].upper()}-001",
    )


async def test_a_second_follow_up_of_a_month_is_refused_by_the_constraint_too(
    training_db: TrainingDb,
) -> None:
    """The decider refuses a second follow-up of a month; should one slip past it, the
    primary key of `outcomes` refuses it by name (`outcomes_pkey`), not by its text."""
    db = training_db
    cid, eid, course = await completed(db)
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(projections.outcomes).values(
                enrolment_id=eid,
                months_after=6,
                monthly_income_idr=1,
                business_status="none",
                employed=False,
                recorded_at=course.opened_at,
            )
        )
    noted = OUTCOME.model_copy(update={"note": "usaha jalan"})
    with pytest.raises(DomainError) as err:
        await handlers.record_outcome(db.uow(), cid, eid, noted, db.keys)
    assert (err.value.code, err.value.status, err.value.field) == (
        "outcome_recorded",
        409,
        "months_after",
    )
    assert await db.rows(private.notes) == []  # the whole command rolled back
