"""Training's part of the oversight fold: courses, enrolments and attendance (on the
household's timeline), and a completion judged against the attendance recorded."""

from __future__ import annotations

from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.records import CourseRecord, EnrolmentRecord
from services.audit.domain.oversight.state import Leaf, State
from shared.events import EventPayload
from shared.events.training import (
    AttendanceRecorded,
    CourseOpened,
    OutcomeRecorded,
    TraineeEnrolled,
    TraineeWithdrawn,
    TrainingCompleted,
    WaitlistPromoted,
)


def fold(s: State, leaf: Leaf, payload: EventPayload) -> None:
    i = leaf.index
    match payload:
        case CourseOpened():
            s.courses[leaf.aggregate] = CourseRecord(
                frozenset(session.session_id for session in payload.sessions),
                payload.completion_threshold_pct,
                i,
            )
        case TraineeEnrolled():
            s.enrolments[payload.enrolment_id] = EnrolmentRecord(
                leaf.aggregate, payload.household_id, payload.rw
            )
            s.on_timeline(payload.household_id, leaf)
        case AttendanceRecorded():
            e = s.enrolments.get(payload.enrolment_id)
            if e is not None:
                if payload.present:
                    e.attended[payload.session_id] = i
                else:
                    e.attended.pop(payload.session_id, None)
                s.on_timeline(e.household_id, leaf)
        case TrainingCompleted():
            _completed(s, leaf, payload)
        case WaitlistPromoted() | TraineeWithdrawn() | OutcomeRecorded():
            e = s.enrolments.get(payload.enrolment_id)
            if e is not None:
                s.on_timeline(e.household_id, leaf)


def _completed(s: State, leaf: Leaf, e: TrainingCompleted) -> None:
    course_id = leaf.aggregate
    enrolment = s.enrolments.get(e.enrolment_id)
    course = s.courses.get(course_id)
    if enrolment is not None:
        s.on_timeline(enrolment.household_id, leaf)
    if course is None or enrolment is None:
        return
    attended = {
        session: j for session, j in enrolment.attended.items() if session in course.sessions
    }
    held = len(course.sessions)
    pct = round(100 * len(attended) / held) if held else 0
    if pct < course.threshold_pct:
        s.raised.append(
            Finding(
                "completion_without_attendance",
                enrolment.rw,
                None,
                None,
                None,
                leaf.day,
                f"Enrolment {e.enrolment_id} in course {course_id} completed with "
                f"{pct} % attendance recorded; the course needs {course.threshold_pct} %",
                tuple(sorted({course.opened_idx, *attended.values(), leaf.index})),
                (e.enrolment_id, course_id),
            )
        )
