"""Training's read-model SQL behind its GET routes (and the replies of its commands)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import published
from services.training.api.schemas import (
    CourseOut,
    EnrolmentOut,
    Figures,
    FollowUpOut,
    HistoryEntry,
    OutcomeReport,
    RosterEntry,
    RosterOut,
    WaitingEntry,
)
from services.training.private import notes_of, trainers
from services.training.projections import attendance, courses, enrolments, outcomes


def _fields(row: Any, *drop: str) -> dict[str, Any]:
    """A row's columns by name, but the internal ones (the paging sequence)."""
    return {k: v for k, v in row._mapping.items() if k not in ("seq", *drop)}


def _courses() -> Select[Any]:
    """Courses with the trainer from training's private store beside each."""
    return select(courses, trainers.c.trainer).outerjoin(
        trainers, trainers.c.course_id == courses.c.course_id
    )


async def course(session: AsyncSession, course_id: UUID) -> CourseOut | None:
    row = (await session.execute(_courses().where(courses.c.course_id == course_id))).first()
    return CourseOut.model_validate(_fields(row)) if row is not None else None


async def course_list(session: AsyncSession, category: str | None) -> list[CourseOut]:
    """Newest first."""
    query = _courses().order_by(courses.c.seq.desc())
    if category is not None:
        query = query.where(courses.c.category == category)
    return [CourseOut.model_validate(_fields(r)) for r in await session.execute(query)]


async def enrolment(session: AsyncSession, enrolment_id: UUID) -> EnrolmentOut | None:
    """An enrolment; its place in line while waiting, the note once withdrawn."""
    query = select(enrolments).where(enrolments.c.enrolment_id == enrolment_id)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    out = _fields(row)
    if row.status == "waitlisted":
        out["waitlist_position"] = await _position(session, row)
    if row.status == "withdrawn":
        written = await notes_of(session, [enrolment_id])
        out["withdrawal_note"] = written.get((enrolment_id, "withdrawal", None))
    return EnrolmentOut.model_validate(out)


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


async def roster(session: AsyncSession, course: CourseOut) -> RosterOut:
    """Trainees, the waiting list in its order (with positions), and who withdrew."""
    e, known = enrolments.c, published.households
    rows = [
        _fields(r, "course_id")
        for r in await session.execute(
            select(enrolments, known.c.rt)
            .outerjoin(known, known.c.household_id == e.household_id)
            .where(e.course_id == course.course_id)
            .order_by(e.priority.desc(), e.seq)
        )
    ]
    waiting = [r for r in rows if r["status"] == "waitlisted"]
    return RosterOut(
        course_id=course.course_id,
        title=course.title,
        capacity=course.capacity,
        sessions=course.sessions,
        trainees=[
            RosterEntry.model_validate(r) for r in rows if r["status"] in ("enrolled", "completed")
        ],
        waiting_list=[
            WaitingEntry.model_validate({**r, "waitlist_position": position})
            for position, r in enumerate(waiting, start=1)
        ],
        withdrawn=[RosterEntry.model_validate(r) for r in rows if r["status"] == "withdrawn"],
    )


async def training_history(
    session: AsyncSession, household_id: UUID, member_commitment: str | None
) -> list[HistoryEntry]:
    """A household's (or one member's) courses in order, with notes and follow-ups."""
    e, o = enrolments.c, outcomes.c
    conditions = [e.household_id == household_id]
    if member_commitment is not None:
        conditions.append(e.member_commitment == member_commitment)
    rows = await session.execute(
        select(enrolments, courses.c.title, courses.c.category)
        .join(courses, courses.c.course_id == e.course_id)
        .where(and_(*conditions))
        .order_by(e.seq)
    )
    history = [_fields(r) for r in rows]
    written = await notes_of(session, [h["enrolment_id"] for h in history])
    for item in history:
        eid = item["enrolment_id"]
        if item["status"] == "withdrawn":
            item["withdrawal_note"] = written.get((eid, "withdrawal", None))
        followed = await session.execute(
            select(outcomes).where(o.enrolment_id == eid).order_by(o.months_after)
        )
        item["outcomes"] = [
            FollowUpOut.model_validate(
                {
                    **_fields(f, "enrolment_id"),
                    "note": written.get((eid, "outcome", f.months_after), ""),
                }
            )
            for f in followed
        ]
    return [HistoryEntry.model_validate(item) for item in history]


async def outcome_report(session: AsyncSession) -> OutcomeReport:
    """Per category and per RW: who took a seat, completed, withdrew or waits, and the
    outcomes at each trainee's latest follow-up."""
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

    def figures(group: Any) -> Select[Any]:
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

    def shape(row: Any) -> Figures:
        counts = {
            k: int(v or 0) for k, v in row._mapping.items() if k not in ("key", "avg_income_idr")
        }
        # Of everyone who took a seat (not those only ever on the waiting list).
        total = counts["enrolled"]
        return Figures(
            **counts,
            completion_rate=round(counts["completed"] / total, 3) if total else None,
            avg_income_idr=round(row.avg_income_idr) if row.avg_income_idr else None,
        )

    per_category = {r.key: shape(r) for r in await session.execute(figures(courses.c.category))}
    per_rw = {r.key: shape(r) for r in await session.execute(figures(e.rw))}
    records = await session.scalar(select(func.count()).select_from(attendance))
    return OutcomeReport(
        per_category=per_category, per_rw=per_rw, attendance_records=int(records or 0)
    )
