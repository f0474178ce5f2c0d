"""Complaints (pengaduan): public filing and tracking by ticket code; facilitators' list,
statistics and handling (acknowledge, escalate, resolve).

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from services.community import handlers
from services.community.api import queries
from services.community.api.deps import (
    SEES_CONTACTS,
    FacilitatorWork,
    PublicWork,
    Reader,
    Settings,
)
from services.community.api.schemas import (
    TICKET,
    ComplaintIn,
    ComplaintOut,
    ComplaintStats,
    ComplaintSummary,
    EscalationIn,
    FiledOut,
    NoteIn,
    ResolutionIn,
    SlaOut,
    Status,
    TrackOut,
)
from services.community.domain.complaint import SlaState
from services.community.domain.complaint import sla as sla_of
from services.community.errors import (
    ALREADY_ACKNOWLEDGED,
    ALREADY_ESCALATED,
    ANONYMOUS_WITH_CONTACT,
    COMPLAINT_NOT_FOUND,
    COMPLAINT_RESOLVED,
    CONTACT_REQUIRED,
    TICKET_COLLISION,
    TICKET_NOT_FOUND,
)
from shared.deps import Cursor, Page, Reads, check_rw, decode_cursor, page
from shared.domain import DomainError
from shared.errors import RATE_LIMITED, RW_OUTSIDE, errors
from shared.events import utcnow
from shared.events.community import ComplaintCategory
from shared.pii import commitments
from shared.ratelimit import limit as rate_limit

router = APIRouter(prefix="/complaints")
PUBLIC = "complaints (public)"
STAFF = "complaints"
# What every command on a filed complaint can answer.
HANDLING = (COMPLAINT_NOT_FOUND, COMPLAINT_RESOLVED)


async def _complaint(
    session: Reads, complaint_id: UUID, settings: Settings, *, with_contact: bool
) -> ComplaintOut:
    policy = settings.sla()
    found = await queries.complaint(session, complaint_id, policy, with_contact=with_contact)
    if found is None:
        raise DomainError(COMPLAINT_NOT_FOUND, "no such complaint", field="complaint_id")
    return found


# --- public: filing and tracking -----------------------------------------------------------
@router.post(
    "",
    status_code=201,
    tags=[PUBLIC],
    response_model=FiledOut,
    summary="File a complaint, anonymously if you wish; keep the ticket code",
    dependencies=[rate_limit("complaints", "complaint_rate")],
    responses=errors(
        ANONYMOUS_WITH_CONTACT, CONTACT_REQUIRED, RW_OUTSIDE, RATE_LIMITED, TICKET_COLLISION
    ),
)
async def file_complaint(form: ComplaintIn, uow: PublicWork, settings: Settings) -> FiledOut:
    check_rw(settings, form.rw)
    filed = await handlers.file_complaint(uow, form, commitments(settings))
    filed_at = filed.outcome.events[0].occurred_at
    # The only time the code is shown: keep it to follow the complaint.
    return FiledOut(
        ticket_code=filed.ticket_code,
        status="filed",
        sla=SlaOut.of(sla_of(settings.sla(), filed_at, None, None, utcnow())),
        track=f"/complaints/track/{filed.ticket_code}",
    )


@router.get(
    "/track/{ticket_code}",
    tags=[PUBLIC],
    response_model=TrackOut,
    response_model_exclude_unset=True,  # a step shows only what it has
    summary="Follow a complaint by its ticket code",
    dependencies=[rate_limit("tracking", "tracking_rate")],
    responses=errors(TICKET_NOT_FOUND, RATE_LIMITED),
)
async def track(
    ticket_code: Annotated[str, Path(pattern=TICKET, examples=["TB-7K3M-9QXP"])],
    session: Reads,
    settings: Settings,
) -> TrackOut:
    ticket = commitments(settings).ticket(ticket_code)
    found = await queries.tracked(session, ticket_code, ticket, settings.sla())
    if found is None:
        raise DomainError(TICKET_NOT_FOUND, "no complaint has this ticket code")
    return found


# --- facilitators: reading -----------------------------------------------------------------
@router.get(
    "",
    tags=[STAFF],
    response_model=Page[ComplaintSummary],
    summary="Complaints with their SLA state",
)
async def list_complaints(
    session: Reads,
    settings: Settings,
    principal: Reader,
    status: Status | None = None,
    category: ComplaintCategory | None = None,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    sla: SlaState | None = None,
    ticket_code: Annotated[str | None, Query(pattern=TICKET)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ComplaintSummary]:
    ticket = commitments(settings).ticket(ticket_code) if ticket_code else None
    rows = await queries.complaint_list(
        session,
        settings.sla(),
        after=decode_cursor(cursor),
        limit=limit,
        sla_state=sla,
        status=status,
        category=category,
        rw=rw,
        ticket_commitment=ticket,
    )
    return page(rows, limit)


@router.get(
    "/stats",
    tags=[STAFF],
    response_model=ComplaintStats,
    summary="Counts by category, status, SLA",
)
async def complaint_stats(session: Reads, settings: Settings, principal: Reader) -> ComplaintStats:
    return await queries.complaint_stats(session, settings.sla())


@router.get(
    "/{complaint_id}",
    tags=[STAFF],
    response_model=ComplaintOut,
    response_model_exclude_unset=True,  # a step shows only what it has
    summary="One complaint, in full",
    responses=errors(COMPLAINT_NOT_FOUND),
)
async def get_complaint(
    complaint_id: UUID, session: Reads, settings: Settings, principal: Reader
) -> ComplaintOut:
    # The reporter's contact is for the facilitator who calls back, no one else.
    with_contact = principal.role in SEES_CONTACTS
    return await _complaint(session, complaint_id, settings, with_contact=with_contact)


# --- facilitators: handling ----------------------------------------------------------------
@router.post(
    "/{complaint_id}/acknowledgement",
    tags=[STAFF],
    response_model=ComplaintOut,
    response_model_exclude_unset=True,  # a step shows only what it has
    summary="Acknowledge (the resident sees the note)",
    responses=errors(*HANDLING, ALREADY_ACKNOWLEDGED),
)
async def acknowledge(
    complaint_id: UUID, form: NoteIn, uow: FacilitatorWork, settings: Settings, session: Reads
) -> ComplaintOut:
    await handlers.acknowledge(uow, complaint_id, form, commitments(settings))
    return await _complaint(session, complaint_id, settings, with_contact=True)


@router.post(
    "/{complaint_id}/escalation",
    tags=[STAFF],
    response_model=ComplaintOut,
    response_model_exclude_unset=True,  # a step shows only what it has
    summary="Escalate to the programme manager or the inspectorate",
    responses=errors(*HANDLING, ALREADY_ESCALATED),
)
async def escalate(
    complaint_id: UUID,
    form: EscalationIn,
    uow: FacilitatorWork,
    settings: Settings,
    session: Reads,
) -> ComplaintOut:
    await handlers.escalate(uow, complaint_id, form, commitments(settings))
    return await _complaint(session, complaint_id, settings, with_contact=True)


@router.post(
    "/{complaint_id}/resolution",
    tags=[STAFF],
    response_model=ComplaintOut,
    response_model_exclude_unset=True,  # a step shows only what it has
    summary="Resolve with a written resolution (the resident sees it)",
    responses=errors(*HANDLING),
)
async def resolve(
    complaint_id: UUID,
    form: ResolutionIn,
    uow: FacilitatorWork,
    settings: Settings,
    session: Reads,
) -> ComplaintOut:
    await handlers.resolve(uow, complaint_id, form, commitments(settings))
    return await _complaint(session, complaint_id, settings, with_contact=True)
