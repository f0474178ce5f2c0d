"""What readers follow: a course's roster, a household's training history, and the
completion and outcome figures per category and per RW.

Each route reads: parse, authorise, query, reply."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.training.api import queries
from services.training.api.deps import Reader, Settings
from services.training.api.routes.courses import course_or_404
from services.training.api.schemas import NIK_PATTERN, HistoryEntry, OutcomeReport, RosterOut
from services.training.errors import COURSE_NOT_FOUND
from shared.deps import Reads
from shared.errors import errors
from shared.pii import commitments

router = APIRouter()


@router.get(
    "/courses/{course_id}/roster",
    tags=["courses"],
    response_model=RosterOut,
    summary="Trainees and waiting list",
    responses=errors(COURSE_NOT_FOUND),
)
async def roster(course_id: UUID, session: Reads, principal: Reader) -> RosterOut:
    course = await course_or_404(session, course_id)
    return await queries.roster(session, course)


@router.get(
    "/households/{household_id}/training",
    tags=["enrolments"],
    response_model=list[HistoryEntry],
    response_model_exclude_unset=True,
    summary="A household's (or one member's) training history",
)
async def training_history(
    household_id: UUID,
    session: Reads,
    principal: Reader,
    settings: Settings,
    member_nik: Annotated[str | None, Query(pattern=NIK_PATTERN)] = None,
) -> list[HistoryEntry]:
    member = commitments(settings).nik(member_nik) if member_nik is not None else None
    return await queries.training_history(session, household_id, member)


@router.get(
    "/reports/outcomes",
    tags=["reports"],
    response_model=OutcomeReport,
    summary="Completion and outcome figures per category and per RW",
)
async def outcome_report(session: Reads, principal: Reader) -> OutcomeReport:
    return await queries.outcome_report(session)
