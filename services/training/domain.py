"""Training decider: a course from opening to its trainees' outcomes. Pure, no I/O.

A course is one aggregate, so its capacity is one decision at a time: enrolments past the
capacity go on a waiting list (eligible households first), and a withdrawal from a seat
promotes the first in line in the same decision.

Staff free text (the trainer's name, notes) never reaches a decider: the service keeps it
and passes a note's salted commitment. Version-1 events (with trainer and notes) are
subclasses of the version-2 ones, so a course with an older history replays the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from shared.domain import Conflict, DomainError, NotFound
from shared.events import EventPayload
from shared.events.training import (
    AttendanceRecorded,
    Category,
    CourseOpened,
    OutcomeRecorded,
    Session,
    TraineeEnrolled,
    TraineeWithdrawn,
    TrainingCompleted,
    WaitlistPromoted,
)
from shared.service import Decider

Status = Literal["enrolled", "waitlisted", "withdrawn", "completed"]
WithdrawalReason = Literal["work", "health", "moved", "family", "no_show", "other"]
BusinessStatus = Literal["none", "planning", "started", "running", "closed"]


# --- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trainee:
    enrolment_id: UUID
    household_id: UUID
    member_commitment: str
    priority: bool
    status: Status
    attended: frozenset[UUID] = frozenset()
    followed_up: frozenset[int] = frozenset()  # months after the course


@dataclass(frozen=True)
class Course:
    opened: bool = False
    category: Category = "handicraft"
    capacity: int = 0
    threshold_pct: int = 75
    sessions: tuple[Session, ...] = ()
    trainees: tuple[Trainee, ...] = ()  # in enrolment order
    completed: int = 0

    @property
    def seated(self) -> int:
        return sum(1 for t in self.trainees if t.status in ("enrolled", "completed"))

    def trainee(self, enrolment_id: UUID) -> Trainee:
        for t in self.trainees:
            if t.enrolment_id == enrolment_id:
                return t
        raise NotFound(
            "enrolment_not_found",
            f"no enrolment {enrolment_id} in this course",
            field="enrolment_id",
        )

    def next_in_line(self) -> Trainee | None:
        """Eligible households first, then in the order they applied."""
        waiting = [t for t in self.trainees if t.status == "waitlisted"]
        return min(waiting, key=lambda t: not t.priority) if waiting else None

    def attendance_pct(self, trainee: Trainee) -> int:
        held = {s.session_id for s in self.sessions}
        return round(100 * len(trainee.attended & held) / len(held)) if held else 0


# --- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenCourse:
    category: Category
    title: str
    sessions: tuple[Session, ...]  # the trainer's name stays in the service, not the event
    capacity: int
    completion_threshold_pct: int = 75


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
    certificate_prefix: str  # e.g. TB-HC-2026-1a2b3c; the decider numbers it


@dataclass(frozen=True)
class RecordOutcome:
    enrolment_id: UUID
    months_after: int
    monthly_income_idr: int
    business_status: BusinessStatus
    employed: bool = False
    note_commitment: str | None = None


Command = OpenCourse | Enrol | Withdraw | RecordAttendance | Complete | RecordOutcome


# --- decisions -----------------------------------------------------------------------------
def decide(state: Course, command: Command) -> list[EventPayload]:
    if isinstance(command, OpenCourse):
        return _open(state, command)
    if not state.opened:
        raise NotFound("course_not_found", "there is no such course")
    match command:
        case Enrol():
            return [_enrol(state, command)]
        case Withdraw():
            return _withdraw(state, command)
        case RecordAttendance():
            return _attendance(state, command)
        case Complete():
            return [_complete(state, command)]
        case RecordOutcome():
            trainee = state.trainee(command.enrolment_id)
            if trainee.status != "completed":
                raise Conflict(
                    "not_completed", "outcomes are followed up for trainees who completed"
                )
            if command.months_after in trainee.followed_up:
                raise Conflict(
                    "outcome_recorded",
                    f"the {command.months_after}-month follow-up is already recorded",
                    field="months_after",
                )
            return [
                OutcomeRecorded(
                    enrolment_id=command.enrolment_id,
                    months_after=command.months_after,
                    monthly_income_idr=command.monthly_income_idr,
                    business_status=command.business_status,
                    employed=command.employed,
                    note_commitment=command.note_commitment,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _open(state: Course, c: OpenCourse) -> list[EventPayload]:
    if state.opened:
        raise Conflict("course_exists", "this course is already open")
    if not c.sessions:
        raise DomainError(
            "sessions_required", "a course has at least one session", field="sessions"
        )
    if len({s.session_id for s in c.sessions}) != len(c.sessions):
        raise DomainError("session_repeated", "session ids must differ", field="sessions")
    if c.capacity < 1:
        raise DomainError("capacity_too_small", "capacity is at least 1", field="capacity")
    return [
        CourseOpened(
            category=c.category,
            title=c.title,
            sessions=tuple(sorted(c.sessions, key=lambda s: s.on)),
            capacity=c.capacity,
            completion_threshold_pct=c.completion_threshold_pct,
        )
    ]


def _enrol(state: Course, c: Enrol) -> TraineeEnrolled:
    h = c.household
    if h is None:
        raise DomainError(
            "household_unknown",
            "the registry has not announced this household",
            field="household_id",
        )
    if not h.active:
        raise DomainError(
            "household_inactive", "the household is deactivated", field="household_id"
        )
    if c.member_commitment not in h.member_commitments:
        raise DomainError(
            "not_a_member", "this NIK is not a member of the household", field="member_nik"
        )
    for t in state.trainees:
        if t.member_commitment == c.member_commitment and t.status != "withdrawn":
            raise Conflict(
                "already_enrolled",
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


def _withdraw(state: Course, c: Withdraw) -> list[EventPayload]:
    trainee = state.trainee(c.enrolment_id)
    if trainee.status not in ("enrolled", "waitlisted"):
        raise Conflict("not_enrolled", f"the trainee has {trainee.status}; nothing to withdraw")
    events: list[EventPayload] = [
        TraineeWithdrawn(
            enrolment_id=c.enrolment_id, reason=c.reason, note_commitment=c.note_commitment
        )
    ]
    if trainee.status == "enrolled":
        after = evolve(state, events[0])
        if (nxt := after.next_in_line()) is not None and after.seated < after.capacity:
            events.append(WaitlistPromoted(enrolment_id=nxt.enrolment_id))
    return events


def _attendance(state: Course, c: RecordAttendance) -> list[EventPayload]:
    session = next((s for s in state.sessions if s.session_id == c.session_id), None)
    if session is None:
        raise NotFound("session_not_found", "the course has no such session", field="session_id")
    if session.on > c.today:
        raise DomainError(
            "session_in_future",
            f"the session is on {session.on}; record it on or after",
            field="session_id",
        )
    both = set(c.present) & set(c.absent)
    if both:
        raise DomainError(
            "present_and_absent",
            f"{len(both)} trainee(s) listed as both present and absent",
            field="absent",
        )
    events: list[EventPayload] = []
    for i, (eid, present) in enumerate(
        [(e, True) for e in c.present] + [(e, False) for e in c.absent]
    ):
        trainee = next((t for t in state.trainees if t.enrolment_id == eid), None)
        if trainee is None or trainee.status not in ("enrolled", "completed"):
            where = "present" if present else "absent"
            raise DomainError(
                "not_enrolled",
                f"{eid} holds no seat in this course (waitlisted, withdrawn or unknown)",
                field=f"{where}.{i if present else i - len(c.present)}",
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
        raise DomainError("attendance_empty", "list who was present or absent", field="present")
    return events


def _complete(state: Course, c: Complete) -> TrainingCompleted:
    trainee = state.trainee(c.enrolment_id)
    if trainee.status == "completed":
        raise Conflict("already_completed", "the trainee has already completed the course")
    if trainee.status != "enrolled":
        raise Conflict("not_enrolled", f"the trainee is {trainee.status}, not enrolled")
    pct = state.attendance_pct(trainee)
    if pct < state.threshold_pct:
        raise DomainError(
            "attendance_too_low",
            f"attended {pct} % of the sessions; completion needs {state.threshold_pct} %",
        )
    return TrainingCompleted(
        enrolment_id=c.enrolment_id,
        member_commitment=trainee.member_commitment,
        certificate_number=f"{c.certificate_prefix}-{state.completed + 1:03d}",
        attendance_pct=pct,
    )


# --- evolution -----------------------------------------------------------------------------
def _with(state: Course, enrolment_id: UUID, **changes: object) -> Course:
    return replace(
        state,
        trainees=tuple(
            replace(t, **changes) if t.enrolment_id == enrolment_id else t  # type: ignore[arg-type]
            for t in state.trainees
        ),
    )


def evolve(state: Course, event: EventPayload) -> Course:
    match event:
        case CourseOpened():
            return replace(
                state,
                opened=True,
                category=event.category,
                capacity=event.capacity,
                threshold_pct=event.completion_threshold_pct,
                sessions=event.sessions,
            )
        case TraineeEnrolled():
            trainee = Trainee(
                enrolment_id=event.enrolment_id,
                household_id=event.household_id,
                member_commitment=event.member_commitment,
                priority=event.priority,
                status="waitlisted" if event.waitlisted else "enrolled",
            )
            return replace(state, trainees=(*state.trainees, trainee))
        case WaitlistPromoted():
            return _with(state, event.enrolment_id, status="enrolled")
        case TraineeWithdrawn():
            return _with(state, event.enrolment_id, status="withdrawn")
        case AttendanceRecorded():
            t = state.trainee(event.enrolment_id)
            attended = (
                t.attended | {event.session_id}
                if event.present
                else t.attended - {event.session_id}
            )
            return _with(state, event.enrolment_id, attended=attended)
        case TrainingCompleted():
            state = _with(state, event.enrolment_id, status="completed")
            return replace(state, completed=state.completed + 1)
        case OutcomeRecorded():
            done = state.trainee(event.enrolment_id).followed_up | {event.months_after}
            return _with(state, event.enrolment_id, followed_up=done)
    return state


courses: Decider[Course, Command] = Decider("course", Course(), decide, evolve)
