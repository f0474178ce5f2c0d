"""Meetings: outreach (sosialisasi) and focus groups, recorded by facilitators with their
follow-up actions.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from services.community import handlers
from services.community.api import cases_queries, queries
from services.community.api.cases_schemas import MeetingReach
from services.community.api.deps import FacilitatorWork, Reader, Settings
from services.community.api.schemas import FollowUpIn, MeetingIn, MeetingOut
from services.community.domain.meeting import MeetingKind
from services.community.errors import (
    ATTENDANCE_INCONSISTENT,
    FOLLOW_UP_NOT_FOUND,
    HELD_ON_FUTURE,
    MEETING_NOT_FOUND,
)
from shared.deps import Reads, check_rw
from shared.domain import DomainError
from shared.errors import ATTENDANCE_EMPTY, RW_OUTSIDE, errors

router = APIRouter(prefix="/meetings", tags=["meetings"])


async def _meeting(session: Reads, meeting_id: UUID) -> MeetingOut:
    found = await queries.meeting(session, meeting_id)
    if found is None:
        raise DomainError(MEETING_NOT_FOUND, f"no meeting {meeting_id}", field="meeting_id")
    return found


@router.post(
    "",
    status_code=201,
    response_model=MeetingOut,
    summary="Record an outreach (sosialisasi) or focus-group meeting",
    responses=errors(HELD_ON_FUTURE, ATTENDANCE_EMPTY, ATTENDANCE_INCONSISTENT, RW_OUTSIDE),
)
async def record_meeting(
    form: MeetingIn, uow: FacilitatorWork, settings: Settings, session: Reads, response: Response
) -> MeetingOut:
    check_rw(settings, form.rw)
    outcome = await handlers.record_meeting(uow, form)
    meeting_id = outcome.events[0].aggregate_id
    response.headers["Location"] = f"/meetings/{meeting_id}"
    return await _meeting(session, meeting_id)


@router.post(
    "/{meeting_id}/follow-ups/{index}",
    response_model=MeetingOut,
    summary="Update a follow-up action's status",
    responses=errors(MEETING_NOT_FOUND, FOLLOW_UP_NOT_FOUND),
)
async def update_follow_up(
    meeting_id: UUID,
    index: Annotated[int, Path(ge=0, le=100)],
    form: FollowUpIn,
    uow: FacilitatorWork,
    session: Reads,
) -> MeetingOut:
    await handlers.update_follow_up(uow, meeting_id, index, form.status)
    return await _meeting(session, meeting_id)


@router.get("", response_model=list[MeetingOut], summary="Meetings, newest first")
async def list_meetings(
    session: Reads,
    principal: Reader,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    kind: MeetingKind | None = None,
) -> list[MeetingOut]:
    return await queries.meeting_list(session, rw=rw, kind=kind)


@router.get(
    "/reach",
    response_model=MeetingReach,
    summary="Residents reached by outreach per RW and topic, beside the complaints filed",
)
async def meeting_reach(session: Reads, principal: Reader) -> MeetingReach:
    return await cases_queries.meeting_reach(session)


@router.get(
    "/{meeting_id}",
    response_model=MeetingOut,
    summary="One meeting",
    responses=errors(MEETING_NOT_FOUND),
)
async def get_meeting(meeting_id: UUID, session: Reads, principal: Reader) -> MeetingOut:
    return await _meeting(session, meeting_id)
