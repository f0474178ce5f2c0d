"""Community HTTP API: public complaints and feedback, facilitators' handling, meetings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.community import domain, private
from services.community.private import contacts, texts
from services.community.projections import complaints, feedback, meetings, subjects
from services.community.settings import CommunitySettings
from shared import eventstore
from shared.api import caller, check_rw, decode_cursor, fields, one, page, runtime
from shared.auth import Principal, Role, optional, require
from shared.domain import Conflict, DomainError, NotFound
from shared.events import utcnow
from shared.events.community import (
    Attendance,
    ComplaintCategory,
    ComplaintOutcome,
    ComplaintReferences,
    FollowUp,
)
from shared.events.public import SMALL_CELL, suppressed
from shared.pii import Commitments, bearer_code, code_pattern, commitments
from shared.ratelimit import limit

router = APIRouter()
Facilitator = Annotated[Principal, require(Role.community_facilitator)]
Reader = Annotated[
    Principal, require(Role.community_facilitator, Role.programme_manager, Role.auditor)
]
TICKET = code_pattern("TB")  # TB-XXXX-XXXX: 40 random bits, read out over the phone
RW = Field(pattern=r"^\d{2}$", examples=["03"])


class TicketCollision(Conflict):
    def __init__(self) -> None:
        super().__init__("ticket_collision", "a ticket code was drawn twice; try again")


def new_ticket() -> str:
    """Not guessable, short enough to write on a paper slip; a bearer secret, so only its
    commitment is stored or published."""
    return bearer_code("TB")


# --- request bodies ------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, pattern=r"^\+?\d{8,15}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]+$")

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if self.phone is None and self.email is None:
            raise ValueError("a contact needs a phone number or an e-mail address")
        return self


class ComplaintIn(_Body):
    category: ComplaintCategory
    description: str = Field(min_length=10, max_length=4000)
    rw: str = RW
    anonymous: bool = True
    contact: ContactIn | None = None
    references: ComplaintReferences | None = None


class NoteIn(_Body):
    note: str = Field(default="", max_length=2000)


class EscalationIn(_Body):
    to: domain.EscalationTarget
    reason: str = Field(min_length=5, max_length=2000)


class ResolutionIn(_Body):
    outcome: ComplaintOutcome
    resolution: str = Field(min_length=10, max_length=4000)


class FeedbackIn(_Body):
    subject_type: Literal["round", "course"]
    subject_id: UUID
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)
    rw: str | None = Field(default=None, pattern=r"^\d{2}$")
    name: str | None = Field(
        default=None, max_length=120, description="leave out to stay anonymous"
    )


class MeetingIn(_Body):
    kind: Literal["outreach", "focus_group"]
    held_on: date
    rw: str = RW
    attendance: Attendance
    topics: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=30)
    aspirations: list[Annotated[str, Field(min_length=1, max_length=400)]] = Field(
        default=[], max_length=50
    )
    follow_ups: list[FollowUp] = Field(default=[], max_length=30)


class FollowUpIn(_Body):
    status: domain.FollowUpStatus


# --- helpers -------------------------------------------------------------------------------
def _settings(request: Request) -> CommunitySettings:
    settings: CommunitySettings = request.app.state.settings
    return settings


def _commitments(request: Request) -> Commitments:
    return commitments(_settings(request))


def _written(request: Request, kind: private.TextKind, body: str) -> private.Written:
    return private.written(_commitments(request), kind, body)


def _optional(request: Request, kind: private.TextKind, body: str) -> private.Written | None:
    return private.optional(_commitments(request), kind, body)


def _sla(request: Request, row: Any, now: datetime | None = None) -> dict[str, Any]:
    s = domain.sla(
        _settings(request).sla(),
        row.filed_at,
        row.acknowledged_at,
        row.resolved_at,
        now or utcnow(),
    )
    return {"state": s.state, "acknowledge_by": s.acknowledge_by, "resolve_by": s.resolve_by}


async def _complaint_row(session: AsyncSession, **where: Any) -> Any:
    conditions = [complaints.c[k] == v for k, v in where.items()]
    row = (await session.execute(select(complaints).where(*conditions))).first()
    if row is None:
        if "ticket_commitment" in where:
            raise NotFound("ticket_not_found", "no complaint has this ticket code")
        raise NotFound("complaint_not_found", "no such complaint", field="complaint_id")
    return row


async def _history(session: AsyncSession, row: Any, *, public: bool) -> list[dict[str, Any]]:
    """Each step with its time; for the public, facilitators' notes and the resolution,
    never the description, an escalation's reason or anything about the reporter."""
    events = await eventstore.load(session, row.complaint_id)
    written = {
        r.event_id: (r.kind, r.body)
        for r in await session.execute(
            select(texts).where(texts.c.aggregate_id == row.complaint_id)
        )
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
        steps.append(step)
    return steps


# --- public: complaints and feedback -------------------------------------------------------
@router.post(
    "/complaints",
    status_code=201,
    tags=["complaints (public)"],
    summary="File a complaint, anonymously if you wish; keep the ticket code",
    dependencies=[limit("complaints", "complaint_rate")],
)
async def file_complaint(
    body: ComplaintIn, request: Request, principal: Principal | None = optional()
) -> dict[str, Any]:
    check_rw(_settings(request), body.rw)
    if body.anonymous and body.contact is not None:
        raise DomainError(
            "anonymous_with_contact",
            "an anonymous complaint leaves no contact: remove it, or set anonymous to false",
            field="contact",
        )
    cm = _commitments(request)
    description = private.written(cm, "description", body.description)
    contact = private.contact(cm, **body.contact.model_dump()) if body.contact else None
    complaint_id = uuid4()
    for attempt in range(3):
        ticket = new_ticket()
        command = domain.File(
            ticket_commitment=cm.ticket(ticket),
            category=body.category,
            rw=body.rw,
            description_commitment=description.commitment,
            anonymous=body.anonymous,
            contact_commitment=contact.commitment if contact else None,
            references=body.references or ComplaintReferences(),
        )
        try:
            await runtime(request).commands.execute(
                domain.complaints,
                complaint_id,
                command,
                caller(principal),
                must_exist=False,
                also=private.keep(description, contact),
            )
            break
        except TicketCollision:
            if attempt == 2:
                raise
    async with runtime(request).reads() as session:
        row = await _complaint_row(session, complaint_id=complaint_id)
    # The only time the code is shown: keep it to follow the complaint.
    return {
        "ticket_code": ticket,
        "status": "filed",
        "sla": _sla(request, row),
        "track": f"/complaints/track/{ticket}",
    }


@router.get(
    "/complaints/track/{ticket_code}",
    tags=["complaints (public)"],
    summary="Follow a complaint by its ticket code",
    dependencies=[limit("tracking", "tracking_rate")],
)
async def track(
    ticket_code: Annotated[str, Path(pattern=TICKET, examples=["TB-7K3M-9QXP"])],
    request: Request,
) -> dict[str, Any]:
    async with runtime(request).reads() as session:
        row = await _complaint_row(
            session, ticket_commitment=_commitments(request).ticket(ticket_code)
        )
        history = await _history(session, row, public=True)
    return {
        "ticket_code": ticket_code,
        "category": row.category,
        "rw": row.rw,
        "status": row.status,
        "filed_at": row.filed_at,
        "sla": _sla(request, row),
        "history": history,
    }


@router.post(
    "/feedback",
    status_code=201,
    tags=["feedback (public)"],
    summary="Rate a distribution round or a course, 1 to 5",
    dependencies=[limit("feedback", "feedback_rate")],
)
async def give_feedback(
    body: FeedbackIn, request: Request, principal: Principal | None = optional()
) -> dict[str, Any]:
    check_rw(_settings(request), body.rw)
    feedback_id = uuid4()
    comment = _optional(request, "comment", body.comment)

    async def command(session: AsyncSession) -> domain.GiveFeedback:
        known = await session.scalar(
            select(subjects.c.subject_id).where(
                subjects.c.subject_id == body.subject_id,
                subjects.c.subject_type == body.subject_type,
            )
        )
        return domain.GiveFeedback(
            subject_type=body.subject_type,
            subject_id=body.subject_id,
            subject_known=known is not None,
            rating=body.rating,
            rw=body.rw,
            anonymous=body.name is None,
            comment_commitment=comment.commitment if comment else None,
        )

    await runtime(request).commands.execute(
        domain.feedback,
        feedback_id,
        command,
        caller(principal),
        must_exist=False,
        also=private.keep(comment, author=body.name),
    )
    return {"feedback_id": feedback_id, "subject_id": body.subject_id, "rating": body.rating}


@router.get(
    "/feedback/summary",
    tags=["feedback (public)"],
    summary="Average ratings per round or course, and per RW",
)
async def feedback_summary(request: Request, subject_id: UUID | None = None) -> dict[str, Any]:
    f = feedback.c
    where = [f.subject_id == subject_id] if subject_id is not None else []

    def averages(*group: Any) -> Any:
        return (
            select(*group, func.count().label("ratings"), func.avg(f.rating).label("average"))
            .where(*where)
            .group_by(*group)
            .order_by(*group)
        )

    def shown(ratings: int, average: float) -> dict[str, Any]:
        # Public statistics suppress small cells: with under five ratings an average
        # would tell a neighbour how one resident rated.
        if ratings < SMALL_CELL:
            return {"ratings": suppressed(ratings), "average": None}
        return {"ratings": ratings, "average": round(float(average), 2)}

    async with runtime(request).reads() as session:
        per_subject = [
            {
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "title": r.title,
                **shown(r.ratings, r.average),
            }
            for r in await session.execute(
                averages(f.subject_type, f.subject_id, subjects.c.title).join_from(
                    feedback, subjects, subjects.c.subject_id == f.subject_id
                )
            )
        ]
        per_rw = [
            {"rw": r.rw, **shown(r.ratings, r.average)}
            for r in await session.execute(averages(f.rw).where(f.rw.is_not(None)))
        ]
    return {"per_subject": per_subject, "per_rw": per_rw}


# --- facilitators: handling complaints -----------------------------------------------------
@router.get("/complaints", tags=["complaints"], summary="Complaints with their SLA state")
async def list_complaints(
    request: Request,
    principal: Reader,
    status: Literal["filed", "acknowledged", "escalated", "resolved"] | None = None,
    category: ComplaintCategory | None = None,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    sla: domain.SlaState | None = None,
    ticket_code: Annotated[str | None, Query(pattern=TICKET)] = None,
    cursor: str | None = None,
    limit_: Annotated[int, Query(alias="limit", ge=1, le=200)] = 50,
) -> dict[str, Any]:
    c = complaints.c
    conditions = [c.seq > decode_cursor(cursor)]
    for column, value in (
        (c.status, status),
        (c.category, category),
        (c.rw, rw),
        (c.ticket_commitment, _commitments(request).ticket(ticket_code) if ticket_code else None),
    ):
        if value is not None:
            conditions.append(column == value)
    query = select(complaints).where(and_(*conditions)).order_by(c.seq)
    now = utcnow()
    items: list[dict[str, Any]] = []
    async with runtime(request).reads() as session:
        # The SLA state depends on the time: filter it here, reading on until the page is full.
        async for row in await session.stream(query):
            state = _sla(request, row, now)
            if sla is None or state["state"] == sla:
                items.append({**_summary(row), "sla": state})
                if len(items) > limit_:
                    break
    return page(items, limit_, "seq")


def _summary(row: Any) -> dict[str, Any]:
    return fields(row, drop=("version", "ticket_commitment"))


@router.get("/complaints/stats", tags=["complaints"], summary="Counts by category, status, SLA")
async def complaint_stats(request: Request, principal: Reader) -> dict[str, Any]:
    now = utcnow()
    by_category: dict[str, dict[str, int]] = {}
    by_sla: dict[str, int] = {}
    async with runtime(request).reads() as session:
        async for row in await session.stream(select(complaints)):
            counts = by_category.setdefault(row.category, {})
            counts[row.status] = counts.get(row.status, 0) + 1
            state = _sla(request, row, now)["state"]
            by_sla[state] = by_sla.get(state, 0) + 1
    return {"by_category": by_category, "by_sla": by_sla}


@router.get("/complaints/{complaint_id}", tags=["complaints"], summary="One complaint, in full")
async def get_complaint(complaint_id: UUID, request: Request, principal: Reader) -> dict[str, Any]:
    async with runtime(request).reads() as session:
        row = await _complaint_row(session, complaint_id=complaint_id)
        history = await _history(session, row, public=False)
        reporter = (
            await session.execute(select(contacts).where(contacts.c.complaint_id == complaint_id))
        ).first()
    out = {**_summary(row), "sla": _sla(request, row), "history": history}
    # The reporter's contact is for the facilitator who calls back, no one else.
    if reporter is not None and principal.role in (Role.community_facilitator, Role.admin):
        out["contact"] = fields(reporter, drop=("complaint_id", "salt"))
    out["contact_given"] = reporter is not None
    return out


async def _handle(
    request: Request,
    complaint_id: UUID,
    command: Any,
    principal: Principal,
    text: private.Written | None,
) -> dict[str, Any]:
    await runtime(request).commands.execute(
        domain.complaints, complaint_id, command, caller(principal), also=private.keep(text)
    )
    return await get_complaint(complaint_id, request, principal)


@router.post(
    "/complaints/{complaint_id}/acknowledgement",
    tags=["complaints"],
    summary="Acknowledge (the resident sees the note)",
)
async def acknowledge(
    complaint_id: UUID, body: NoteIn, request: Request, principal: Facilitator
) -> dict[str, Any]:
    note = _optional(request, "note", body.note)
    command = domain.Acknowledge(note.commitment if note else None)
    return await _handle(request, complaint_id, command, principal, note)


@router.post(
    "/complaints/{complaint_id}/escalation",
    tags=["complaints"],
    summary="Escalate to the programme manager or the inspectorate",
)
async def escalate(
    complaint_id: UUID, body: EscalationIn, request: Request, principal: Facilitator
) -> dict[str, Any]:
    reason = _written(request, "reason", body.reason)
    command = domain.Escalate(body.to, reason.commitment)
    return await _handle(request, complaint_id, command, principal, reason)


@router.post(
    "/complaints/{complaint_id}/resolution",
    tags=["complaints"],
    summary="Resolve with a written resolution (the resident sees it)",
)
async def resolve(
    complaint_id: UUID, body: ResolutionIn, request: Request, principal: Facilitator
) -> dict[str, Any]:
    resolution = _written(request, "resolution", body.resolution)
    command = domain.Resolve(body.outcome, resolution.commitment)
    return await _handle(request, complaint_id, command, principal, resolution)


# --- meetings ------------------------------------------------------------------------------
@router.post(
    "/meetings",
    status_code=201,
    tags=["meetings"],
    summary="Record an outreach (sosialisasi) or focus-group meeting",
)
async def hold_meeting(
    body: MeetingIn, request: Request, response: Response, principal: Facilitator
) -> dict[str, Any]:
    check_rw(_settings(request), body.rw)
    meeting_id = uuid4()
    command = domain.Hold(
        kind=body.kind,
        held_on=body.held_on,
        rw=body.rw,
        attendance=body.attendance,
        topics=tuple(body.topics),
        aspirations=tuple(body.aspirations),
        follow_ups=tuple(body.follow_ups),
        today=date.today(),
    )
    await runtime(request).commands.execute(
        domain.meetings, meeting_id, command, caller(principal), must_exist=False
    )
    response.headers["Location"] = f"/meetings/{meeting_id}"
    return await get_meeting(meeting_id, request, principal)


@router.post(
    "/meetings/{meeting_id}/follow-ups/{index}",
    tags=["meetings"],
    summary="Update a follow-up action's status",
)
async def update_follow_up(
    meeting_id: UUID,
    index: Annotated[int, Path(ge=0, le=100)],
    body: FollowUpIn,
    request: Request,
    principal: Facilitator,
) -> dict[str, Any]:
    await runtime(request).commands.execute(
        domain.meetings, meeting_id, domain.UpdateFollowUp(index, body.status), caller(principal)
    )
    return await get_meeting(meeting_id, request, principal)


@router.get("/meetings", tags=["meetings"], summary="Meetings, newest first")
async def list_meetings(
    request: Request,
    principal: Reader,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    kind: Literal["outreach", "focus_group"] | None = None,
) -> list[dict[str, Any]]:
    query = select(meetings).order_by(meetings.c.held_on.desc(), meetings.c.seq.desc())
    if rw is not None:
        query = query.where(meetings.c.rw == rw)
    if kind is not None:
        query = query.where(meetings.c.kind == kind)
    async with runtime(request).reads() as session:
        return [fields(r) for r in await session.execute(query)]


@router.get("/meetings/{meeting_id}", tags=["meetings"], summary="One meeting")
async def get_meeting(meeting_id: UUID, request: Request, principal: Reader) -> dict[str, Any]:
    missing = NotFound("meeting_not_found", f"no meeting {meeting_id}", field="meeting_id")
    return await one(request, select(meetings).where(meetings.c.meeting_id == meeting_id), missing)
