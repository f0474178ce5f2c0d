"""Read models of mentoring cases, updated in the command's transaction (and rebuilt from
the event store with the others, `projections.rebuild`): `cases` (one row a case, its
caseload columns), `case_visits` (planned and made) and `case_referrals` (with their
SLA). What facilitators wrote is in the private store (`private.texts`, by event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    insert,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import BigId, versioned_update
from shared.events import Envelope
from shared.events.community_cases import (
    CaseClosed,
    CaseOpened,
    CaseReferred,
    CaseVisitPlanned,
    CaseVisitRecorded,
    ReferralAnswered,
)

metadata = MetaData()

cases = Table(
    "cases",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("case_id", Uuid, nullable=False, unique=True),
    Column("subject", String(9), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("household_id", Uuid, nullable=False, index=True),
    Column("member_id", Uuid),
    Column("course_id", Uuid),
    Column("complaint_id", Uuid),
    Column("rw", String(2), nullable=False, index=True),
    Column("facilitator", String(120), nullable=False, index=True),
    Column("status", String(8), nullable=False, index=True),
    Column("outcome", String(24)),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("visits_made", Integer, nullable=False),
    Column("last_visit_on", Date),
    Column("version", Integer, nullable=False),
)

case_visits = Table(
    "case_visits",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("case_id", Uuid, nullable=False, index=True),
    Column("plan_index", Integer),  # None: made without a plan
    Column("planned_on", Date),
    Column("kind", String(20), nullable=False),
    Column("visited_on", Date),  # None: planned, still to make
    Column("findings", JSON, nullable=False),
    Column("needs", JSON, nullable=False),
    Column("next_steps", JSON, nullable=False),
    Column("business_running", Boolean),
    Column("income_band", String(12)),
    Column("event_id", Uuid),  # of the visit made: its note is kept by it
)

case_referrals = Table(
    "case_referrals",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("case_id", Uuid, nullable=False, index=True),
    Column("referral_index", Integer, nullable=False),
    Column("office", String(12), nullable=False),
    Column("referred_on", Date, nullable=False),
    Column("due_on", Date, nullable=False, index=True),
    Column("answer", String(12)),
    Column("answered_on", Date),
    UniqueConstraint("case_id", "referral_index", name="uq_case_referrals_index"),
)

TABLES = [cases, case_visits, case_referrals]


def _case(envelope: Envelope, **values: Any) -> Any:
    return versioned_update(cases.c.case_id, envelope, **values)


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    """The effect of a case event on the read models (other events are not ours)."""
    cid = envelope.aggregate_id
    match envelope.typed():
        case CaseOpened() as e:
            await session.execute(
                insert(cases).values(
                    case_id=cid,
                    subject=e.subject,
                    reason=e.reason,
                    household_id=e.household_id,
                    member_id=e.member_id,
                    course_id=e.course_id,
                    complaint_id=e.complaint_id,
                    rw=e.rw,
                    facilitator=envelope.actor,
                    status="open",
                    opened_on=e.opened_on,
                    visits_made=0,
                    version=envelope.aggregate_version,
                )
            )
        case CaseVisitPlanned() as e:
            await session.execute(
                insert(case_visits).values(
                    case_id=cid,
                    plan_index=e.index,
                    planned_on=e.planned_on,
                    kind=e.kind,
                    findings=[],
                    needs=[],
                    next_steps=[],
                )
            )
            await session.execute(_case(envelope))
        case CaseVisitRecorded() as e:
            made = {
                "kind": e.kind,
                "visited_on": e.visited_on,
                "findings": list(e.findings),
                "needs": list(e.needs),
                "next_steps": list(e.next_steps),
                "business_running": e.business_running,
                "income_band": e.income_band,
                "event_id": envelope.event_id,
            }
            if e.plan_index is None:
                await session.execute(insert(case_visits).values(case_id=cid, **made))
            else:
                await session.execute(
                    update(case_visits)
                    .where(case_visits.c.case_id == cid, case_visits.c.plan_index == e.plan_index)
                    .values(**made)
                )
            await session.execute(
                _case(
                    envelope,
                    visits_made=cases.c.visits_made + 1,
                    # A paper form entered late may bring an earlier visit.
                    last_visit_on=sql_case(
                        (cases.c.last_visit_on > e.visited_on, cases.c.last_visit_on),
                        else_=e.visited_on,
                    ),
                )
            )
        case CaseReferred() as e:
            await session.execute(
                insert(case_referrals).values(
                    case_id=cid,
                    referral_index=e.index,
                    office=e.office,
                    referred_on=e.referred_on,
                    due_on=e.due_on,
                )
            )
            await session.execute(_case(envelope))
        case ReferralAnswered() as e:
            await session.execute(
                update(case_referrals)
                .where(case_referrals.c.case_id == cid, case_referrals.c.referral_index == e.index)
                .values(answer=e.answer, answered_on=e.answered_on)
            )
            await session.execute(_case(envelope))
        case CaseClosed() as e:
            await session.execute(
                _case(envelope, status="closed", outcome=e.outcome, closed_on=e.closed_on)
            )
