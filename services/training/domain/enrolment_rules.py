"""The rules for a course's trainees: enrolment and its waiting list, withdrawal,
attendance, completion with a certificate, and follow-ups of outcomes.

Each `decide_*` takes the course's state and a command and returns the events, or raises
the rule's `DomainError`. Staff free text never comes in: a note travels as its salted
commitment (the handler keeps the note itself in the private store).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from services.training.domain.state import BusinessStatus, Course, WithdrawalReason
from services.training.errors import (
    ALREADY_COMPLETED,
    ALREADY_ENROLLED,
    ATTENDANCE_TOO_LOW,
    COURSE_NOT_FINISHED,
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
from shared.clock import add_months
from shared.domain import DomainError
from shared.errors import ATTENDANCE_EMPTY, HOUSEHOLD_INACTIVE, HOUSEHOLD_UNKNOWN
from shared.events import EventPayload
from shared.events.training import (
    AttendanceRecorded,
    Category,
    OutcomeRecorded,
    TraineeEnrolled,
    TraineeWithdrawn,
    TrainingCompleted,
    WaitlistPromoted,
)


# --- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HouseholdFacts:
    """The household as training knows it from registry events."""

    active: bool
    eligible: bool | None
    rw: str
    member_commitments: tuple[str, ...]


@dataclass(frozen=True)
class Enrol:
    enrolment_id: UUID
    household_id: UUID
    household: HouseholdFacts | None  # None: the registry never announced it
    member_commitment: str


@dataclass(frozen=True)
class Withdraw:
    enrolment_id: UUID
    reason: WithdrawalReason
    note_commitment: str | None = None  # the note stays in the service


@dataclass(frozen=True)
class RecordAttendance:
    session_id: UUID
    present: tuple[UUID, ...]
    absent: tuple[UUID, ...]
    today: date


@dataclass(frozen=True)
class Complete:
    enrolment_id: UUID
    certificate_prefix: str  # e.g. TB-HC-2026-1A2B3C; the decider numbers it
    today: date


@dataclass(frozen=True)
class RecordOutcome:
    enrolment_id: UUID
    months_after: int
    monthly_income_idr: int
    business_status: BusinessStatus
    today: date
    employed: bool = False
    note_commitment: str | None = None


# --- decisions -----------------------------------------------------------------------------
def decide_enrol(state: Course, c: Enrol) -> TraineeEnrolled:
    """Past the capacity an enrolment waits; eligible households get priority."""
    h = c.household
    if h is None:
        raise DomainError(
            HOUSEHOLD_UNKNOWN,
            "the registry has not announced this household",
            field="household_id",
        )
    if not h.active:
        raise DomainError(HOUSEHOLD_INACTIVE, "the household is deactivated", field="household_id")
    if c.member_commitment not in h.member_commitments:
        raise DomainError(
            NOT_A_MEMBER, "this NIK is not a member of the household", field="member_nik"
        )
    for t in state.trainees:
        if t.member_commitment == c.member_commitment and t.status != "withdrawn":
            raise DomainError(
                ALREADY_ENROLLED,
                f"this member is already {t.status} in the course (enrolment {t.enrolment_id})",
                field="member_nik",
            )
    return TraineeEnrolled(
        enrolment_id=c.enrolment_id,
        household_id=c.household_id,
        member_commitment=c.member_commitment,
        rw=h.rw,
        waitlisted=state.seated >= state.capacity,
        priority=h.eligible is True,
    )


def decide_withdraw(state: Course, c: Withdraw) -> list[EventPayload]:
    """A seat freed goes to the first in line in the same decision."""
    trainee = state.trainee(c.enrolment_id)
    if trainee.status not in ("enrolled", "waitlisted"):
        raise DomainError(
            NOT_WITHDRAWABLE, f"the trainee has {trainee.status}; nothing to withdraw"
        )
    events: list[EventPayload] = [
        TraineeWithdrawn(
            enrolment_id=c.enrolment_id, reason=c.reason, note_commitment=c.note_commitment
        )
    ]
    # The withdrawn trainee held a seat, not a place in line: the line is unchanged, and
    # one seat fewer is taken.
    nxt = state.next_in_line()
    if trainee.status == "enrolled" and nxt is not None and state.seated - 1 < state.capacity:
        events.append(WaitlistPromoted(enrolment_id=nxt.enrolment_id))
    return events


def decide_attendance(state: Course, c: RecordAttendance) -> list[EventPayload]:
    """Present and absent trainees of one held session; recording it again corrects it."""
    session = next((s for s in state.sessions if s.session_id == c.session_id), None)
    if session is None:
        raise DomainError(SESSION_NOT_FOUND, "the course has no such session", field="session_id")
    if session.on > c.today:
        raise DomainError(
            SESSION_IN_FUTURE,
            f"the session is on {session.on}; record it on or after",
            field="session_id",
        )
    both = set(c.present) & set(c.absent)
    if both:
        raise DomainError(
            PRESENT_AND_ABSENT,
            f"{len(both)} trainee(s) listed as both present and absent",
            field="absent",
        )
    events: list[EventPayload] = []
    listed = [("present", i, e, True) for i, e in enumerate(c.present)]
    listed += [("absent", i, e, False) for i, e in enumerate(c.absent)]
    for where, i, eid, present in listed:
        trainee = next((t for t in state.trainees if t.enrolment_id == eid), None)
        if trainee is None or trainee.status not in ("enrolled", "completed"):
            raise DomainError(
                NOT_ENROLLED,
                f"{eid} holds no seat in this course (waitlisted, withdrawn or unknown)",
                field=f"{where}.{i}",
            )
        events.append(
            AttendanceRecorded(
                session_id=c.session_id,
                enrolment_id=eid,
                member_commitment=trainee.member_commitment,
                present=present,
            )
        )
    if not events:
        raise DomainError(ATTENDANCE_EMPTY, "list who was present or absent", field="present")
    return events


def decide_complete(state: Course, c: Complete) -> TrainingCompleted:
    """Once the last session is held, at the course's attendance threshold; certificates
    numbered in completion order."""
    trainee = state.trainee(c.enrolment_id)
    if trainee.status == "completed":
        raise DomainError(ALREADY_COMPLETED, "the trainee has already completed the course")
    if trainee.status != "enrolled":
        raise DomainError(NOT_COMPLETABLE, f"the trainee is {trainee.status}, not enrolled")
    if state.ends_on is not None and state.ends_on > c.today:
        raise DomainError(
            COURSE_NOT_FINISHED,
            f"the course's last session is on {state.ends_on}; decide completion on or after",
        )
    pct = state.attendance_pct(trainee)
    if pct < state.threshold_pct:
        raise DomainError(
            ATTENDANCE_TOO_LOW,
            f"attended {pct} % of the sessions; completion needs {state.threshold_pct} %",
        )
    return TrainingCompleted(
        enrolment_id=c.enrolment_id,
        member_commitment=trainee.member_commitment,
        certificate_number=f"{c.certificate_prefix}-{state.completed + 1:03d}",
        attendance_pct=pct,
    )


def decide_outcome(state: Course, c: RecordOutcome) -> OutcomeRecorded:
    """One follow-up per month count, of a trainee who completed, once that many months
    have passed since the course's last session (a "3 months after" outcome recorded on
    the day of completion would be a guess, not a follow-up)."""
    trainee = state.trainee(c.enrolment_id)
    if trainee.status != "completed":
        raise DomainError(NOT_COMPLETED, "outcomes are followed up for trainees who completed")
    if c.months_after in trainee.followed_up:
        raise DomainError(
            OUTCOME_RECORDED,
            f"the {c.months_after}-month follow-up is already recorded",
            field="months_after",
        )
    due = add_months(state.ends_on, c.months_after) if state.ends_on else None
    if due is not None and due > c.today:
        raise DomainError(
            FOLLOW_UP_TOO_EARLY,
            f"the course ended on {state.ends_on}: the {c.months_after}-month follow-up is "
            f"recorded from {due}",
            field="months_after",
        )
    return OutcomeRecorded(
        enrolment_id=c.enrolment_id,
        months_after=c.months_after,
        monthly_income_idr=c.monthly_income_idr,
        business_status=c.business_status,
        employed=c.employed,
        note_commitment=c.note_commitment,
    )


CATEGORY_CODES = {"handicraft": "KRJ", "digital_skills": "DIG", "micro_business": "UMK"}


def certificate_prefix(course_id: UUID, category: Category, today: date) -> str:
    """`TB-<KRJ|DIG|UMK>-<year>-<course>`: the decider numbers each certificate after it."""
    return f"TB-{CATEGORY_CODES[category]}-{today:%Y}-{str(course_id)[:6]}".upper()
