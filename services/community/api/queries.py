"""The community's read-model SQL behind its GET routes (and the replies of commands that
show what they changed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.community.api.schemas import (
    ComplaintOut,
    ComplaintStats,
    ComplaintSummary,
    ContactOut,
    FeedbackSummary,
    MeetingOut,
    RwRatings,
    SlaOut,
    StepOut,
    SubjectRatings,
    TrackOut,
)
from services.community.domain.complaint import SlaPolicy, SlaState, sla
from services.community.private import contacts, texts
from services.community.projections import complaints, feedback, meetings, subjects
from shared import eventstore
from shared.events import utcnow
from shared.events.public import SMALL_CELL, suppressed


# --- complaints ----------------------------------------------------------------------------
def _sla(policy: SlaPolicy, row: Any, now: datetime | None = None) -> SlaOut:
    return SlaOut.of(
        sla(policy, row.filed_at, row.acknowledged_at, row.resolved_at, now or utcnow())
    )


def _summary(row: Any, policy: SlaPolicy, now: datetime | None = None) -> dict[str, Any]:
    """The row's columns but its version and ticket commitment, with its SLA."""
    columns = {k: v for k, v in row._mapping.items() if k not in ("version", "ticket_commitment")}
    return {**columns, "sla": _sla(policy, row, now)}


async def _history(session: AsyncSession, complaint_id: UUID, *, public: bool) -> list[StepOut]:
    """Each step with its time; for the public, facilitators' notes and the resolution,
    never the description, an escalation's reason or anything about the reporter."""
    events = await eventstore.load(session, complaint_id)
    written = {
        r.event_id: (r.kind, r.body)
        for r in await session.execute(select(texts).where(texts.c.aggregate_id == complaint_id))
    }
    steps = []
    for e in events:
        step: dict[str, Any] = {"step": e.type.rsplit("_", 1)[-1], "at": e.occurred_at}
        kind, body = written.get(e.event_id, ("", ""))
        if e.type.endswith("escalated"):
            step["to"] = e.payload["to"]
        if e.type.endswith("resolved"):
            step["outcome"] = e.payload["outcome"]
        if body and (not public or kind in ("note", "resolution")):
            step[kind] = body
        steps.append(StepOut.model_validate(step))  # what it has is set, the rest unset
    return steps


async def complaint(
    session: AsyncSession, complaint_id: UUID, policy: SlaPolicy, *, with_contact: bool
) -> ComplaintOut | None:
    """One complaint in full; the reporter's contact only `with_contact` (facilitators)."""
    row = (
        await session.execute(select(complaints).where(complaints.c.complaint_id == complaint_id))
    ).first()
    if row is None:
        return None
    history = await _history(session, complaint_id, public=False)
    reporter = (
        await session.execute(select(contacts).where(contacts.c.complaint_id == complaint_id))
    ).first()
    found: dict[str, Any] = {**_summary(row, policy), "history": history}
    if reporter is not None and with_contact:  # else left unset: the reply has no key
        found["contact"] = ContactOut(
            name=reporter.name, phone=reporter.phone, email=reporter.email
        )
    return ComplaintOut.model_validate({**found, "contact_given": reporter is not None})


async def tracked(
    session: AsyncSession, ticket_code: str, ticket_commitment: str, policy: SlaPolicy
) -> TrackOut | None:
    """The complaint whose ticket code commits to `ticket_commitment`, as the public sees it."""
    row = (
        await session.execute(
            select(complaints).where(complaints.c.ticket_commitment == ticket_commitment)
        )
    ).first()
    if row is None:
        return None
    return TrackOut(
        ticket_code=ticket_code,
        category=row.category,
        rw=row.rw,
        status=row.status,
        filed_at=row.filed_at,
        sla=_sla(policy, row),
        history=await _history(session, row.complaint_id, public=True),
    )


async def complaint_list(
    session: AsyncSession,
    policy: SlaPolicy,
    *,
    after: int,
    limit: int,
    sla_state: SlaState | None = None,
    **filters: Any,
) -> list[tuple[int, ComplaintSummary]]:
    """Rows after a paging position with the column filters given (None = any) and in the
    SLA state asked; (position, summary) pairs, `limit + 1` at most."""
    c = complaints.c
    conditions = [c.seq > after]
    conditions += [c[name] == value for name, value in filters.items() if value is not None]
    query = select(complaints).where(and_(*conditions)).order_by(c.seq)
    now = utcnow()
    found: list[tuple[int, ComplaintSummary]] = []
    # The SLA state depends on the time: filter it here, reading on until the page is full.
    async for row in await session.stream(query):
        summary = ComplaintSummary.model_validate(_summary(row, policy, now))
        if sla_state is None or summary.sla.state == sla_state:
            found.append((row.seq, summary))
            if len(found) > limit:
                break
    return found


async def complaint_stats(session: AsyncSession, policy: SlaPolicy) -> ComplaintStats:
    now = utcnow()
    by_category: dict[str, dict[str, int]] = {}
    by_sla: dict[str, int] = {}
    async for row in await session.stream(select(complaints)):
        counts = by_category.setdefault(row.category, {})
        counts[row.status] = counts.get(row.status, 0) + 1
        state = _sla(policy, row, now).state
        by_sla[state] = by_sla.get(state, 0) + 1
    return ComplaintStats(by_category=by_category, by_sla=by_sla)


# --- feedback ------------------------------------------------------------------------------
def _shown(ratings: int, average: float) -> dict[str, Any]:
    # Public statistics suppress small cells: with under five ratings an average would
    # tell a neighbour how one resident rated.
    if ratings < SMALL_CELL:
        return {"ratings": suppressed(ratings), "average": None}
    return {"ratings": ratings, "average": round(float(average), 2)}


async def feedback_summary(session: AsyncSession, subject_id: UUID | None) -> FeedbackSummary:
    f = feedback.c
    where = [f.subject_id == subject_id] if subject_id is not None else []

    def averages(*group: Any) -> Any:
        return (
            select(*group, func.count().label("ratings"), func.avg(f.rating).label("average"))
            .where(*where)
            .group_by(*group)
            .order_by(*group)
        )

    per_subject = [
        SubjectRatings(
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            title=r.title,
            **_shown(r.ratings, r.average),
        )
        for r in await session.execute(
            averages(f.subject_type, f.subject_id, subjects.c.title).join_from(
                feedback, subjects, subjects.c.subject_id == f.subject_id
            )
        )
    ]
    per_rw = [
        RwRatings(rw=r.rw, **_shown(r.ratings, r.average))
        for r in await session.execute(averages(f.rw).where(f.rw.is_not(None)))
    ]
    return FeedbackSummary(per_subject=per_subject, per_rw=per_rw)


# --- meetings ------------------------------------------------------------------------------
def _meeting(row: Any) -> MeetingOut:
    return MeetingOut.model_validate({k: v for k, v in row._mapping.items() if k != "seq"})


async def meeting(session: AsyncSession, meeting_id: UUID) -> MeetingOut | None:
    row = (
        await session.execute(select(meetings).where(meetings.c.meeting_id == meeting_id))
    ).first()
    return None if row is None else _meeting(row)


async def meeting_list(
    session: AsyncSession, *, rw: str | None, kind: str | None
) -> list[MeetingOut]:
    """Newest first."""
    query = select(meetings).order_by(meetings.c.held_on.desc(), meetings.c.seq.desc())
    if rw is not None:
        query = query.where(meetings.c.rw == rw)
    if kind is not None:
        query = query.where(meetings.c.kind == kind)
    return [_meeting(r) for r in await session.execute(query)]
