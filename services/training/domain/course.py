"""The course: one aggregate from its opening to its trainees' outcomes. Pure, no I/O.

A course is one aggregate, so its capacity is one decision at a time: enrolments past the
capacity go on a waiting list (eligible households first), and a withdrawal from a seat
promotes the first in line in the same decision. The rules for trainees are in
enrolment_rules.py; this module dispatches to them and folds the events.

Staff free text (the trainer's name, notes) never reaches the decider: the handlers keep it
and pass a note's salted commitment. Version-1 events (with trainer and notes) are
subclasses of the version-2 ones, so a course with an older history replays the same.
Whether the course exists is the unit of work's check (`course_not_found`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from services.training.domain.enrolment_rules import (
    Complete,
    Enrol,
    RecordAttendance,
    RecordOutcome,
    Withdraw,
    decide_attendance,
    decide_complete,
    decide_enrol,
    decide_outcome,
    decide_withdraw,
)
from services.training.domain.state import Course, Trainee
from services.training.errors import (
    CAPACITY_TOO_SMALL,
    COURSE_EXISTS,
    SESSION_REPEATED,
    SESSIONS_REQUIRED,
)
from shared.domain import DomainError
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
from shared.uow import Decider


@dataclass(frozen=True)
class OpenCourse:
    category: Category
    title: str
    sessions: tuple[Session, ...]  # the trainer's name stays in the service, not the event
    capacity: int
    completion_threshold_pct: int = 75


Command = OpenCourse | Enrol | Withdraw | RecordAttendance | Complete | RecordOutcome


def decide(state: Course, command: Command) -> list[EventPayload]:
    match command:
        case OpenCourse():
            return _open(state, command)
        case Enrol():
            return [decide_enrol(state, command)]
        case Withdraw():
            return decide_withdraw(state, command)
        case RecordAttendance():
            return decide_attendance(state, command)
        case Complete():
            return [decide_complete(state, command)]
        case RecordOutcome():
            return [decide_outcome(state, command)]
    raise TypeError(f"unknown command {command!r}")


def _open(state: Course, c: OpenCourse) -> list[EventPayload]:
    if state.opened:
        raise DomainError(COURSE_EXISTS, "this course is already open")
    if not c.sessions:
        raise DomainError(SESSIONS_REQUIRED, "a course has at least one session", field="sessions")
    if len({s.session_id for s in c.sessions}) != len(c.sessions):
        raise DomainError(SESSION_REPEATED, "session ids must differ", field="sessions")
    if c.capacity < 1:
        raise DomainError(CAPACITY_TOO_SMALL, "capacity is at least 1", field="capacity")
    return [
        CourseOpened(
            category=c.category,
            title=c.title,
            sessions=tuple(sorted(c.sessions, key=lambda s: s.on)),
            capacity=c.capacity,
            completion_threshold_pct=c.completion_threshold_pct,
        )
    ]


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
