"""Training HTTP API: courses, enrolment, attendance, completion, outcomes, reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.training import domain, private
from services.training.projections import attendance, courses, enrolments, outcomes
from services.training.settings import TrainingSettings
from shared import households
from shared.api import caller, fields, one, runtime, set_version
from shared.auth import Principal, Role, require
from shared.domain import NotFound
from shared.events.training import Category, Session
from shared.pii import Commitments, commitments

router = APIRouter()
Coordinator = Annotated[Principal, require(Role.training_coordinator)]
READERS = (Role.training_coordinator, Role.programme_manager, Role.auditor)
Reader = Annotated[Principal, require(*READERS)]
CATEGORY_CODES = {"handicraft": "KRJ", "digital_skills": "DIG", "micro_business": "UMK"}


# --- request bodies ------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SessionIn(_Body):
    on: date
    place: str = Field(min_length=1, max_length=120)


class CourseIn(_Body):
    category: Category
    title: str = Field(min_length=1, max_length=160)
    trainer: str = Field(min_length=1, max_length=120)
    sessions: list[SessionIn] = Field(min_length=1, max_length=60)
    capacity: int = Field(ge=1, le=500)
    completion_threshold_pct: int | None = Field(default=None, ge=1, le=100)


class EnrolmentIn(_Body):
    household_id: UUID
    member_nik: str = Field(pattern=r"^\d{16}$", description="from the member's KTP or KK")


class WithdrawalIn(_Body):
    reason: domain.WithdrawalReason
    note: str = Field(default="", max_length=500)


class AttendanceIn(_Body):
    present: list[UUID] = Field(default=[], max_length=500, description="enrolment ids")
    absent: list[UUID] = Field(default=[], max_length=500)


class OutcomeIn(_Body):
    months_after: int = Field(ge=1, le=36, examples=[3])
    monthly_income_idr: int = Field(ge=0, le=1_000_000_000)
    business_status: domain.BusinessStatus
    employed: bool = False
    note: str = Field(default="", max_length=500)


# --- helpers -------------------------------------------------------------------------------
def _commitments(request: Request) -> Commitments:
    settings: TrainingSettings = request.app.state.settings
    return commitments(settings)


async def _run(
    request: Request,
    course_id: UUID,
    command: domain.Command | Any,
    principal: Principal,
    **options: Any,
) -> Any:
    return await runtime(request).commands.execute(
        domain.courses, course_id, command, caller(principal), **options
    )


async def _course_reply(request: Request, course_id: UUID) -> dict[str, Any]:
    missing = NotFound("course_not_found", f"no course {course_id}", field="course_id")
    query = private.with_trainer(select(courses), courses).where(courses.c.course_id == course_id)
    return await one(request, query, missing)


async def _enrolment_reply(request: Request, enrolment_id: UUID) -> dict[str, Any]:
    async with runtime(request).reads() as session:
        row = (
            await session.execute(
                select(enrolments).where(enrolments.c.enrolment_id == enrolment_id)
            )
        ).first()
        if row is None:
            raise NotFound("enrolment_not_found", f"no enrolment {enrolment_id}")
        out = fields(row)
        if row.status == "waitlisted":
            out["waitlist_position"] = await _position(session, row)
        if row.status == "withdrawn":
            written = await private.notes_of(session, [enrolment_id])
            out["withdrawal_note"] = written.get((enrolment_id, "withdrawal", None))
    return out


async def _position(session: AsyncSession, row: Any) -> int:
    """1 for the next in line: eligible households first, then by order of application."""
    e = enrolments.c
    earlier = (e.priority.is_(row.priority)) & (e.seq < row.seq)
    ahead = await session.scalar(
        select(func.count()).where(
            e.course_id == row.course_id,
            e.status == "waitlisted",
            earlier if row.priority else (e.priority.is_(True) | earlier),
        )
    )
    return int(ahead or 0) + 1


# --- courses -------------------------------------------------------------------------------
@router.post("/courses", status_code=201, tags=["courses"], summary="Open a course")
async def open_course(
    body: CourseIn, request: Request, response: Response, principal: Coordinator
) -> dict[str, Any]:
    settings: TrainingSettings = request.app.state.settings
    course_id = uuid4()
    command = domain.OpenCourse(
        category=body.category,
        title=body.title,
        sessions=tuple(Session(session_id=uuid4(), on=s.on, place=s.place) for s in body.sessions),
        capacity=body.capacity,
        completion_threshold_pct=body.completion_threshold_pct or settings.completion_threshold_pct,
    )
    outcome = await _run(
        request,
        course_id,
        command,
        principal,
        must_exist=False,
        also=private.keep_trainer(body.trainer),
    )
    response.headers["Location"] = f"/courses/{course_id}"
    set_version(response, outcome.version)
    return await _course_reply(request, course_id)


@router.get("/courses", tags=["courses"], summary="Courses, newest first")
async def list_courses(
    request: Request, principal: Reader, category: Category | None = None
) -> list[dict[str, Any]]:
    query = private.with_trainer(select(courses), courses).order_by(courses.c.seq.desc())
    if category is not None:
        query = query.where(courses.c.category == category)
    async with runtime(request).reads() as session:
        return [fields(r) for r in await session.execute(query)]


@router.get("/courses/{course_id}", tags=["courses"], summary="One course")
async def get_course(course_id: UUID, request: Request, principal: Reader) -> dict[str, Any]:
    return await _course_reply(request, course_id)


@router.get("/courses/{course_id}/roster", tags=["courses"], summary="Trainees and waiting list")
async def roster(course_id: UUID, request: Request, principal: Reader) -> dict[str, Any]:
    course = await _course_reply(request, course_id)
    e = enrolments.c
    async with runtime(request).reads() as session:
        rows = [
            fields(r, drop=("seq", "course_id"))
            for r in await session.execute(
                select(enrolments, households.households.c.rt)
                .outerjoin(
                    households.households,
                    households.households.c.household_id == e.household_id,
                )
                .where(e.course_id == course_id)
                .order_by(e.priority.desc(), e.seq)
            )
        ]
    waiting = [r for r in rows if r["status"] == "waitlisted"]
    for position, r in enumerate(waiting, start=1):
        r["waitlist_position"] = position
    return {
        "course_id": course_id,
        "title": course["title"],
        "capacity": course["capacity"],
        "sessions": course["sessions"],
        "trainees": [r for r in rows if r["status"] in ("enrolled", "completed")],
        "waiting_list": waiting,
        "withdrawn": [r for r in rows if r["status"] == "withdrawn"],
    }


# --- enrolment and what follows ------------------------------------------------------------
@router.post(
    "/courses/{course_id}/enrolments",
    status_code=201,
    tags=["enrolments"],
    summary="Enrol a household member (waiting list when the course is full)",
)
async def enrol(
    course_id: UUID, body: EnrolmentIn, request: Request, principal: Coordinator
) -> dict[str, Any]:
    member = _commitments(request).nik(body.member_nik)
    enrolment_id = uuid4()

    async def command(session: AsyncSession) -> domain.Enrol:
        row = await households.find(session, body.household_id)
        facts = (
            domain.HouseholdFacts(row.active, row.eligible, row.rw, tuple(row.member_commitments))
            if row is not None
            else None
        )
        return domain.Enrol(enrolment_id, body.household_id, facts, member)

    await _run(request, course_id, command, principal)
    return await _enrolment_reply(request, enrolment_id)


@router.post(
    "/courses/{course_id}/enrolments/{enrolment_id}/withdrawal",
    tags=["enrolments"],
    summary="Withdraw (a seat freed moves the waiting list up)",
)
async def withdraw(
    course_id: UUID,
    enrolment_id: UUID,
    body: WithdrawalIn,
    request: Request,
    principal: Coordinator,
) -> dict[str, Any]:
    note = private.note(_commitments(request), body.note)
    command = domain.Withdraw(enrolment_id, body.reason, note.commitment)
    await _run(request, course_id, command, principal, also=private.keep_note(note))
    return await _enrolment_reply(request, enrolment_id)


@router.post(
    "/courses/{course_id}/sessions/{session_id}/attendance",
    tags=["enrolments"],
    summary="Record who attended a session (again to correct it)",
)
async def record_attendance(
    course_id: UUID,
    session_id: UUID,
    body: AttendanceIn,
    request: Request,
    principal: Coordinator,
) -> dict[str, Any]:
    command = domain.RecordAttendance(
        session_id, tuple(body.present), tuple(body.absent), date.today()
    )
    outcome = await _run(request, course_id, command, principal)
    return {"course_id": course_id, "session_id": session_id, "recorded": len(outcome.events)}


@router.post(
    "/courses/{course_id}/enrolments/{enrolment_id}/completion",
    tags=["enrolments"],
    summary="Complete the course (attendance rule) and issue the certificate",
)
async def complete(
    course_id: UUID, enrolment_id: UUID, request: Request, principal: Coordinator
) -> dict[str, Any]:
    course = await _course_reply(request, course_id)
    prefix = f"TB-{CATEGORY_CODES[course['category']]}-{date.today():%Y}-{str(course_id)[:6]}"
    await _run(request, course_id, domain.Complete(enrolment_id, prefix.upper()), principal)
    return await _enrolment_reply(request, enrolment_id)


@router.post(
    "/courses/{course_id}/enrolments/{enrolment_id}/outcomes",
    status_code=201,
    tags=["enrolments"],
    summary="Record a follow-up (income, business) months after the course",
)
async def record_outcome(
    course_id: UUID,
    enrolment_id: UUID,
    body: OutcomeIn,
    request: Request,
    principal: Coordinator,
) -> dict[str, Any]:
    note = private.note(_commitments(request), body.note)
    command = domain.RecordOutcome(
        enrolment_id,
        months_after=body.months_after,
        monthly_income_idr=body.monthly_income_idr,
        business_status=body.business_status,
        employed=body.employed,
        note_commitment=note.commitment,
    )
    await _run(request, course_id, command, principal, also=private.keep_note(note))
    return {"enrolment_id": enrolment_id, **body.model_dump()}


@router.get(
    "/households/{household_id}/training",
    tags=["enrolments"],
    summary="A household's (or one member's) training history",
)
async def training_history(
    household_id: UUID,
    request: Request,
    principal: Reader,
    member_nik: Annotated[str | None, Query(pattern=r"^\d{16}$")] = None,
) -> list[dict[str, Any]]:
    e, o = enrolments.c, outcomes.c
    conditions = [e.household_id == household_id]
    if member_nik is not None:
        conditions.append(e.member_commitment == _commitments(request).nik(member_nik))
    async with runtime(request).reads() as session:
        rows = await session.execute(
            select(enrolments, courses.c.title, courses.c.category)
            .join(courses, courses.c.course_id == e.course_id)
            .where(and_(*conditions))
            .order_by(e.seq)
        )
        history = [fields(r) for r in rows]
        written = await private.notes_of(session, [h["enrolment_id"] for h in history])
        for item in history:
            eid = item["enrolment_id"]
            if item["status"] == "withdrawn":
                item["withdrawal_note"] = written.get((eid, "withdrawal", None))
            followed = await session.execute(
                select(outcomes).where(outcomes.c.enrolment_id == eid).order_by(o.months_after)
            )
            item["outcomes"] = [
                {
                    **fields(f, drop=("enrolment_id",)),
                    "note": written.get((eid, "outcome", f.months_after), ""),
                }
                for f in followed
            ]
    return history


# --- reports -------------------------------------------------------------------------------
@router.get(
    "/reports/outcomes",
    tags=["reports"],
    summary="Completion and outcome figures per category and per RW",
)
async def outcome_report(request: Request, principal: Reader) -> dict[str, Any]:
    e, o = enrolments.c, outcomes.c
    latest = (
        select(o.enrolment_id, func.max(o.months_after).label("months_after"))
        .group_by(o.enrolment_id)
        .subquery()
    )
    last = (
        select(o.enrolment_id, o.monthly_income_idr, o.business_status, o.employed)
        .join(
            latest,
            and_(latest.c.enrolment_id == o.enrolment_id, latest.c.months_after == o.months_after),
        )
        .subquery()
    )

    def figures(group: Any) -> Any:
        def count(*statuses: str) -> Any:
            return func.sum(case((e.status.in_(statuses), 1), else_=0))

        return (
            select(
                group.label("key"),
                count("enrolled", "completed", "withdrawn").label("enrolled"),
                count("completed").label("completed"),
                count("withdrawn").label("withdrawn"),
                count("waitlisted").label("waitlisted"),
                func.count(last.c.enrolment_id).label("followed_up"),
                func.sum(
                    case((last.c.business_status.in_(("started", "running")), 1), else_=0)
                ).label("in_business"),
                func.sum(case((last.c.employed.is_(True), 1), else_=0)).label("employed"),
                func.avg(last.c.monthly_income_idr).label("avg_income_idr"),
            )
            .select_from(enrolments)
            .join(courses, courses.c.course_id == e.course_id)
            .outerjoin(last, last.c.enrolment_id == e.enrolment_id)
            .group_by(group)
            .order_by(group)
        )

    def shape(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: int(v or 0) for k, v in row._mapping.items() if k not in ("key", "avg_income_idr")
        }
        # Of everyone who applied and was not only on the waiting list.
        total = out["enrolled"]
        out["completion_rate"] = round(out["completed"] / total, 3) if total else None
        out["avg_income_idr"] = round(row.avg_income_idr) if row.avg_income_idr else None
        return out

    async with runtime(request).reads() as session:
        per_category = {r.key: shape(r) for r in await session.execute(figures(courses.c.category))}
        per_rw = {r.key: shape(r) for r in await session.execute(figures(e.rw))}
        sessions_recorded = await session.scalar(select(func.count()).select_from(attendance))
    return {
        "per_category": per_category,
        "per_rw": per_rw,
        "attendance_records": int(sessions_recorded or 0),
    }
