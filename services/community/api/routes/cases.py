"""Mentoring cases (pendampingan): facilitators open a case for a household or a trainee,
plan and record visits, refer to an office with an SLA, record its answer and close the
case; their caseload, what is overdue, and counts per RW.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from services.community import case_handlers
from services.community.api import cases_queries
from services.community.api.cases_schemas import (
    AnswerIn,
    CaseIn,
    CaseOut,
    CaseStats,
    CaseSummary,
    CloseIn,
    OverdueOut,
    ReferralIn,
    VisitIn,
    VisitPlanIn,
)
from services.community.api.deps import (
    SEES_CASE_NOTES,
    CaseReader,
    FacilitatorWork,
    Reader,
    Settings,
)
from services.community.domain.case import CaseStatus
from services.community.errors import (
    BUSINESS_FOLLOW_UP_INCOMPLETE,
    CASE_CLOSED,
    CASE_NOT_FOUND,
    COMPLAINT_REQUIRED,
    MEMBER_REQUIRED,
    OPENED_ON_FUTURE,
    PLANNED_VISIT_NOT_FOUND,
    REFERRAL_ANSWERED,
    REFERRAL_NOT_FOUND,
    REFERRAL_PENDING,
    VISIT_PLANNED_BEFORE_OPENING,
    VISITED_ON_FUTURE,
)
from shared import clock
from shared.auth import Principal, Role
from shared.deps import Cursor, Page, Reads, check_rw, decode_cursor, page
from shared.domain import DomainError
from shared.errors import RW_OUTSIDE, errors
from shared.events.community_cases import CaseReason, CaseSubject
from shared.pii import commitments

router = APIRouter(prefix="/cases", tags=["mentoring cases"])
# What every command on an opened case can answer.
HANDLING = (CASE_NOT_FOUND, CASE_CLOSED)
Subject = Annotated[str | None, Query(max_length=120, description="a facilitator's subject")]


async def _case(session: Reads, case_id: UUID, *, with_notes: bool) -> CaseOut:
    found = await cases_queries.case(session, case_id, clock.today(), with_notes=with_notes)
    if found is None:
        raise DomainError(CASE_NOT_FOUND, f"no case {case_id}", field="case_id")
    return found


def _whose(principal: Principal, facilitator: str | None, everyone: bool) -> str | None:
    """A facilitator sees their own caseload unless they ask for someone's or everyone's;
    an auditor sees everyone's unless they ask for someone's."""
    if facilitator is not None:
        return facilitator
    if everyone or principal.role is not Role.community_facilitator:
        return None
    return principal.sub


# --- reading -------------------------------------------------------------------------------
@router.get("", response_model=Page[CaseSummary], summary="A caseload (yours by default)")
async def list_cases(
    session: Reads,
    principal: CaseReader,
    facilitator: Subject = None,
    everyone: Annotated[bool, Query(alias="all", description="every facilitator's")] = False,
    status: CaseStatus | None = None,
    reason: CaseReason | None = None,
    subject: CaseSubject | None = None,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    household_id: UUID | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseSummary]:
    rows = await cases_queries.case_list(
        session,
        after=decode_cursor(cursor),
        limit=limit,
        facilitator=_whose(principal, facilitator, everyone),
        status=status,
        reason=reason,
        subject=subject,
        rw=rw,
        household_id=household_id,
    )
    return page(rows, limit)


@router.get(
    "/overdue",
    response_model=OverdueOut,
    summary="Planned visits past their day, referrals past their SLA (yours by default)",
)
async def overdue(
    session: Reads,
    principal: CaseReader,
    facilitator: Subject = None,
    everyone: Annotated[bool, Query(alias="all", description="every facilitator's")] = False,
) -> OverdueOut:
    whose = _whose(principal, facilitator, everyone)
    return await cases_queries.overdue(session, clock.today(), whose)


@router.get("/stats", response_model=CaseStats, summary='Counts per RW (each under five is "<5")')
async def case_stats(session: Reads, principal: Reader) -> CaseStats:
    return await cases_queries.case_stats(session, clock.today())


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    summary="One case with its visits and referrals",
    responses=errors(CASE_NOT_FOUND),
)
async def get_case(case_id: UUID, session: Reads, principal: CaseReader) -> CaseOut:
    return await _case(session, case_id, with_notes=principal.role in SEES_CASE_NOTES)


# --- facilitators: handling ----------------------------------------------------------------
@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    summary="Open a case for a household or a trainee",
    responses=errors(MEMBER_REQUIRED, COMPLAINT_REQUIRED, OPENED_ON_FUTURE, RW_OUTSIDE),
)
async def open_case(
    form: CaseIn, uow: FacilitatorWork, settings: Settings, session: Reads, response: Response
) -> CaseOut:
    check_rw(settings, form.rw)
    outcome = await case_handlers.open_case(uow, form, commitments(settings))
    case_id = outcome.events[0].aggregate_id
    response.headers["Location"] = f"/cases/{case_id}"
    return await _case(session, case_id, with_notes=True)


@router.post(
    "/{case_id}/visits/plan",
    response_model=CaseOut,
    summary="Plan a visit",
    responses=errors(*HANDLING, VISIT_PLANNED_BEFORE_OPENING),
)
async def plan_visit(
    case_id: UUID, form: VisitPlanIn, uow: FacilitatorWork, session: Reads
) -> CaseOut:
    await case_handlers.plan_visit(uow, case_id, form)
    return await _case(session, case_id, with_notes=True)


@router.post(
    "/{case_id}/visits",
    response_model=CaseOut,
    summary="Record a visit made (home, phone, or a business follow-up after training)",
    responses=errors(
        *HANDLING, VISITED_ON_FUTURE, PLANNED_VISIT_NOT_FOUND, BUSINESS_FOLLOW_UP_INCOMPLETE
    ),
)
async def record_visit(
    case_id: UUID, form: VisitIn, uow: FacilitatorWork, settings: Settings, session: Reads
) -> CaseOut:
    await case_handlers.record_visit(uow, case_id, form, commitments(settings))
    return await _case(session, case_id, with_notes=True)


@router.post(
    "/{case_id}/referrals",
    response_model=CaseOut,
    summary="Refer to an office, which answers within the referral SLA",
    responses=errors(*HANDLING, REFERRAL_PENDING),
)
async def refer(
    case_id: UUID, form: ReferralIn, uow: FacilitatorWork, settings: Settings, session: Reads
) -> CaseOut:
    keys = commitments(settings)
    await case_handlers.refer(uow, case_id, form, keys, settings.referral_sla_days)
    return await _case(session, case_id, with_notes=True)


@router.post(
    "/{case_id}/referrals/{index}/answer",
    response_model=CaseOut,
    summary="Record the office's answer to a referral",
    responses=errors(*HANDLING, REFERRAL_NOT_FOUND, REFERRAL_ANSWERED),
)
async def answer_referral(
    case_id: UUID,
    index: Annotated[int, Path(ge=0, le=1000)],
    form: AnswerIn,
    uow: FacilitatorWork,
    settings: Settings,
    session: Reads,
) -> CaseOut:
    await case_handlers.answer_referral(uow, case_id, index, form, commitments(settings))
    return await _case(session, case_id, with_notes=True)


@router.post(
    "/{case_id}/closure",
    response_model=CaseOut,
    summary="Close the case with an outcome",
    responses=errors(*HANDLING, REFERRAL_PENDING),
)
async def close_case(
    case_id: UUID, form: CloseIn, uow: FacilitatorWork, settings: Settings, session: Reads
) -> CaseOut:
    await case_handlers.close_case(uow, case_id, form, commitments(settings))
    return await _case(session, case_id, with_notes=True)
