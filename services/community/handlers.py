"""The community's commands, one named function each: the facts it reads, what it decides
and everything it writes, in one unit of work (shared/uow.py). What people wrote and who
reporters are go to the private store here, beside the salts of the commitments the
events carry; a ticket code is shown once and only its commitment is kept."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from services.community import private, projections
from services.community.api.schemas import (
    ComplaintIn,
    EscalationIn,
    FeedbackIn,
    MeetingIn,
    NoteIn,
    ResolutionIn,
)
from services.community.domain.complaint import (
    Acknowledge,
    Complaint,
    Escalate,
    File,
    Resolve,
    complaints,
)
from services.community.domain.feedback import Feedback, GiveFeedback, feedback
from services.community.domain.meeting import (
    FollowUpStatus,
    Hold,
    Meeting,
    UpdateFollowUp,
    meetings,
)
from services.community.errors import TICKET_COLLISION
from shared import clock
from shared.domain import DomainError
from shared.events.community import ComplaintReferences
from shared.pii import Commitments, bearer_code
from shared.uow import Outcome, UnitOfWork, retried

TICKET_DRAWS = 3  # a code drawn twice (40 random bits) is drawn again, this many times


def new_ticket() -> str:
    """Not guessable, short enough to write on a paper slip; a bearer secret, so only its
    commitment is stored or published."""
    return bearer_code("TB")


# --- complaints ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Filed:
    ticket_code: str  # shown once, in the reply to the filing
    outcome: Outcome[Complaint]


@retried
async def file_complaint(uow: UnitOfWork, form: ComplaintIn, keys: Commitments) -> Filed:
    description = private.written(keys, "description", form.description)
    reporter = private.contact(keys, **form.contact.model_dump()) if form.contact else None
    complaint_id = uuid4()
    for draw in range(1, TICKET_DRAWS + 1):
        ticket = new_ticket()
        command = File(
            ticket_commitment=keys.ticket(ticket),
            category=form.category,
            rw=form.rw,
            description_commitment=description.commitment,
            anonymous=form.anonymous,
            contact_commitment=reporter.commitment if reporter else None,
            references=form.references or ComplaintReferences(),
        )
        try:
            async with uow:
                outcome = await uow.create(complaints, complaint_id, command)
                await private.keep_text(uow.session, outcome.events[0], description)
                await private.keep_contact(uow.session, complaint_id, reporter)
            return Filed(ticket, outcome)
        except DomainError as refused:  # the ticket's unique constraint (projections.py)
            if refused.code != TICKET_COLLISION or draw == TICKET_DRAWS:
                raise
    raise AssertionError("unreachable")


@retried
async def acknowledge(
    uow: UnitOfWork, complaint_id: UUID, form: NoteIn, keys: Commitments
) -> Outcome[Complaint]:
    note = private.optional(keys, "note", form.note)
    command = Acknowledge(note_commitment=note.commitment if note else None)
    async with uow:
        outcome = await uow.execute(complaints, complaint_id, command)
        await private.keep_text(uow.session, outcome.events[0], note)
    return outcome


@retried
async def escalate(
    uow: UnitOfWork, complaint_id: UUID, form: EscalationIn, keys: Commitments
) -> Outcome[Complaint]:
    reason = private.written(keys, "reason", form.reason)
    command = Escalate(to=form.to, reason_commitment=reason.commitment)
    async with uow:
        outcome = await uow.execute(complaints, complaint_id, command)
        await private.keep_text(uow.session, outcome.events[0], reason)
    return outcome


@retried
async def resolve(
    uow: UnitOfWork, complaint_id: UUID, form: ResolutionIn, keys: Commitments
) -> Outcome[Complaint]:
    resolution = private.written(keys, "resolution", form.resolution)
    command = Resolve(outcome=form.outcome, resolution_commitment=resolution.commitment)
    async with uow:
        outcome = await uow.execute(complaints, complaint_id, command)
        await private.keep_text(uow.session, outcome.events[0], resolution)
    return outcome


# --- feedback ------------------------------------------------------------------------------
@retried
async def give_feedback(uow: UnitOfWork, form: FeedbackIn, keys: Commitments) -> Outcome[Feedback]:
    comment = private.optional(keys, "comment", form.comment)
    feedback_id = uuid4()
    receipt = keys.receipt(form.receipt_code) if form.receipt_code else None
    async with uow:
        receipt_round, rated = (
            await projections.receipt_facts(uow.session, receipt) if receipt else (None, False)
        )
        subject_id = form.subject_id or receipt_round
        # A hand-over's round is announced before it: known even if the consumer of
        # announcements is a moment behind the consumer of hand-overs.
        known = subject_id is not None and (
            subject_id == receipt_round
            or await projections.subject_known(uow.session, form.subject_type, subject_id)
        )
        command = GiveFeedback(
            subject_type=form.subject_type,
            subject_id=form.subject_id,
            subject_known=known,
            receipt_commitment=receipt,
            receipt_round=receipt_round,
            receipt_rated=rated,
            rating=form.rating,
            rw=form.rw,
            anonymous=form.name is None,
            comment_commitment=comment.commitment if comment else None,
        )
        outcome = await uow.create(feedback, feedback_id, command)
        await private.keep_text(uow.session, outcome.events[0], comment)
        if form.name:
            await private.keep_author(uow.session, feedback_id, form.name)
    return outcome


# --- meetings ------------------------------------------------------------------------------
@retried
async def record_meeting(uow: UnitOfWork, form: MeetingIn) -> Outcome[Meeting]:
    command = Hold(
        kind=form.kind,
        held_on=form.held_on,
        rw=form.rw,
        attendance=form.attendance,
        topics=tuple(form.topics),
        aspirations=tuple(form.aspirations),
        follow_ups=tuple(form.follow_ups),
        today=clock.today(),
        topic_codes=tuple(form.topic_codes),
    )
    async with uow:
        return await uow.create(meetings, uuid4(), command)


@retried
async def update_follow_up(
    uow: UnitOfWork, meeting_id: UUID, index: int, status: FollowUpStatus
) -> Outcome[Meeting]:
    async with uow:
        return await uow.execute(meetings, meeting_id, UpdateFollowUp(index=index, status=status))
