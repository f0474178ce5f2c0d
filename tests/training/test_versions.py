"""Older data, on SQLite and PostgreSQL: a course whose history was stored as version-1
events (trainer and notes in clear) replays and goes on under version 2, and a database
from before version 2 upgrades in place, keeping its trainers and notes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa

from services.training import private, projections
from services.training.service import SERVICE
from services.training.settings import TrainingSettings
from shared import eventstore
from shared.auth import Role
from shared.clock import today as wib_today  # the programme's day (WIB)
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope, EventPayload
from shared.events.training import (
    AttendanceRecorded,
    CourseOpenedV1,
    OutcomeRecordedV1,
    Session,
    TraineeEnrolled,
    TraineeWithdrawnV1,
    TrainingCompleted,
)
from shared.runtime import Runtime
from tests.helpers import NatsServer, bearer, serve_app

COORDINATOR = bearer(Role.training_coordinator, "coordinator.rina")
TRAINER = "Pak Slamet (pengrajin Setu Babakan)"
OUTCOME_NOTE = "jual besek ke warung sekitar"
WITHDRAWAL_NOTE = "pindah ke Depok"
HOUSEHOLD = UUID("00000000-0000-4000-8000-0000000000aa")


def v1_course(course_id: UUID, siti: UUID, budi: UUID) -> list[Envelope]:
    """Opened, two enrolled (one waiting), attended, completed, followed up, withdrawn."""
    session = Session(session_id=uuid4(), on=wib_today() - timedelta(days=200), place="Aula")
    payloads: list[EventPayload] = [
        CourseOpenedV1(
            category="handicraft",
            title="Kerajinan anyaman bambu",
            trainer=TRAINER,
            sessions=(session,),
            capacity=1,
        ),
        TraineeEnrolled(
            enrolment_id=siti, household_id=HOUSEHOLD, member_commitment="a" * 64, rw="05"
        ),
        TraineeEnrolled(
            enrolment_id=budi,
            household_id=HOUSEHOLD,
            member_commitment="b" * 64,
            rw="05",
            waitlisted=True,
        ),
        AttendanceRecorded(
            session_id=session.session_id,
            enrolment_id=siti,
            member_commitment="a" * 64,
            present=True,
        ),
        TrainingCompleted(
            enrolment_id=siti,
            member_commitment="a" * 64,
            certificate_number="TB-KRJ-2025-ABCDEF-001",
            attendance_pct=100,
        ),
        OutcomeRecordedV1(
            enrolment_id=siti,
            months_after=3,
            monthly_income_idr=900_000,
            business_status="started",
            note=OUTCOME_NOTE,
        ),
        TraineeWithdrawnV1(enrolment_id=budi, reason="moved", note=WITHDRAWAL_NOTE),
    ]
    return [
        Envelope.wrap(p, aggregate_id=course_id, aggregate_version=i, actor="coordinator.old")
        for i, p in enumerate(payloads, start=1)
    ]


@pytest.fixture
async def training(
    database_url: str, nats_server: NatsServer
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = SERVICE.app(TrainingSettings(database_url=database_url, nats_url=nats_server.url))
    async with serve_app(app) as client:
        yield client, app.state.runtime


async def test_a_course_with_a_version_1_history_replays_and_goes_on(
    training: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = training
    course_id, siti, budi = uuid4(), uuid4(), uuid4()
    history = v1_course(course_id, siti, budi)
    async with runtime.sessions() as session, session.begin():
        await eventstore.append(session, history)
        await projections.project(session, history)

    got = (await client.get(f"/courses/{course_id}", headers=COORDINATOR)).json()
    assert (got["trainer"], got["seated"], got["waitlisted"], got["completed"]) == (
        TRAINER,
        1,
        0,
        1,
    )
    lives = (await client.get(f"/households/{HOUSEHOLD}/training", headers=COORDINATOR)).json()
    assert [(h["status"], h.get("withdrawal_note")) for h in lives] == [
        ("completed", None),
        ("withdrawn", WITHDRAWAL_NOTE),
    ]
    assert [(o["months_after"], o["note"]) for o in lives[0]["outcomes"]] == [(3, OUTCOME_NOTE)]

    # The decider folds the version-1 events: the 3-month follow-up is taken, 6 is not.
    path = f"/courses/{course_id}/enrolments/{siti}/outcomes"
    body = {"months_after": 3, "monthly_income_idr": 1, "business_status": "running"}
    twice = await client.post(path, json=body, headers=COORDINATOR)
    assert twice.status_code == 409 and twice.json()["error"] == "outcome_recorded"
    later = await client.post(path, json={**body, "months_after": 6}, headers=COORDINATOR)
    assert later.status_code == 201, later.text
    async with runtime.reads() as session:
        [*_, newest] = await eventstore.load(session, course_id)
    assert (newest.schema_version, newest.payload["note_commitment"]) == (2, None)

    # A rebuild replays both versions and keeps each trainer and note once.
    async with runtime.sessions() as session, session.begin():
        assert await projections.rebuild(session) == len(history) + 1
    async with runtime.reads() as session:
        trainers = (await session.execute(sa.select(private.trainers))).all()
        notes = (await session.execute(sa.select(private.notes))).all()
    assert [t.trainer for t in trainers] == [TRAINER]
    assert sorted((n.kind, n.body, n.salt) for n in notes) == [
        ("outcome", OUTCOME_NOTE, None),
        ("withdrawal", WITHDRAWAL_NOTE, None),
    ]
    again = (await client.get(f"/courses/{course_id}", headers=COORDINATOR)).json()
    assert again == got | {"version": len(history) + 1}


async def test_a_database_from_before_version_2_upgrades_in_place(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    course_id, siti, budi = uuid4(), uuid4(), uuid4()
    history = v1_course(course_id, siti, budi)
    try:
        await migrate(engine, [SERVICE.migrations], target="t0001")
        async with sessionmaker(engine)() as session, session.begin():
            await eventstore.append(session, history)
            await _version_1_rows(session, course_id, siti)
        await migrate(engine, [SERVICE.migrations])
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {
                    t: {col["name"] for col in sa.inspect(c).get_columns(t)}
                    for t in ("courses", "outcomes", "eligibility")
                }
            )
            trainers = (await conn.execute(sa.select(private.trainers))).all()
            notes = (await conn.execute(sa.select(private.notes))).all()
            still = (await conn.execute(sa.text("SELECT rw FROM eligibility"))).scalars().all()
        assert "trainer" not in columns["courses"] and "note" not in columns["outcomes"]
        assert "head_nik_masked" not in columns["eligibility"] and still == ["05"]
        assert [(t.course_id, t.trainer) for t in trainers] == [(course_id, TRAINER)]
        by_event = {e.event_id: e for e in history}
        assert sorted(
            (n.kind, n.enrolment_id, n.months_after, n.body, n.salt, by_event[n.event_id].type)
            for n in notes
        ) == [
            ("outcome", siti, 3, OUTCOME_NOTE, None, "training.outcome_recorded"),
            ("withdrawal", budi, None, WITHDRAWAL_NOTE, None, "training.trainee_withdrawn"),
        ]
    finally:
        await engine.dispose()


async def _version_1_rows(session: Any, course_id: UUID, siti: UUID) -> None:
    """What a version-1 service had projected: the trainer, a note and a masked NIK."""
    now = datetime.now(UTC)
    rows = {
        "courses": {
            "course_id": course_id,
            "category": "handicraft",
            "title": "Kerajinan anyaman bambu",
            "trainer": TRAINER,
            "sessions": [],
            "capacity": 1,
            "completion_threshold_pct": 75,
            "seated": 1,
            "waitlisted": 0,
            "completed": 1,
            "version": 7,
            "opened_at": now,
        },
        "outcomes": {
            "enrolment_id": siti,
            "months_after": 3,
            "monthly_income_idr": 900_000,
            "business_status": "started",
            "employed": False,
            "note": OUTCOME_NOTE,
            "recorded_at": now,
        },
        "eligibility": {
            "household_id": HOUSEHOLD,
            "active": True,
            "eligible": True,
            "rt": "003",
            "rw": "05",
            "head_nik_masked": "3174••••••••0001",
            "member_commitments": ["a" * 64],
            "registry_version": 2,
        },
    }
    for name, row in rows.items():
        table = sa.table(name, *(sa.column(k, _type(v)) for k, v in row.items()))
        await session.execute(table.insert().values(**row))


def _type(value: object) -> Any:
    """The column type of a version-1 value (the tables' current models lack the columns)."""
    types: list[tuple[type, Any]] = [
        (UUID, sa.Uuid()),
        (datetime, sa.DateTime(timezone=True)),
        (bool, sa.Boolean()),
        (int, sa.BigInteger()),
        (str, sa.String()),
        (list, sa.JSON()),
    ]
    return next(t for kind, t in types if isinstance(value, kind))
