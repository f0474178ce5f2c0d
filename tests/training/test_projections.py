"""Training's read models (SQLite and PostgreSQL): events in, rows out — and a rebuild from
the event store gives the read models the live projection gave, while the private store
(trainers, notes) stays as it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from services.training import handlers, private, projections
from services.training.api.schemas import (
    AttendanceIn,
    CourseIn,
    EnrolmentIn,
    OutcomeIn,
    SessionIn,
    WithdrawalIn,
)
from shared import eventstore
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.events import Envelope, EventPayload
from shared.events.training import (
    AttendanceRecorded,
    CourseOpened,
    OutcomeRecorded,
    Session,
    TraineeEnrolled,
    TraineeWithdrawn,
    TrainingCompleted,
    WaitlistPromoted,
)
from tests.training.conftest import TrainingDb

TODAY = wib_today()
# A course that ended a hundred days ago: its 3-month follow-ups are due.
S1 = Session(session_id=uuid4(), on=TODAY - timedelta(days=107), place="Aula RW 02")
S2 = Session(session_id=uuid4(), on=TODAY - timedelta(days=100), place="Aula RW 02")
HOUSEHOLD = uuid4()
SITI, BUDI, RINA = uuid4(), uuid4(), uuid4()  # enrolment ids


class Course:
    """One course's events, stored and projected as the unit of work would."""

    def __init__(self, db: TrainingDb) -> None:
        self.db, self.course_id, self.version = db, uuid4(), 0

    async def given(self, *payloads: EventPayload) -> list[Envelope]:
        envelopes = [
            Envelope.wrap(
                p,
                aggregate_id=self.course_id,
                aggregate_version=self.version + i,
                actor="coordinator.tests",
            )
            for i, p in enumerate(payloads, start=1)
        ]
        self.version += len(envelopes)
        async with self.db.sessions() as session, session.begin():
            await eventstore.append(session, envelopes)
            await projections.project(session, envelopes)
        return envelopes

    async def row(self) -> dict[str, Any]:
        [row] = await self.db.rows(projections.courses, "seq")
        return row

    async def enrolments(self) -> dict[UUID, dict[str, Any]]:
        rows = await self.db.rows(projections.enrolments, "seq", "enrolled_at")
        return {r.pop("enrolment_id"): r for r in rows}


def opened(capacity: int = 1) -> CourseOpened:
    return CourseOpened(
        category="handicraft",
        title="Kerajinan anyaman bambu",
        sessions=(S1, S2),
        capacity=capacity,
        completion_threshold_pct=50,
    )


def enrolled(enrolment_id: UUID, *, waitlisted: bool = False, priority: bool = True) -> Any:
    return TraineeEnrolled(
        enrolment_id=enrolment_id,
        household_id=HOUSEHOLD,
        member_commitment=f"{enrolment_id.hex}{'0' * 32}",
        rw="02",
        waitlisted=waitlisted,
        priority=priority,
    )


def attended(enrolment_id: UUID, session: Session, present: bool = True) -> Any:
    return AttendanceRecorded(
        session_id=session.session_id,
        enrolment_id=enrolment_id,
        member_commitment=f"{enrolment_id.hex}{'0' * 32}",
        present=present,
    )


async def test_an_opened_course_is_listed_with_empty_counters(training_db: TrainingDb) -> None:
    course = Course(training_db)
    [event] = await course.given(opened(capacity=12))
    assert await course.row() == {
        "course_id": course.course_id,
        "category": "handicraft",
        "title": "Kerajinan anyaman bambu",
        "sessions": [s.model_dump(mode="json") for s in (S1, S2)],
        "capacity": 12,
        "completion_threshold_pct": 50,
        "seated": 0,
        "waitlisted": 0,
        "completed": 0,
        "version": 1,
        "opened_at": event.occurred_at,
    }


async def test_enrolments_count_seats_and_the_waiting_list(training_db: TrainingDb) -> None:
    course = Course(training_db)
    await course.given(
        opened(capacity=1), enrolled(SITI), enrolled(BUDI, waitlisted=True, priority=False)
    )
    assert {k: (await course.row())[k] for k in ("seated", "waitlisted", "version")} == {
        "seated": 1,
        "waitlisted": 1,
        "version": 3,
    }
    assert await course.enrolments() == {
        SITI: {
            "course_id": course.course_id,
            "household_id": HOUSEHOLD,
            "member_commitment": f"{SITI.hex}{'0' * 32}",
            "rw": "02",
            "status": "enrolled",
            "priority": True,
            "attended": 0,
            "attendance_pct": None,
            "certificate_number": None,
            "withdrawal_reason": None,
        },
        BUDI: {
            "course_id": course.course_id,
            "household_id": HOUSEHOLD,
            "member_commitment": f"{BUDI.hex}{'0' * 32}",
            "rw": "02",
            "status": "waitlisted",
            "priority": False,
            "attended": 0,
            "attendance_pct": None,
            "certificate_number": None,
            "withdrawal_reason": None,
        },
    }


async def test_a_withdrawal_frees_the_seat_the_first_in_line_takes(
    training_db: TrainingDb,
) -> None:
    course = Course(training_db)
    await course.given(
        opened(capacity=1),
        enrolled(SITI),
        enrolled(BUDI, waitlisted=True),
        enrolled(RINA, waitlisted=True),
    )
    await course.given(
        TraineeWithdrawn(enrolment_id=SITI, reason="health"), WaitlistPromoted(enrolment_id=BUDI)
    )
    rows = await course.enrolments()
    assert {e: (r["status"], r["withdrawal_reason"]) for e, r in rows.items()} == {
        SITI: ("withdrawn", "health"),
        BUDI: ("enrolled", None),
        RINA: ("waitlisted", None),
    }
    counters = await course.row()
    assert (counters["seated"], counters["waitlisted"], counters["version"]) == (1, 1, 6)
    await course.given(TraineeWithdrawn(enrolment_id=RINA, reason="moved"))
    counters = await course.row()
    assert (counters["seated"], counters["waitlisted"]) == (1, 0)  # from the waiting list


async def test_attendance_is_kept_per_session_and_counted_per_trainee(
    training_db: TrainingDb,
) -> None:
    course = Course(training_db)
    await course.given(opened(capacity=2), enrolled(SITI), enrolled(BUDI))
    await course.given(attended(SITI, S1), attended(BUDI, S1, present=False))
    await course.given(attended(SITI, S2), attended(BUDI, S1))  # BUDI's S1 corrected
    assert await training_db.rows(projections.attendance) == sorted(
        [
            {"enrolment_id": SITI, "session_id": S1.session_id, "present": True},
            {"enrolment_id": SITI, "session_id": S2.session_id, "present": True},
            {"enrolment_id": BUDI, "session_id": S1.session_id, "present": True},
        ],
        key=lambda r: [str(v) for v in r.values()],
    )
    rows = await course.enrolments()
    assert (rows[SITI]["attended"], rows[BUDI]["attended"]) == (2, 1)
    assert (await course.row())["version"] == 7


async def test_a_completion_and_its_follow_ups(training_db: TrainingDb) -> None:
    course = Course(training_db)
    await course.given(opened(), enrolled(SITI), attended(SITI, S1))
    await course.given(
        TrainingCompleted(
            enrolment_id=SITI,
            member_commitment=f"{SITI.hex}{'0' * 32}",
            certificate_number="TB-KRJ-2026-ABCDEF-001",
            attendance_pct=50,
        )
    )
    [followed] = await course.given(
        OutcomeRecorded(
            enrolment_id=SITI,
            months_after=3,
            monthly_income_idr=1_250_000,
            business_status="started",
            employed=True,
        )
    )
    row = (await course.enrolments())[SITI]
    assert (row["status"], row["certificate_number"], row["attendance_pct"]) == (
        "completed",
        "TB-KRJ-2026-ABCDEF-001",
        50,
    )
    counters = await course.row()
    assert (counters["seated"], counters["completed"], counters["version"]) == (1, 1, 5)
    assert await training_db.rows(projections.outcomes) == [
        {
            "enrolment_id": SITI,
            "months_after": 3,
            "monthly_income_idr": 1_250_000,
            "business_status": "started",
            "employed": True,
            "recorded_at": followed.occurred_at,
        }
    ]


async def test_the_facts_commands_read(training_db: TrainingDb) -> None:
    household = await training_db.announce(["3174091203650001"], rw="05", eligible=None)
    course = Course(training_db)
    await course.given(opened())
    async with training_db.sessions() as session:
        facts = await projections.household(session, household)
        assert await projections.household(session, uuid4()) is None
        assert await projections.category(session, course.course_id) == "handicraft"
        assert await projections.category(session, uuid4()) is None
    assert facts is not None
    assert (facts.active, facts.eligible, facts.rw) == (True, None, "05")
    assert facts.member_commitments == (training_db.keys.nik("3174091203650001"),)


READ_MODELS = (
    projections.courses,
    projections.enrolments,
    projections.attendance,
    projections.outcomes,
)
PRIVATE = (private.trainers, private.notes)


async def test_a_rebuild_gives_the_read_models_the_commands_left(
    training_db: TrainingDb,
) -> None:
    """A course run through its handlers (waiting list, withdrawal with a promotion,
    attendance, a completion, a follow-up with a note), then rebuilt from its events."""
    db = training_db
    niks = [f"31740912036500{i:02d}" for i in range(4)]
    homes = [await db.announce([nik], eligible=i % 2 == 0) for i, nik in enumerate(niks)]
    form = CourseIn(
        category="micro_business",
        title="Usaha mikro",
        trainer="Ibu Lestari",
        sessions=[SessionIn(on=S1.on, place="Balai warga"), SessionIn(on=S2.on, place="Balai")],
        capacity=2,
    )
    opening = await handlers.open_course(db.uow(), form, default_threshold_pct=50)
    cid = opening.events[0].aggregate_id
    sessions = [s.session_id for s in opening.state.sessions]
    eids = [
        await handlers.enrol(db.uow(), cid, EnrolmentIn(household_id=h, member_nik=n), db.keys)
        for h, n in zip(homes, niks, strict=True)
    ]
    left = WithdrawalIn(reason="family", note="merawat orang tua")
    await handlers.withdraw(db.uow(), cid, eids[0], left, db.keys)  # promotes the next in line
    seated = [eids[1], eids[2]]
    await handlers.record_attendance(db.uow(), cid, sessions[0], AttendanceIn(present=seated))
    await handlers.record_attendance(
        db.uow(), cid, sessions[1], AttendanceIn(present=[eids[1]], absent=[eids[2]])
    )
    await handlers.complete(db.uow(), cid, eids[1])
    follow_up = OutcomeIn(
        months_after=3, monthly_income_idr=900_000, business_status="planning", note="menabung"
    )
    await handlers.record_outcome(db.uow(), cid, eids[1], follow_up, db.keys)

    live = {t.name: await db.rows(t, "seq") for t in READ_MODELS + PRIVATE}
    assert [len(live[t.name]) for t in READ_MODELS + PRIVATE] == [1, 4, 4, 1, 1, 2]
    async with db.sessions() as session, session.begin():
        replayed = await projections.rebuild(session)
    assert replayed == 1 + 4 + 2 + 4 + 1 + 1  # opened, enrolled, withdrawn+promoted, ...
    assert {t.name: await db.rows(t, "seq") for t in READ_MODELS + PRIVATE} == live
