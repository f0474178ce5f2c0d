"""The course decider as given / when / then: events in, a command, events or errors out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.training.domain.course import OpenCourse, decide, evolve
from services.training.domain.enrolment_rules import (
    Complete,
    Enrol,
    HouseholdFacts,
    RecordAttendance,
    RecordOutcome,
    Withdraw,
)
from services.training.domain.state import Course
from shared.clock import add_months
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.domain import DomainError, fold
from shared.events import EventPayload
from shared.events.training import (
    AttendanceRecorded,
    CourseOpened,
    CourseOpenedV1,
    OutcomeRecorded,
    OutcomeRecordedV1,
    Session,
    TraineeEnrolled,
    TraineeWithdrawn,
    TraineeWithdrawnV1,
    TrainingCompleted,
    WaitlistPromoted,
)

TODAY = wib_today()
PREFIX = "TB-HC-2026-1a2b3c"
HEAD, SPOUSE, CHILD = "c0mm1t-head", "c0mm1t-spouse", "c0mm1t-child"
HOUSEHOLD_ID = uuid4()
SITI, BUDI, RINA, AGUS = uuid4(), uuid4(), uuid4(), uuid4()  # enrolment ids
NOTE, FOLLOW_UP_NOTE = "d1" * 32, "e2" * 32  # commitments: the notes stay in the service


# --- course builders -----------------------------------------------------------------------
def session(in_days: int, place: str = "Aula RW 02, Jl. Tanjung Barat Raya") -> Session:
    return Session(session_id=uuid4(), on=TODAY + timedelta(days=in_days), place=place)


# Four weekly sessions, the last one today: all of them may be recorded.
SESSIONS = (session(-21), session(-14), session(-7, "Balai Warga RW 03"), session(0))
S1, S2, S3, S4 = SESSIONS


def open_course(
    sessions: tuple[Session, ...] = SESSIONS, capacity: int = 2, threshold: int = 75
) -> OpenCourse:
    return OpenCourse(
        category="handicraft",
        title="Kerajinan anyaman bambu",
        sessions=sessions,
        capacity=capacity,
        completion_threshold_pct=threshold,
    )


def opened(
    capacity: int = 2, threshold: int = 75, sessions: tuple[Session, ...] = SESSIONS
) -> CourseOpened:
    return CourseOpened(
        category="handicraft",
        title="Kerajinan anyaman bambu",
        sessions=sessions,
        capacity=capacity,
        completion_threshold_pct=threshold,
    )


def course(*events: EventPayload) -> Course:
    return fold(evolve, Course(), events)


# --- enrolment builders --------------------------------------------------------------------
def member_of(enrolment_id: UUID) -> str:
    return f"c0mm1t-{enrolment_id.hex[:12]}"


def household(
    *,
    active: bool = True,
    eligible: bool | None = True,
    rw: str = "02",
    members: tuple[str, ...] = (HEAD, SPOUSE, CHILD),
) -> HouseholdFacts:
    return HouseholdFacts(active=active, eligible=eligible, rw=rw, member_commitments=members)


def enrol(
    enrolment_id: UUID | None = None,
    *,
    member: str = HEAD,
    hh: HouseholdFacts | None = None,
    known: bool = True,
) -> Enrol:
    return Enrol(
        enrolment_id=enrolment_id or uuid4(),
        household_id=HOUSEHOLD_ID,
        household=(hh or household()) if known else None,
        member_commitment=member,
    )


def enrolled(
    enrolment_id: UUID, *, waitlisted: bool = False, priority: bool = False, member: str = ""
) -> TraineeEnrolled:
    return TraineeEnrolled(
        enrolment_id=enrolment_id,
        household_id=uuid4(),
        member_commitment=member or member_of(enrolment_id),
        rw="02",
        waitlisted=waitlisted,
        priority=priority,
    )


def withdraw(enrolment_id: UUID, note: str | None = NOTE) -> Withdraw:
    return Withdraw(enrolment_id=enrolment_id, reason="work", note_commitment=note)


def withdrawn(enrolment_id: UUID) -> TraineeWithdrawn:
    return TraineeWithdrawn(enrolment_id=enrolment_id, reason="work")


def promoted(enrolment_id: UUID) -> WaitlistPromoted:
    return WaitlistPromoted(enrolment_id=enrolment_id)


# --- attendance and completion builders ----------------------------------------------------
def attendance(
    s: Session = S1,
    present: tuple[UUID, ...] = (),
    absent: tuple[UUID, ...] = (),
) -> RecordAttendance:
    return RecordAttendance(session_id=s.session_id, present=present, absent=absent, today=TODAY)


def attended(enrolment_id: UUID, *sessions: Session, present: bool = True) -> list[EventPayload]:
    return [
        AttendanceRecorded(
            session_id=s.session_id,
            enrolment_id=enrolment_id,
            member_commitment=member_of(enrolment_id),
            present=present,
        )
        for s in sessions
    ]


def complete(enrolment_id: UUID) -> Complete:
    return Complete(enrolment_id=enrolment_id, certificate_prefix=PREFIX, today=TODAY)


def completed(enrolment_id: UUID, number: int = 1) -> TrainingCompleted:
    return TrainingCompleted(
        enrolment_id=enrolment_id,
        member_commitment=member_of(enrolment_id),
        certificate_number=f"{PREFIX}-{number:03d}",
        attendance_pct=100,
    )


def record_outcome(
    enrolment_id: UUID, months_after: int = 6, today: date | None = None
) -> RecordOutcome:
    """The follow-up, recorded on the day it falls due unless `today` says otherwise."""
    return RecordOutcome(
        enrolment_id=enrolment_id,
        months_after=months_after,
        today=today or add_months(S4.on, months_after),
        monthly_income_idr=1_750_000,
        business_status="running",
        note_commitment=FOLLOW_UP_NOTE,
    )


def graduate(enrolment_id: UUID) -> list[EventPayload]:
    """A course in which `enrolment_id` attended every session and completed."""
    return [
        opened(),
        enrolled(enrolment_id),
        *attended(enrolment_id, *SESSIONS),
        completed(enrolment_id),
    ]


def outcome(enrolment_id: UUID, months_after: int = 6) -> OutcomeRecorded:
    [event] = decide(course(*graduate(enrolment_id)), record_outcome(enrolment_id, months_after))
    assert isinstance(event, OutcomeRecorded)
    return event


# --- opening -------------------------------------------------------------------------------
def test_opening_a_course_records_its_sessions_capacity_and_threshold() -> None:
    [event] = decide(Course(), open_course(capacity=20, threshold=80))
    assert event == opened(capacity=20, threshold=80)
    state = course(event)
    assert (state.opened, state.capacity, state.threshold_pct) == (True, 20, 80)
    assert (state.category, state.sessions, state.trainees) == ("handicraft", SESSIONS, ())


def test_sessions_are_recorded_in_date_order() -> None:
    [event] = decide(Course(), open_course(sessions=(S3, S1, S4, S2)))
    assert isinstance(event, CourseOpened)
    assert event.sessions == (S1, S2, S3, S4)


def test_a_course_is_opened_once() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened()), open_course())
    assert (err.value.code, err.value.status) == ("course_exists", 409)


def test_a_course_has_at_least_one_session() -> None:
    with pytest.raises(DomainError) as err:
        decide(Course(), open_course(sessions=()))
    assert (err.value.code, err.value.field) == ("sessions_required", "sessions")


def test_session_ids_must_differ() -> None:
    again = Session(session_id=S1.session_id, on=S2.on, place="Aula RW 02")
    with pytest.raises(DomainError) as err:
        decide(Course(), open_course(sessions=(S1, again)))
    assert (err.value.code, err.value.field) == ("session_repeated", "sessions")


@pytest.mark.parametrize("capacity", [0, -5])
def test_a_course_has_at_least_one_seat(capacity: int) -> None:
    with pytest.raises(DomainError) as err:
        decide(Course(), open_course(capacity=capacity))
    assert (err.value.code, err.value.field) == ("capacity_too_small", "capacity")


# --- enrolment -----------------------------------------------------------------------------
def test_a_member_of_an_active_household_takes_a_free_seat() -> None:
    [event] = decide(course(opened()), enrol(SITI, member=SPOUSE, hh=household(rw="03")))
    assert event == TraineeEnrolled(
        enrolment_id=SITI,
        household_id=HOUSEHOLD_ID,
        member_commitment=SPOUSE,
        rw="03",
        waitlisted=False,
        priority=True,
    )
    [trainee] = course(opened(), event).trainees
    assert (trainee.enrolment_id, trainee.status, trainee.priority) == (SITI, "enrolled", True)


def test_a_household_the_registry_never_announced_is_not_enrolled() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened()), enrol(known=False))
    assert (type(err.value), err.value.code, err.value.status) == (
        DomainError,
        "household_unknown",
        422,
    )
    assert err.value.field == "household_id"


def test_an_inactive_household_is_not_enrolled() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened()), enrol(hh=household(active=False)))
    assert (err.value.code, err.value.field, err.value.status) == (
        "household_inactive",
        "household_id",
        409,  # the kernel's status for the code (was 422 here)
    )


def test_the_trainee_must_be_a_member_of_the_household() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened()), enrol(member="c0mm1t-neighbour"))
    assert (err.value.code, err.value.field) == ("not_a_member", "member_nik")


@pytest.mark.parametrize(
    "history",
    [
        [enrolled(SITI, member=HEAD)],
        [enrolled(BUDI), enrolled(RINA), enrolled(SITI, member=HEAD, waitlisted=True)],
        [enrolled(SITI, member=HEAD), *attended(SITI, *SESSIONS), completed(SITI)],
    ],
    ids=["enrolled", "waitlisted", "completed"],
)
def test_a_member_enrols_once_in_a_course(history: list[EventPayload]) -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), *history), enrol(member=HEAD))
    assert (err.value.code, err.value.field, err.value.status) == (
        "already_enrolled",
        "member_nik",
        409,
    )


def test_a_member_who_withdrew_may_enrol_again() -> None:
    given = course(opened(), enrolled(SITI, member=HEAD), withdrawn(SITI))
    [event] = decide(given, enrol(BUDI, member=HEAD))
    assert isinstance(event, TraineeEnrolled)
    assert (event.enrolment_id, event.waitlisted) == (BUDI, False)


def test_enrolments_past_the_capacity_go_on_the_waiting_list() -> None:
    given = course(opened(capacity=2), enrolled(SITI), enrolled(BUDI))
    [event] = decide(given, enrol(RINA))
    assert isinstance(event, TraineeEnrolled)
    assert event.waitlisted is True
    assert evolve(given, event).trainee(RINA).status == "waitlisted"


def test_a_completed_trainee_keeps_the_seat() -> None:
    given = course(opened(capacity=1), enrolled(SITI), *attended(SITI, *SESSIONS), completed(SITI))
    [event] = decide(given, enrol(BUDI))
    assert isinstance(event, TraineeEnrolled)
    assert event.waitlisted is True


@pytest.mark.parametrize(("eligible", "priority"), [(True, True), (False, False), (None, False)])
def test_households_decided_eligible_enrol_with_priority(
    eligible: bool | None, priority: bool
) -> None:
    [event] = decide(course(opened()), enrol(hh=household(eligible=eligible)))
    assert isinstance(event, TraineeEnrolled)
    assert event.priority is priority


# --- withdrawal ----------------------------------------------------------------------------
def test_a_withdrawal_records_the_reason_and_the_notes_commitment() -> None:
    [event] = decide(course(opened(), enrolled(SITI)), withdraw(SITI))
    assert event == TraineeWithdrawn(enrolment_id=SITI, reason="work", note_commitment=NOTE)
    assert course(opened(), enrolled(SITI), event).trainee(SITI).status == "withdrawn"


def test_a_withdrawal_without_a_note_carries_no_commitment() -> None:
    [event] = decide(course(opened(), enrolled(SITI)), withdraw(SITI, note=None))
    assert isinstance(event, TraineeWithdrawn)
    assert (event.schema_version, event.note_commitment) == (2, None)


def test_a_freed_seat_goes_to_an_eligible_household_before_an_earlier_one() -> None:
    given = course(
        opened(capacity=1),
        enrolled(SITI),
        enrolled(BUDI, waitlisted=True, priority=False),
        enrolled(RINA, waitlisted=True, priority=True),
    )
    events = decide(given, withdraw(SITI))
    assert events == [
        TraineeWithdrawn(enrolment_id=SITI, reason="work", note_commitment=NOTE),
        WaitlistPromoted(enrolment_id=RINA),
    ]
    after = fold(evolve, given, events)
    assert [t.status for t in after.trainees] == ["withdrawn", "waitlisted", "enrolled"]
    assert after.seated == 1


@pytest.mark.parametrize("priority", [True, False])
def test_among_equals_the_freed_seat_goes_to_the_earliest(priority: bool) -> None:
    given = course(
        opened(capacity=1),
        enrolled(SITI),
        enrolled(BUDI, waitlisted=True, priority=priority),
        enrolled(RINA, waitlisted=True, priority=priority),
        enrolled(AGUS, waitlisted=True, priority=priority),
    )
    [_, promotion] = decide(given, withdraw(SITI))
    assert promotion == promoted(BUDI)


def test_a_seat_freed_twice_promotes_in_turn() -> None:
    given = course(
        opened(capacity=2),
        enrolled(SITI),
        enrolled(BUDI),
        enrolled(RINA, waitlisted=True),
        enrolled(AGUS, waitlisted=True, priority=True),
    )
    first = decide(given, withdraw(SITI))
    given = fold(evolve, given, first)
    second = decide(given, withdraw(BUDI))
    assert (first[1], second[1]) == (promoted(AGUS), promoted(RINA))


def test_withdrawing_from_the_waiting_list_promotes_nobody() -> None:
    given = course(
        opened(capacity=1),
        enrolled(SITI),
        enrolled(BUDI, waitlisted=True),
        enrolled(RINA, waitlisted=True, priority=True),
    )
    events = decide(given, withdraw(BUDI))
    assert [type(e) for e in events] == [TraineeWithdrawn]
    after = fold(evolve, given, events)
    assert [t.status for t in after.trainees] == ["enrolled", "withdrawn", "waitlisted"]


def test_a_withdrawal_with_nobody_waiting_only_frees_the_seat() -> None:
    given = course(opened(capacity=2), enrolled(SITI), enrolled(BUDI))
    events = decide(given, withdraw(SITI))
    assert [type(e) for e in events] == [TraineeWithdrawn]
    assert fold(evolve, given, events).seated == 1


@pytest.mark.parametrize(
    "history",
    [
        [enrolled(SITI), withdrawn(SITI)],
        [enrolled(SITI), *attended(SITI, *SESSIONS), completed(SITI)],
    ],
    ids=["withdrawn", "completed"],
)
def test_only_an_enrolled_or_waitlisted_trainee_withdraws(history: list[EventPayload]) -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), *history), withdraw(SITI))
    assert (err.value.code, err.value.status) == ("not_withdrawable", 409)


def test_an_enrolment_never_made_cannot_be_withdrawn() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), enrolled(SITI)), withdraw(BUDI))
    assert (err.value.code, err.value.field, err.value.status) == (
        "enrolment_not_found",
        "enrolment_id",
        404,
    )


# --- attendance ----------------------------------------------------------------------------
def test_attendance_is_recorded_per_trainee() -> None:
    given = course(opened(capacity=3), enrolled(SITI), enrolled(BUDI), enrolled(RINA))
    events = decide(given, attendance(S2, present=(SITI, RINA), absent=(BUDI,)))
    assert events == [
        *attended(SITI, S2),
        *attended(RINA, S2),
        *attended(BUDI, S2, present=False),
    ]
    after = fold(evolve, given, events)
    assert (after.trainee(SITI).attended, after.trainee(BUDI).attended) == (
        frozenset({S2.session_id}),
        frozenset(),
    )


def test_attendance_is_recorded_for_a_session_of_the_course() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), enrolled(SITI)), attendance(session(-3), present=(SITI,)))
    assert (err.value.code, err.value.field, err.value.status) == (
        "session_not_found",
        "session_id",
        404,
    )


def test_attendance_is_not_recorded_ahead_of_the_session() -> None:
    tomorrow = session(1)
    given = course(opened(sessions=(*SESSIONS, tomorrow)), enrolled(SITI))
    with pytest.raises(DomainError) as err:
        decide(given, attendance(tomorrow, present=(SITI,)))
    assert err.value.code == "session_in_future"


def test_attendance_is_recorded_on_the_day_of_the_session() -> None:
    [event] = decide(course(opened(), enrolled(SITI)), attendance(S4, present=(SITI,)))
    assert event == attended(SITI, S4)[0]


def test_a_trainee_is_not_both_present_and_absent() -> None:
    given = course(opened(), enrolled(SITI), enrolled(BUDI))
    with pytest.raises(DomainError) as err:
        decide(given, attendance(present=(SITI, BUDI), absent=(BUDI,)))
    assert err.value.code == "present_and_absent"


def test_an_empty_attendance_list_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), enrolled(SITI)), attendance())
    assert (err.value.code, err.value.field) == ("attendance_empty", "present")


@pytest.mark.parametrize(
    ("present", "absent", "field"),
    [
        ((RINA,), (SITI,), "present.0"),
        ((SITI,), (BUDI, AGUS), "absent.1"),
        ((SITI, uuid4()), (), "present.1"),
    ],
    ids=["waitlisted", "withdrawn", "unknown"],
)
def test_attendance_names_the_trainee_without_a_seat(
    present: tuple[UUID, ...], absent: tuple[UUID, ...], field: str
) -> None:
    given = course(
        opened(capacity=2),
        enrolled(SITI),
        enrolled(BUDI),
        enrolled(RINA, waitlisted=True),
        enrolled(AGUS, waitlisted=True),
        withdrawn(AGUS),
    )
    with pytest.raises(DomainError) as err:
        decide(given, attendance(present=present, absent=absent))
    assert (err.value.code, err.value.field, err.value.status) == ("not_enrolled", field, 422)


def test_marking_absent_after_present_corrects_the_record() -> None:
    given = course(opened(), enrolled(SITI), *attended(SITI, S1, S2))
    events = decide(given, attendance(S2, absent=(SITI,)))
    after = fold(evolve, given, events)
    assert after.trainee(SITI).attended == frozenset({S1.session_id})
    assert after.attendance_pct(after.trainee(SITI)) == 25


# --- completion ----------------------------------------------------------------------------
def test_completion_needs_the_threshold_of_attendance() -> None:
    given = course(opened(threshold=75), enrolled(SITI), *attended(SITI, S1, S2))
    with pytest.raises(DomainError) as err:
        decide(given, complete(SITI))
    assert err.value.code == "attendance_too_low"


def test_attendance_exactly_at_the_threshold_completes() -> None:
    given = course(opened(threshold=75), enrolled(SITI), *attended(SITI, S1, S2, S4))
    [event] = decide(given, complete(SITI))
    assert event == TrainingCompleted(
        enrolment_id=SITI,
        member_commitment=member_of(SITI),
        certificate_number=f"{PREFIX}-001",
        attendance_pct=75,
    )
    after = evolve(given, event)
    assert (after.trainee(SITI).status, after.completed, after.seated) == ("completed", 1, 1)


def test_a_lower_threshold_completes_with_less_attendance() -> None:
    given = course(opened(threshold=50), enrolled(SITI), *attended(SITI, S1, S3))
    [event] = decide(given, complete(SITI))
    assert isinstance(event, TrainingCompleted)
    assert event.attendance_pct == 50


def test_a_correction_can_drop_attendance_below_the_threshold() -> None:
    given = course(
        opened(),
        enrolled(SITI),
        *attended(SITI, S1, S2, S3),
        *attended(SITI, S3, present=False),
    )
    with pytest.raises(DomainError) as err:
        decide(given, complete(SITI))
    assert err.value.code == "attendance_too_low"


def test_certificates_are_numbered_in_order_of_completion() -> None:
    given = course(
        opened(capacity=3),
        enrolled(SITI),
        enrolled(BUDI),
        enrolled(RINA),
        *attended(SITI, *SESSIONS),
        *attended(BUDI, *SESSIONS),
        *attended(RINA, *SESSIONS),
    )
    [first] = decide(given, complete(BUDI))
    given = evolve(given, first)
    [second] = decide(given, complete(SITI))
    assert isinstance(first, TrainingCompleted)
    assert isinstance(second, TrainingCompleted)
    assert (first.certificate_number, second.certificate_number) == (
        f"{PREFIX}-001",
        f"{PREFIX}-002",
    )
    assert (first.attendance_pct, second.attendance_pct) == (100, 100)


def test_a_trainee_completes_once() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(*graduate(SITI)), complete(SITI))
    assert (err.value.code, err.value.status) == ("already_completed", 409)


@pytest.mark.parametrize(
    "history",
    [
        [enrolled(BUDI), enrolled(RINA), enrolled(SITI, waitlisted=True)],
        [enrolled(SITI), *attended(SITI, *SESSIONS), withdrawn(SITI)],
    ],
    ids=["waitlisted", "withdrawn"],
)
def test_only_an_enrolled_trainee_completes(history: list[EventPayload]) -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), *history), complete(SITI))
    assert (err.value.code, err.value.status) == ("not_completable", 409)


def test_completion_waits_for_the_last_session() -> None:
    later = session(7)
    given = course(opened(sessions=(*SESSIONS, later)), enrolled(SITI), *attended(SITI, *SESSIONS))
    with pytest.raises(DomainError) as err:
        decide(given, complete(SITI))
    assert (err.value.code, err.value.status) == ("course_not_finished", 422)
    assert str(later.on) in err.value.message
    on_the_day = Complete(enrolment_id=SITI, certificate_prefix=PREFIX, today=later.on)
    [event] = decide(given, on_the_day)
    assert isinstance(event, TrainingCompleted)  # 80 % attended, above the threshold


def test_an_enrolment_never_made_cannot_complete() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened()), complete(SITI))
    assert (err.value.code, err.value.status) == ("enrolment_not_found", 404)


# --- outcomes ------------------------------------------------------------------------------
def test_an_outcome_is_followed_up_after_completion() -> None:
    [event] = decide(course(*graduate(SITI)), record_outcome(SITI, months_after=6))
    assert event == OutcomeRecorded(
        enrolment_id=SITI,
        months_after=6,
        monthly_income_idr=1_750_000,
        business_status="running",
        employed=False,
        note_commitment=FOLLOW_UP_NOTE,
    )
    assert course(*graduate(SITI), event).trainee(SITI).followed_up == frozenset({6})


@pytest.mark.parametrize(
    "history",
    [
        [enrolled(SITI), *attended(SITI, *SESSIONS)],
        [enrolled(BUDI), enrolled(RINA), enrolled(SITI, waitlisted=True)],
        [enrolled(SITI), withdrawn(SITI)],
    ],
    ids=["enrolled", "waitlisted", "withdrawn"],
)
def test_only_a_trainee_who_completed_is_followed_up(history: list[EventPayload]) -> None:
    with pytest.raises(DomainError) as err:
        decide(course(opened(), *history), record_outcome(SITI))
    assert (err.value.code, err.value.status) == ("not_completed", 409)


@pytest.mark.parametrize(
    ("last", "months", "due"),
    [
        (date(2026, 8, 31), 3, date(2026, 11, 30)),  # no 31 November: its last day
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 29), 3, date(2028, 2, 29)),  # a leap year
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
    ],
)
def test_a_follow_up_is_recorded_once_its_months_have_passed(
    last: date, months: int, due: date
) -> None:
    # The course's one session, on `last`
    given = replace(course(*graduate(SITI)), sessions=(S4.model_copy(update={"on": last}),))
    early = record_outcome(SITI, months_after=months, today=due - timedelta(days=1))
    with pytest.raises(DomainError) as err:
        decide(given, early)
    assert (err.value.code, err.value.field, err.value.status) == (
        "follow_up_too_early",
        "months_after",
        422,
    )
    assert f"recorded from {due}" in err.value.message
    [event] = decide(given, record_outcome(SITI, months_after=months, today=due))
    assert isinstance(event, OutcomeRecorded)


def test_each_follow_up_is_recorded_once() -> None:
    given = course(*graduate(SITI), outcome(SITI, months_after=6))
    with pytest.raises(DomainError) as err:
        decide(given, record_outcome(SITI, months_after=6))
    assert (err.value.code, err.value.field, err.value.status) == (
        "outcome_recorded",
        "months_after",
        409,
    )


def test_follow_ups_at_different_months_are_all_recorded() -> None:
    given = course(*graduate(SITI), outcome(SITI, months_after=6))
    [event] = decide(given, record_outcome(SITI, months_after=12))
    assert isinstance(event, OutcomeRecorded)
    assert evolve(given, event).trainee(SITI).followed_up == frozenset({6, 12})


def test_an_outcome_needs_an_enrolment() -> None:
    with pytest.raises(DomainError) as err:
        decide(course(*graduate(SITI)), record_outcome(BUDI))
    assert (err.value.code, err.value.status) == ("enrolment_not_found", 404)


# --- version-1 history ---------------------------------------------------------------------
def v1_history() -> list[EventPayload]:
    """A course stored before version 2: the trainer and the notes in the events."""
    return [
        CourseOpenedV1(
            category="handicraft",
            title="Kerajinan anyaman bambu",
            trainer="Ibu Sulastri",
            sessions=SESSIONS,
            capacity=1,
        ),
        enrolled(SITI),
        enrolled(BUDI, waitlisted=True),
        *attended(SITI, *SESSIONS),
        completed(SITI),
        OutcomeRecordedV1(
            enrolment_id=SITI,
            months_after=3,
            monthly_income_idr=900_000,
            business_status="started",
            note="mulai jual besek",
        ),
        TraineeWithdrawnV1(enrolment_id=BUDI, reason="moved", note="pindah ke Depok"),
    ]


def test_a_course_with_a_version_1_history_replays() -> None:
    state = course(*v1_history())
    assert (state.opened, state.capacity, state.category, state.completed) == (
        True,
        1,
        "handicraft",
        1,
    )
    assert state.sessions == SESSIONS
    assert [(t.enrolment_id, t.status) for t in state.trainees] == [
        (SITI, "completed"),
        (BUDI, "withdrawn"),
    ]
    assert state.trainee(SITI).followed_up == frozenset({3})


def test_a_version_1_history_decides_like_a_version_2_one() -> None:
    given = course(*v1_history())
    with pytest.raises(DomainError) as err:
        decide(given, record_outcome(SITI, months_after=3))
    assert (err.value.code, err.value.status) == ("outcome_recorded", 409)
    [event] = decide(given, record_outcome(SITI, months_after=6))
    assert isinstance(event, OutcomeRecorded) and event.schema_version == 2
    assert "note" not in event.model_dump() and event.note_commitment == FOLLOW_UP_NOTE
    [again] = decide(given, enrol(RINA))
    assert isinstance(again, TraineeEnrolled) and again.waitlisted is True  # SITI's seat
    with pytest.raises(DomainError) as err:
        decide(given, OpenCourse("handicraft", "Lagi", SESSIONS, 5))
    assert err.value.status == 409


# --- the capacity as a property ------------------------------------------------------------
Op = tuple[str, int]
# Enrolments weigh more than withdrawals, so that waiting lists form. The number picks the
# trainee to withdraw or complete (modulo how many have enrolled so far) or, for an
# enrolment, whether the household is eligible (odd) or not (even).
OPS = st.lists(
    st.tuples(
        st.sampled_from(["enrol", "enrol", "enrol", "withdraw", "withdraw", "complete"]),
        st.integers(0, 7),
    ),
    min_size=6,
    max_size=40,
)


def _expected_next(state: Course) -> UUID | None:
    waiting = [t for t in state.trainees if t.status == "waitlisted"]
    first = [t for t in waiting if t.priority] or waiting
    return first[0].enrolment_id if first else None


def _step(state: Course, op: Op) -> Course:
    kind, arg = op
    if kind == "enrol":
        eid = uuid4()
        hh = household(eligible=arg % 2 == 1, members=(member_of(eid),))
        events = decide(state, enrol(eid, member=member_of(eid), hh=hh))
        return fold(evolve, state, events)
    if not state.trainees:
        return state
    trainee = state.trainees[arg % len(state.trainees)]
    eid = trainee.enrolment_id
    if kind == "withdraw":
        if trainee.status not in ("enrolled", "waitlisted"):
            with pytest.raises(DomainError) as err:
                decide(state, withdraw(eid))
            assert err.value.status == 409
            return state
        events = decide(state, withdraw(eid))
        after = fold(evolve, state, events)
        if trainee.status == "enrolled":
            expected = _expected_next(state)
            assert events[1:] == ([promoted(expected)] if expected else [])
        else:
            assert len(events) == 1
        return after
    # complete: attend the one session, then complete
    if trainee.status != "enrolled":
        with pytest.raises(DomainError) as err:
            decide(state, complete(eid))
        assert err.value.status == 409
        return state
    events = decide(state, RecordAttendance(S4.session_id, (eid,), (), TODAY))
    state = fold(evolve, state, events)
    return fold(evolve, state, decide(state, complete(eid)))


@given(capacity=st.integers(1, 4), ops=OPS)
def test_seats_never_exceed_the_capacity_and_a_free_seat_leaves_nobody_waiting(
    capacity: int, ops: list[Op]
) -> None:
    state = course(opened(capacity=capacity, sessions=(S4,)))
    for op in ops:
        state = _step(state, op)
        assert state.seated <= capacity
        if any(t.status == "waitlisted" for t in state.trainees):
            assert state.seated == capacity
