"""Mentoring-case read models on SQLite and PostgreSQL: rows follow a case's events (a
late-entered earlier visit leaves the last visit's day), and a rebuild from the event store
gives back the live rows, the meetings' topic codes with them."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from services.community import case_projections, projections
from shared.events import EventPayload
from shared.events.community import Attendance, MeetingHeld, MeetingHeldV1
from shared.events.community_cases import (
    CaseClosed,
    CaseOpened,
    CaseReferred,
    CaseVisitPlanned,
    CaseVisitRecorded,
    ReferralAnswered,
)
from tests.community.test_projections import KEYS, Sessions, history, rows, sessions, stored

__all__ = ["sessions"]  # the fixture, shared with the community's other projection tests

DAY = date(2026, 3, 2)


def a_case() -> list[EventPayload]:
    return [
        CaseOpened(
            subject="trainee",
            reason="after_training",
            household_id=uuid4(),
            member_id=uuid4(),
            rw="04",
            opened_on=DAY,
        ),
        CaseVisitPlanned(index=0, planned_on=date(2026, 3, 9), kind="home"),
        CaseVisitRecorded(
            visited_on=date(2026, 3, 9), kind="home", plan_index=0, findings=("debt",)
        ),
        CaseVisitRecorded(  # an earlier phone call, entered late from paper
            visited_on=date(2026, 3, 5),
            kind="business_follow_up",
            business_running=True,
            income_band="under_500k",
        ),
        CaseReferred(
            index=0, office="disnaker", referred_on=date(2026, 3, 9), due_on=date(2026, 3, 23)
        ),
        ReferralAnswered(index=0, office="disnaker", answer="served", answered_on=DAY),
        CaseClosed(outcome="needs_met", closed_on=date(2026, 3, 24)),
    ]


async def test_a_case_row_follows_its_events(sessions: Sessions) -> None:
    cid = uuid4()
    await stored(sessions, history(cid, *a_case(), actor="facilitator.rina"))
    [row] = await rows(sessions, case_projections.cases)
    assert (row["status"], row["outcome"], row["facilitator"]) == (
        "closed",
        "needs_met",
        "facilitator.rina",
    )
    assert (row["visits_made"], row["last_visit_on"], row["version"]) == (2, date(2026, 3, 9), 7)
    visits = await rows(sessions, case_projections.case_visits)
    planned = [v for v in visits if v["plan_index"] == 0]
    assert planned[0]["visited_on"] == date(2026, 3, 9) and planned[0]["findings"] == ["debt"]
    assert len(visits) == 2
    [referral] = await rows(sessions, case_projections.case_referrals)
    assert (referral["answer"], referral["due_on"]) == ("served", date(2026, 3, 23))


async def test_a_rebuild_gives_back_the_cases_and_the_topic_codes(sessions: Sessions) -> None:
    await stored(sessions, history(uuid4(), *a_case(), actor="facilitator.rina"))
    attendance = Attendance(female=6, male=4)
    await stored(
        sessions,
        history(
            uuid4(),
            MeetingHeld(
                kind="outreach",
                held_on=DAY,
                rw="04",
                attendance=attendance,
                topic_codes=("how_to_appeal",),
            ),
        ),
    )
    await stored(
        sessions,
        history(
            uuid4(), MeetingHeldV1(kind="outreach", held_on=DAY, rw="04", attendance=attendance)
        ),
    )
    tables = (*case_projections.TABLES, projections.meetings)
    live = {t.name: await rows(sessions, t) for t in tables}
    assert all(live.values())
    assert sorted(m["topic_codes"] for m in live["meetings"]) == [[], ["how_to_appeal"]]
    async with sessions() as session, session.begin():
        assert await projections.rebuild(session, KEYS) == 7 + 1 + 1
    assert {t.name: await rows(sessions, t) for t in tables} == live
