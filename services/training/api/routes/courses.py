"""Courses: opening one, and reading them (with the trainer from training's own store).

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.training import handlers
from services.training.api import queries
from services.training.api.deps import CoordinatorWork, Reader, Settings
from services.training.api.schemas import CourseIn, CourseOut
from services.training.errors import (
    CAPACITY_TOO_SMALL,
    COURSE_NOT_FOUND,
    SESSION_REPEATED,
    SESSIONS_REQUIRED,
)
from shared.deps import Reads, set_version
from shared.domain import DomainError
from shared.errors import errors
from shared.events.training import Category

router = APIRouter(prefix="/courses", tags=["courses"])


async def course_or_404(session: Reads, course_id: UUID) -> CourseOut:
    found = await queries.course(session, course_id)
    if found is None:
        raise DomainError(COURSE_NOT_FOUND, f"no course {course_id}", field="course_id")
    return found


@router.post(
    "",
    status_code=201,
    response_model=CourseOut,
    summary="Open a course",
    responses=errors(SESSIONS_REQUIRED, SESSION_REPEATED, CAPACITY_TOO_SMALL),
)
async def open_course(
    form: CourseIn, uow: CoordinatorWork, settings: Settings, session: Reads, response: Response
) -> CourseOut:
    outcome = await handlers.open_course(
        uow, form, default_threshold_pct=settings.completion_threshold_pct
    )
    course_id = outcome.events[0].aggregate_id
    response.headers["Location"] = f"/courses/{course_id}"
    set_version(response, outcome.version)
    return await course_or_404(session, course_id)


@router.get("", response_model=list[CourseOut], summary="Courses, newest first")
async def list_courses(
    session: Reads, principal: Reader, category: Category | None = None
) -> list[CourseOut]:
    return await queries.course_list(session, category)


@router.get(
    "/{course_id}",
    response_model=CourseOut,
    summary="One course",
    responses=errors(COURSE_NOT_FOUND),
)
async def get_course(course_id: UUID, session: Reads, principal: Reader) -> CourseOut:
    return await course_or_404(session, course_id)
