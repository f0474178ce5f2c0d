"""Training's commands, one named function each: the facts it reads, what it decides and
everything it writes, in one unit of work (shared/uow.py). Staff free text (the trainer's
name, notes) goes to the private store here, never into an event: an event carries a
note's salted commitment, whose salt is kept beside the note.

Every handler is `retried`: none takes If-Match, so a concurrent append to the course (a
busy course's enrolments) is decided again on the new state rather than refused."""

from __future__ import annotations

from uuid import UUID, uuid4

from services.training import private, projections
from services.training.api.schemas import (
    AttendanceIn,
    CourseIn,
    EnrolmentIn,
    OutcomeIn,
    WithdrawalIn,
)
from services.training.domain.course import OpenCourse, courses
from services.training.domain.enrolment_rules import (
    Complete,
    Enrol,
    RecordAttendance,
    RecordOutcome,
    Withdraw,
    certificate_prefix,
)
from services.training.domain.state import Course
from shared import clock
from shared.events.training import Session
from shared.pii import Commitments
from shared.uow import Outcome, UnitOfWork, retried


@retried
async def open_course(
    uow: UnitOfWork, form: CourseIn, *, default_threshold_pct: int
) -> Outcome[Course]:
    course_id = uuid4()
    command = OpenCourse(
        category=form.category,
        title=form.title,
        sessions=tuple(Session(session_id=uuid4(), on=s.on, place=s.place) for s in form.sessions),
        capacity=form.capacity,
        completion_threshold_pct=form.completion_threshold_pct or default_threshold_pct,
    )
    async with uow:
        outcome = await uow.create(courses, course_id, command)
        await private.keep_trainer(uow.session, course_id, form.trainer)
    return outcome


@retried
async def enrol(uow: UnitOfWork, course_id: UUID, form: EnrolmentIn, keys: Commitments) -> UUID:
    """The new enrolment's id. The member is known by the commitment of their NIK under the
    NIK key, the one the registry publishes for its members."""
    enrolment_id = uuid4()
    member = keys.nik(form.member_nik)
    async with uow:
        household = await projections.household(uow.session, form.household_id)
        command = Enrol(
            enrolment_id=enrolment_id,
            household_id=form.household_id,
            household=household,
            member_commitment=member,
        )
        await uow.execute(courses, course_id, command)
    return enrolment_id


@retried
async def withdraw(
    uow: UnitOfWork, course_id: UUID, enrolment_id: UUID, form: WithdrawalIn, keys: Commitments
) -> Outcome[Course]:
    note = private.note(keys, form.note)
    command = Withdraw(
        enrolment_id=enrolment_id, reason=form.reason, note_commitment=note.commitment
    )
    async with uow:
        outcome = await uow.execute(courses, course_id, command)
        # The withdrawal is the first event; a promotion from the waiting list may follow.
        await private.keep_note(uow.session, outcome.events[0], note)
    return outcome


@retried
async def record_attendance(
    uow: UnitOfWork, course_id: UUID, session_id: UUID, form: AttendanceIn
) -> Outcome[Course]:
    command = RecordAttendance(
        session_id=session_id,
        present=tuple(form.present),
        absent=tuple(form.absent),
        today=clock.today(),
    )
    async with uow:
        return await uow.execute(courses, course_id, command)


@retried
async def complete(uow: UnitOfWork, course_id: UUID, enrolment_id: UUID) -> Outcome[Course]:
    async with uow:
        category = await projections.category(uow.session, course_id)
        # No category, no course: `execute` refuses it (course_not_found) before any prefix.
        today = clock.today()
        prefix = certificate_prefix(course_id, category, today) if category else ""
        command = Complete(enrolment_id=enrolment_id, certificate_prefix=prefix, today=today)
        return await uow.execute(courses, course_id, command)


@retried
async def record_outcome(
    uow: UnitOfWork, course_id: UUID, enrolment_id: UUID, form: OutcomeIn, keys: Commitments
) -> Outcome[Course]:
    note = private.note(keys, form.note)
    command = RecordOutcome(
        enrolment_id=enrolment_id,
        months_after=form.months_after,
        monthly_income_idr=form.monthly_income_idr,
        business_status=form.business_status,
        today=clock.today(),
        employed=form.employed,
        note_commitment=note.commitment,
    )
    async with uow:
        outcome = await uow.execute(courses, course_id, command)
        await private.keep_note(uow.session, outcome.events[0], note)
    return outcome
