"""The community's read models from its events (events in, rows out) on SQLite and
PostgreSQL, the subjects it learns from distribution and training, and a rebuild from
the event store that gives back exactly the live read models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.community import consumers, private, projections
from services.community.service import SERVICE
from services.community.settings import CommunitySettings
from shared import eventstore
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope, EventPayload
from shared.events.community import (
    Attendance,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintFiledV1,
    ComplaintReferences,
    ComplaintResolved,
    FeedbackSubmitted,
    FollowUp,
    FollowUpUpdated,
    MeetingHeld,
)
from shared.events.distribution import Posko, RoundScheduled
from shared.events.training import CourseOpened, Session
from shared.pii import commitments
from shared.uow import constraint_name

KEYS = commitments(CommunitySettings())
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = make_engine(database_url)
    await migrate(engine, [SERVICE.migrations])
    yield sessionmaker(engine)
    await engine.dispose()


def history(aggregate_id: UUID, *payloads: EventPayload, actor: str = "public") -> list[Envelope]:
    """The aggregate's events, an hour apart from T0."""
    return [
        Envelope.wrap(
            p,
            aggregate_id=aggregate_id,
            aggregate_version=i,
            actor=actor,
            occurred_at=T0 + (i - 1) * HOUR,
        )
        for i, p in enumerate(payloads, start=1)
    ]


async def stored(sessions: Sessions, events: Sequence[Envelope]) -> None:
    """As a command stores them: appended, and projected in the same transaction."""
    async with sessions() as session, session.begin():
        await eventstore.append(session, events)
        await projections.projector(KEYS)(session, events)


async def rows(sessions: Sessions, table: Table) -> list[dict[str, Any]]:
    """Every row but its paging position (a rebuild numbers rows anew)."""
    async with sessions() as session:
        found = [
            {k: v for k, v in r._mapping.items() if k != "seq"}
            for r in await session.execute(select(table))
        ]
    return sorted(found, key=lambda r: str(next(iter(r.values()))))


def filed(ticket: str = "7c" * 32, **changes: Any) -> ComplaintFiled:
    fields: dict[str, Any] = {
        "ticket_commitment": ticket,
        "category": "distribution",
        "description_commitment": "ab" * 32,
        "rw": "03",
        "anonymous": True,
        **changes,
    }
    return ComplaintFiled(**fields)


def held() -> MeetingHeld:
    return MeetingHeld(
        kind="focus_group",
        held_on=date(2026, 3, 1),
        rw="05",
        attendance=Attendance(female=18, male=9, elderly=4),
        topics=("Jadwal pembagian sembako",),
        aspirations=("Posko lebih dekat untuk lansia",),
        follow_ups=(FollowUp(action="Antar sembako ke rumah lansia"), FollowUp(action="Cek data")),
    )


# --- complaints ----------------------------------------------------------------------------
async def test_a_complaint_row_follows_its_lifecycle(sessions: Sessions) -> None:
    cid, household = uuid4(), uuid4()
    await stored(
        sessions,
        history(
            cid,
            filed(references=ComplaintReferences(household_id=household)),
            ComplaintAcknowledged(note_commitment=None),
            ComplaintEscalated(to="inspectorate", reason_commitment="e2" * 32),
            ComplaintResolved(outcome="partly_upheld", resolution_commitment="f3" * 32),
        ),
    )
    [row] = await rows(sessions, projections.complaints)
    assert row == {
        "complaint_id": cid,
        "ticket_commitment": "7c" * 32,
        "category": "distribution",
        "rw": "03",
        "status": "resolved",
        "anonymous": True,
        "references": {"household_id": str(household)},
        "escalated_to": ["inspectorate"],
        "outcome": "partly_upheld",
        "filed_at": T0,
        "acknowledged_at": T0 + HOUR,
        "resolved_at": T0 + 3 * HOUR,
        "version": 4,
    }


async def test_an_escalation_acknowledges_a_complaint_not_yet_acknowledged(
    sessions: Sessions,
) -> None:
    cid = uuid4()
    await stored(
        sessions,
        history(
            cid,
            filed(),
            ComplaintEscalated(to="programme_manager", reason_commitment="e2" * 32),
            ComplaintEscalated(to="inspectorate", reason_commitment="e3" * 32),
        ),
    )
    [row] = await rows(sessions, projections.complaints)
    assert (row["status"], row["escalated_to"], row["version"]) == (
        "escalated",
        ["programme_manager", "inspectorate"],
        3,
    )
    assert (row["acknowledged_at"], row["resolved_at"]) == (T0 + HOUR, None)


async def test_a_version_1_complaint_is_kept_by_its_tickets_commitment(
    sessions: Sessions,
) -> None:
    old = history(
        uuid4(),
        ComplaintFiledV1(
            ticket_code="TB-7K3M-9QXP",
            category="officer_conduct",
            description_commitment="ab" * 32,
            rw="04",
            anonymous=True,
        ),
    )
    # What commands append is version 2: the projection they run has no key for codes.
    async with sessions() as session, session.begin():
        with pytest.raises(ValueError, match="ticket key"):
            await projections.project(session, old)
    await stored(sessions, old)
    [row] = await rows(sessions, projections.complaints)
    assert row["ticket_commitment"] == KEYS.ticket("TB-7K3M-9QXP")
    assert "TB-7K3M-9QXP" not in str(row)


async def test_a_ticket_commitment_names_its_constraint(sessions: Sessions) -> None:
    """Two complaints with one ticket: refused by the constraint the service maps to
    `ticket_collision` (by its name, on both databases)."""
    async with sessions() as session, session.begin():
        await projections.project(session, history(uuid4(), filed()))
    with pytest.raises(IntegrityError) as refused:
        async with sessions() as session, session.begin():
            await projections.project(session, history(uuid4(), filed()))
    name = constraint_name(refused.value, SERVICE.metadata)
    assert name == "uq_complaints_ticket_commitment"
    assert SERVICE.constraints[name].code == "ticket_collision"


# --- feedback and meetings -----------------------------------------------------------------
async def test_feedback_is_a_row_without_its_comment_or_author(sessions: Sessions) -> None:
    fid, round_id = uuid4(), uuid4()
    submitted = FeedbackSubmitted(
        subject_type="round",
        subject_id=round_id,
        rating=4,
        comment_commitment="4a" * 32,
        rw="06",
        anonymous=False,
    )
    await stored(sessions, history(fid, submitted))
    assert await rows(sessions, projections.feedback) == [
        {
            "feedback_id": fid,
            "subject_type": "round",
            "subject_id": round_id,
            "rating": 4,
            "rw": "06",
            "anonymous": False,
            "submitted_at": T0,
            "receipt_commitment": None,
        }
    ]


async def test_a_meeting_row_follows_its_follow_ups(sessions: Sessions) -> None:
    mid = uuid4()
    await stored(
        sessions,
        history(
            mid,
            held(),
            FollowUpUpdated(index=1, status="in_progress"),
            FollowUpUpdated(index=1, status="done"),
            actor="facilitator.yusuf",
        ),
    )
    [row] = await rows(sessions, projections.meetings)
    assert row == {
        "meeting_id": mid,
        "kind": "focus_group",
        "held_on": date(2026, 3, 1),
        "rw": "05",
        "facilitator": "facilitator.yusuf",
        "attendance": {"female": 18, "male": 9, "elderly": 4, "disabled": 0, "youth": 0},
        "topics": ["Jadwal pembagian sembako"],
        "aspirations": ["Posko lebih dekat untuk lansia"],
        "follow_ups": [
            {"action": "Antar sembako ke rumah lansia", "status": "open"},
            {"action": "Cek data", "status": "done"},
        ],
        "version": 3,
        "topic_codes": [],
    }


# --- what distribution and training announce ----------------------------------------------
async def test_rounds_and_courses_announced_become_feedback_subjects(
    sessions: Sessions,
) -> None:
    round_id, course_id, other = uuid4(), uuid4(), uuid4()
    scheduled = RoundScheduled(
        programme="SEMBAKO",
        period="2026-03",
        budget_id=uuid4(),
        poskos=(
            Posko(rw="06", place="Posko RW 06", on=date(2026, 3, 9)),
            Posko(rw="07", place="Balai RW 07", on=date(2026, 3, 10)),
        ),
    )
    opened = CourseOpened(
        category="digital_skills",
        title="Jualan daring untuk warung",
        sessions=(Session(session_id=uuid4(), on=date(2026, 4, 1), place="Balai RW 02"),),
        capacity=20,
    )
    announced = [
        *history(round_id, scheduled, actor="manager.dewi"),
        *history(course_id, opened, actor="coordinator.rina"),
        *history(round_id, scheduled, actor="manager.dewi"),  # redelivered: kept once
        *history(other, filed()),  # not an announcement
    ]
    async with sessions() as session, session.begin():
        for envelope in announced:
            await consumers.on_announcement(session, envelope, envelope.typed())
    assert await rows(sessions, projections.subjects) == sorted(
        [
            {
                "subject_id": round_id,
                "subject_type": "round",
                "title": "SEMBAKO 2026-03",
                "rws": ["06", "07"],
            },
            {
                "subject_id": course_id,
                "subject_type": "course",
                "title": "Jualan daring untuk warung",
                "rws": [],
            },
        ],
        key=lambda r: str(r["subject_id"]),
    )
    async with sessions() as session:
        assert await projections.subject_known(session, "round", round_id)
        assert await projections.subject_known(session, "course", course_id)
        assert not await projections.subject_known(session, "course", round_id)
        assert not await projections.subject_known(session, "round", other)


# --- rebuild -------------------------------------------------------------------------------
async def test_a_rebuild_gives_back_the_live_read_models(sessions: Sessions) -> None:
    round_id, cid, mid = uuid4(), uuid4(), uuid4()
    async with sessions() as session, session.begin():
        announced = history(
            round_id,
            RoundScheduled(programme="BLT", period="2026-03", budget_id=uuid4(), poskos=()),
        )
        await consumers.on_announcement(session, announced[0], announced[0].typed())
    complaint = history(
        cid,
        filed(anonymous=False, contact_commitment="c0" * 32),
        ComplaintAcknowledged(note_commitment="d1" * 32),
        ComplaintResolved(outcome="upheld", resolution_commitment="f3" * 32),
    )
    await stored(sessions, complaint)
    await stored(
        sessions,
        history(
            uuid4(),
            ComplaintFiledV1(
                ticket_code="TB-2345-6789",
                category="other",
                description_commitment="cd" * 32,
                rw="01",
                anonymous=True,
            ),
            ComplaintEscalated(to="programme_manager", reason_commitment="e2" * 32),
        ),
    )
    for rating in (5, 3):
        feedback = FeedbackSubmitted(
            subject_type="round", subject_id=round_id, rating=rating, rw="02", anonymous=True
        )
        await stored(sessions, history(uuid4(), feedback))
    await stored(sessions, history(mid, held(), FollowUpUpdated(index=0, status="done")))
    async with sessions() as session, session.begin():
        await session.execute(
            insert(private.texts).values(
                event_id=complaint[1].event_id,
                aggregate_id=cid,
                kind="note",
                body="Kami cek besok.",
                salt=b"s" * 16,
            )
        )
    tables = (projections.complaints, projections.feedback, projections.meetings)
    kept = (projections.subjects, private.texts)
    live = {t.name: await rows(sessions, t) for t in (*tables, *kept)}
    assert all(live.values())

    async with sessions() as session, session.begin():
        assert await projections.rebuild(session, KEYS) == 3 + 2 + 2 + 2
    assert {t.name: await rows(sessions, t) for t in (*tables, *kept)} == live
