"""Enrolments and what follows them: enrolment (a waiting list when the course is full),
withdrawal, attendance, completion with a certificate, and follow-ups of outcomes.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.training import handlers
from services.training.api import queries
from services.training.api.deps import CoordinatorWork, Settings
from services.training.api.schemas import (
    AttendanceIn,
    AttendanceOut,
    EnrolmentIn,
    EnrolmentOut,
    OutcomeIn,
    OutcomeOut,
    WithdrawalIn,
)
from services.training.errors import (
    ALREADY_COMPLETED,
    ALREADY_ENROLLED,
    ATTENDANCE_TOO_LOW,
    COURSE_NOT_FINISHED,
    COURSE_NOT_FOUND,
    ENROLMENT_NOT_FOUND,
    FOLLOW_UP_TOO_EARLY,
    NOT_A_MEMBER,
    NOT_COMPLETABLE,
    NOT_COMPLETED,
    NOT_ENROLLED,
    NOT_WITHDRAWABLE,
    OUTCOME_RECORDED,
    PRESENT_AND_ABSENT,
    SESSION_IN_FUTURE,
    SESSION_NOT_FOUND,
)
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import ATTENDANCE_EMPTY, HOUSEHOLD_INACTIVE, HOUSEHOLD_UNKNOWN, errors
from shared.pii import commitments

router = APIRouter(prefix="/courses/{course_id}", tags=["enrolments"])
# What every command on an enrolment of a course can answer.
ON_ENROLMENT = (COURSE_NOT_FOUND, ENROLMENT_NOT_FOUND)


async def _enrolment(session: Reads, enrolment_id: UUID) -> EnrolmentOut:
    found = await queries.enrolment(session, enrolment_id)
    if found is None:
        raise DomainError(ENROLMENT_NOT_FOUND, f"no enrolment {enrolment_id}")
    return found


@router.post(
    "/enrolments",
    status_code=201,
    response_model=EnrolmentOut,
    response_model_exclude_unset=True,
    summary="Enrol a household member (waiting list when the course is full)",
    responses=errors(
        COURSE_NOT_FOUND, HOUSEHOLD_UNKNOWN, HOUSEHOLD_INACTIVE, NOT_A_MEMBER, ALREADY_ENROLLED
    ),
)
async def enrol(
    course_id: UUID, form: EnrolmentIn, uow: CoordinatorWork, settings: Settings, session: Reads
) -> EnrolmentOut:
    enrolment_id = await handlers.enrol(uow, course_id, form, commitments(settings))
    return await _enrolment(session, enrolment_id)


@router.post(
    "/enrolments/{enrolment_id}/withdrawal",
    response_model=EnrolmentOut,
    response_model_exclude_unset=True,
    summary="Withdraw (a seat freed moves the waiting list up)",
    responses=errors(*ON_ENROLMENT, NOT_WITHDRAWABLE),
)
async def withdraw(
    course_id: UUID,
    enrolment_id: UUID,
    form: WithdrawalIn,
    uow: CoordinatorWork,
    settings: Settings,
    session: Reads,
) -> EnrolmentOut:
    await handlers.withdraw(uow, course_id, enrolment_id, form, commitments(settings))
    return await _enrolment(session, enrolment_id)


@router.post(
    "/sessions/{session_id}/attendance",
    response_model=AttendanceOut,
    summary="Record who attended a session (again to correct it)",
    responses=errors(
        COURSE_NOT_FOUND,
        SESSION_NOT_FOUND,
        SESSION_IN_FUTURE,
        PRESENT_AND_ABSENT,
        NOT_ENROLLED,
        ATTENDANCE_EMPTY,
    ),
)
async def record_attendance(
    course_id: UUID, session_id: UUID, form: AttendanceIn, uow: CoordinatorWork
) -> AttendanceOut:
    outcome = await handlers.record_attendance(uow, course_id, session_id, form)
    return AttendanceOut(course_id=course_id, session_id=session_id, recorded=len(outcome.events))


@router.post(
    "/enrolments/{enrolment_id}/completion",
    response_model=EnrolmentOut,
    response_model_exclude_unset=True,
    summary="Complete the course (attendance rule) and issue the certificate",
    responses=errors(
        *ON_ENROLMENT, ALREADY_COMPLETED, NOT_COMPLETABLE, COURSE_NOT_FINISHED, ATTENDANCE_TOO_LOW
    ),
)
async def complete(
    course_id: UUID, enrolment_id: UUID, uow: CoordinatorWork, session: Reads
) -> EnrolmentOut:
    await handlers.complete(uow, course_id, enrolment_id)
    return await _enrolment(session, enrolment_id)


@router.post(
    "/enrolments/{enrolment_id}/outcomes",
    status_code=201,
    response_model=OutcomeOut,
    summary="Record a follow-up (income, business) months after the course",
    responses=errors(*ON_ENROLMENT, NOT_COMPLETED, FOLLOW_UP_TOO_EARLY, OUTCOME_RECORDED),
)
async def record_outcome(
    course_id: UUID,
    enrolment_id: UUID,
    form: OutcomeIn,
    uow: CoordinatorWork,
    settings: Settings,
) -> OutcomeOut:
    await handlers.record_outcome(uow, course_id, enrolment_id, form, commitments(settings))
    return OutcomeOut(enrolment_id=enrolment_id, **form.model_dump())
