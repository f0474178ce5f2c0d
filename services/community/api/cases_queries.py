"""The read-model SQL behind the mentoring-case routes and the outreach reach per RW."""

from __future__ import annotations

from datetime import date
from typing import Any, get_args
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.community.api.cases_schemas import (
    CaseNoteOut,
    CaseOut,
    CaseRwStats,
    CaseStats,
    CaseSummary,
    MeetingReach,
    OverdueOut,
    OverdueReferral,
    OverdueVisit,
    ReferralOut,
    RwReach,
    VisitOut,
)
from services.community.case_projections import case_referrals, case_visits, cases
from services.community.private import texts
from services.community.projections import complaints, meetings
from shared import eventstore
from shared.events.community import TopicCode
from shared.events.public import day_of, suppressed


# --- one case, a caseload ------------------------------------------------------------------
async def case(
    session: AsyncSession, case_id: UUID, today: date, *, with_notes: bool
) -> CaseOut | None:
    """One case with its visits and referrals; what facilitators wrote `with_notes`."""
    row = (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()
    if row is None:
        return None
    visits = [
        VisitOut.model_validate(v, from_attributes=True)
        for v in await session.execute(
            select(case_visits).where(case_visits.c.case_id == case_id).order_by(case_visits.c.seq)
        )
    ]
    referrals = [
        ReferralOut(
            index=r.referral_index,
            office=r.office,
            referred_on=r.referred_on,
            due_on=r.due_on,
            answer=r.answer,
            answered_on=r.answered_on,
            overdue=row.status == "open" and r.answer is None and r.due_on < today,
        )
        for r in await session.execute(
            select(case_referrals)
            .where(case_referrals.c.case_id == case_id)
            .order_by(case_referrals.c.referral_index)
        )
    ]
    notes = await _notes(session, case_id) if with_notes else []
    return CaseOut.model_validate(
        {**row._mapping, "visits": visits, "referrals": referrals, "notes": notes}
    )


async def _notes(session: AsyncSession, case_id: UUID) -> list[CaseNoteOut]:
    written = {
        r.event_id: r
        for r in await session.execute(select(texts).where(texts.c.aggregate_id == case_id))
    }
    return [
        CaseNoteOut(
            step=e.type.split(".", 1)[1],
            day=date.fromisoformat(day_of(e.occurred_at)),
            kind=written[e.event_id].kind,
            text=written[e.event_id].body,
        )
        for e in await eventstore.load(session, case_id)
        if e.event_id in written
    ]


async def case_list(
    session: AsyncSession, *, after: int, limit: int, **filters: Any
) -> list[tuple[int, CaseSummary]]:
    """Rows after a paging position with the column filters given (None = any);
    (position, summary) pairs, `limit + 1` at most."""
    c = cases.c
    conditions = [c.seq > after]
    conditions += [c[name] == value for name, value in filters.items() if value is not None]
    query = select(cases).where(and_(*conditions)).order_by(c.seq).limit(limit + 1)
    return [
        (r.seq, CaseSummary.model_validate(r, from_attributes=True))
        for r in await session.execute(query)
    ]


# --- overdue -------------------------------------------------------------------------------
async def overdue(session: AsyncSession, today: date, facilitator: str | None) -> OverdueOut:
    """Planned visits past their day and referrals past their SLA, of open cases."""
    mine = [cases.c.facilitator == facilitator] if facilitator is not None else []
    where_open = [cases.c.status == "open", *mine]
    v = case_visits.c
    visits = [
        OverdueVisit(
            case_id=r.case_id,
            household_id=r.household_id,
            rw=r.rw,
            facilitator=r.facilitator,
            plan_index=r.plan_index,
            planned_on=r.planned_on,
            kind=r.kind,
            days_late=(today - r.planned_on).days,
        )
        for r in await session.execute(
            select(cases.c.household_id, cases.c.rw, cases.c.facilitator, case_visits)
            .join_from(case_visits, cases, cases.c.case_id == v.case_id)
            .where(*where_open, v.visited_on.is_(None), v.planned_on < today)
            .order_by(v.planned_on, v.seq)
        )
    ]
    f = case_referrals.c
    referrals = [
        OverdueReferral(
            case_id=r.case_id,
            household_id=r.household_id,
            rw=r.rw,
            facilitator=r.facilitator,
            index=r.referral_index,
            office=r.office,
            due_on=r.due_on,
            days_late=(today - r.due_on).days,
        )
        for r in await session.execute(
            select(cases.c.household_id, cases.c.rw, cases.c.facilitator, case_referrals)
            .join_from(case_referrals, cases, cases.c.case_id == f.case_id)
            .where(*where_open, f.answer.is_(None), f.due_on < today)
            .order_by(f.due_on, f.seq)
        )
    ]
    return OverdueOut(today=today, visits=visits, referrals=referrals)


# --- counts per RW -------------------------------------------------------------------------
def _bump(counts: dict[str, dict[str, int]], rw: str, key: str, by: int = 1) -> None:
    per = counts.setdefault(rw, {})
    per[key] = per.get(key, 0) + by


async def case_stats(session: AsyncSession, today: date) -> CaseStats:
    """Per RW, every count under five suppressed (a case is about a vulnerable household:
    a small cell points at a neighbour)."""
    plain: dict[str, dict[str, int]] = {}
    reasons: dict[str, dict[str, int]] = {}
    outcomes: dict[str, dict[str, int]] = {}
    offices: dict[str, dict[str, int]] = {}
    for r in await session.execute(select(cases.c.rw, cases.c.status, cases.c.reason)):
        _bump(plain, r.rw, r.status)
        _bump(reasons, r.rw, r.reason)
    for closed in await session.execute(
        select(cases.c.rw, cases.c.outcome).where(cases.c.outcome.is_not(None))
    ):
        _bump(outcomes, closed.rw, closed.outcome)
    f = case_referrals.c
    for ref in await session.execute(
        select(cases.c.rw, cases.c.status, f.office, f.answer, f.due_on).join_from(
            case_referrals, cases, cases.c.case_id == f.case_id
        )
    ):
        _bump(offices, ref.rw, ref.office)
        late = ref.status == "open" and ref.answer is None and ref.due_on < today
        _bump(plain, ref.rw, "referrals_overdue", int(late))
    v = case_visits.c
    for visit in await session.execute(
        select(
            cases.c.rw, cases.c.status, v.kind, v.visited_on, v.planned_on, v.business_running
        ).join_from(case_visits, cases, cases.c.case_id == v.case_id)
    ):
        late = visit.status == "open" and visit.visited_on is None and visit.planned_on < today
        _bump(plain, visit.rw, "visits_overdue", int(late))
        made = visit.visited_on is not None and visit.kind == "business_follow_up"
        _bump(plain, visit.rw, "business_follow_ups", int(made))
        _bump(plain, visit.rw, "businesses_running", int(made and bool(visit.business_running)))

    def shown(counts: dict[str, int]) -> dict[str, int | str]:
        return {k: suppressed(n) for k, n in sorted(counts.items())}

    per_rw = [
        CaseRwStats(
            rw=rw,
            by_reason=shown(reasons.get(rw, {})),
            by_outcome=shown(outcomes.get(rw, {})),
            referrals_by_office=shown(offices.get(rw, {})),
            **{
                key: suppressed(plain[rw].get(key, 0))
                for key in (
                    "open",
                    "closed",
                    "referrals_overdue",
                    "visits_overdue",
                    "business_follow_ups",
                    "businesses_running",
                )
            },
        )
        for rw in sorted(plain)
    ]
    return CaseStats(today=today, per_rw=per_rw)


# --- socialisation: outreach reach beside complaints ---------------------------------------
async def meeting_reach(session: AsyncSession) -> MeetingReach:
    """Residents reached by outreach per RW and topic code (attendance summed), and the
    complaints filed per RW; each count under five is "<5"."""
    meetings_held: dict[str, int] = {}
    reached: dict[str, dict[str, int]] = {}
    m = meetings.c
    for r in await session.execute(
        select(m.rw, m.attendance, m.topic_codes).where(m.kind == "outreach")
    ):
        people = int(r.attendance["female"]) + int(r.attendance["male"])
        meetings_held[r.rw] = meetings_held.get(r.rw, 0) + 1
        _bump(reached, r.rw, "", people)
        for code in r.topic_codes:
            _bump(reached, r.rw, code, people)
    filed = {
        r.rw: int(r.n)
        for r in await session.execute(
            select(complaints.c.rw, func.count().label("n")).group_by(complaints.c.rw)
        )
    }
    per_rw = [
        RwReach(
            rw=rw,
            outreach_meetings=meetings_held.get(rw, 0),
            reached=suppressed(reached.get(rw, {}).get("", 0)),
            by_topic={
                code: suppressed(n) for code, n in sorted(reached.get(rw, {}).items()) if code
            },
            complaints=suppressed(filed.get(rw, 0)),
        )
        for rw in sorted(meetings_held.keys() | filed.keys())
    ]
    return MeetingReach(topic_codes=list(get_args(TopicCode)), per_rw=per_rw)
