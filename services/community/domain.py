"""Community deciders: complaints (with their SLA), feedback and meetings. Pure, no I/O.

Free text (a complaint's description, notes, resolutions, comments) and contacts never
reach a decider or an event: the service keeps them and passes their commitments, salted
per record. Nor does a ticket code: only its commitment. Version-1 events are subclasses
of the version-2 ones, so a complaint filed under version 1 replays the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal
from uuid import UUID

from shared.domain import Conflict, DomainError, NotFound
from shared.events import EventPayload
from shared.events.community import (
    Attendance,
    ComplaintAcknowledged,
    ComplaintCategory,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintOutcome,
    ComplaintReferences,
    ComplaintResolved,
    FeedbackSubmitted,
    FollowUp,
    FollowUpUpdated,
    MeetingHeld,
)
from shared.service import Decider

ComplaintStatus = Literal["new", "filed", "acknowledged", "escalated", "resolved"]
EscalationTarget = Literal["programme_manager", "inspectorate"]
FollowUpStatus = Literal["open", "in_progress", "done"]


# --- complaints ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Complaint:
    status: ComplaintStatus = "new"
    escalated_to: frozenset[str] = frozenset()


@dataclass(frozen=True)
class File:
    ticket_commitment: str
    category: ComplaintCategory
    rw: str
    description_commitment: str
    anonymous: bool
    contact_commitment: str | None = None
    references: ComplaintReferences = field(default_factory=ComplaintReferences)


@dataclass(frozen=True)
class Acknowledge:
    note_commitment: str | None = None


@dataclass(frozen=True)
class Escalate:
    to: EscalationTarget
    reason_commitment: str


@dataclass(frozen=True)
class Resolve:
    outcome: ComplaintOutcome
    resolution_commitment: str


ComplaintCommand = File | Acknowledge | Escalate | Resolve


def decide_complaint(state: Complaint, command: ComplaintCommand) -> list[EventPayload]:
    if isinstance(command, File):
        if state.status != "new":
            raise Conflict("complaint_exists", "this complaint is already filed")
        if command.anonymous and command.contact_commitment is not None:
            raise DomainError(
                "anonymous_with_contact",
                "an anonymous complaint leaves no contact",
                field="contact",
            )
        if not command.anonymous and command.contact_commitment is None:
            raise DomainError(
                "contact_required",
                "give a phone number or e-mail address, or file anonymously",
                field="contact",
            )
        return [
            ComplaintFiled(
                ticket_commitment=command.ticket_commitment,
                category=command.category,
                description_commitment=command.description_commitment,
                rw=command.rw,
                anonymous=command.anonymous,
                contact_commitment=command.contact_commitment,
                references=command.references,
            )
        ]
    if state.status == "new":
        raise NotFound("complaint_not_found", "there is no such complaint")
    if state.status == "resolved":
        raise Conflict("complaint_resolved", "the complaint is resolved")
    match command:
        case Acknowledge():
            if state.status != "filed":
                raise Conflict("already_acknowledged", "the complaint is already acknowledged")
            return [ComplaintAcknowledged(note_commitment=command.note_commitment)]
        case Escalate():
            if command.to in state.escalated_to:
                raise Conflict(
                    "already_escalated", f"the complaint is already with the {command.to}"
                )
            return [ComplaintEscalated(to=command.to, reason_commitment=command.reason_commitment)]
        case Resolve():
            return [
                ComplaintResolved(
                    outcome=command.outcome, resolution_commitment=command.resolution_commitment
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve_complaint(state: Complaint, event: EventPayload) -> Complaint:
    match event:
        case ComplaintFiled():
            return replace(state, status="filed")
        case ComplaintAcknowledged():
            return replace(state, status="acknowledged")
        case ComplaintEscalated():
            return replace(state, status="escalated", escalated_to=state.escalated_to | {event.to})
        case ComplaintResolved():
            return replace(state, status="resolved")
    return state


complaints: Decider[Complaint, ComplaintCommand] = Decider(
    "complaint", Complaint(), decide_complaint, evolve_complaint
)


# --- the SLA -------------------------------------------------------------------------------
SlaState = Literal["on_track", "at_risk", "breached", "met"]


@dataclass(frozen=True)
class SlaPolicy:
    acknowledge_days: int = 3
    resolve_days: int = 14
    at_risk_share: float = 0.75  # of the time to a deadline, after which it is at risk


@dataclass(frozen=True)
class Sla:
    state: SlaState
    acknowledge_by: datetime
    resolve_by: datetime


def sla(
    policy: SlaPolicy,
    filed_at: datetime,
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
) -> Sla:
    """On track, at risk (most of the time to the next deadline gone), breached (a
    deadline missed, pending or met late) or met (resolved within both)."""
    ack_by = filed_at + timedelta(days=policy.acknowledge_days)
    resolve_by = filed_at + timedelta(days=policy.resolve_days)
    acknowledged = acknowledged_at or resolved_at  # a resolution acknowledges too
    late = (acknowledged is not None and acknowledged > ack_by) or (
        resolved_at is not None and resolved_at > resolve_by
    )
    if late:
        return Sla("breached", ack_by, resolve_by)
    if resolved_at is not None:
        return Sla("met", ack_by, resolve_by)
    deadline = ack_by if acknowledged is None else resolve_by
    if now > deadline:
        return Sla("breached", ack_by, resolve_by)
    if now >= filed_at + (deadline - filed_at) * policy.at_risk_share:
        return Sla("at_risk", ack_by, resolve_by)
    return Sla("on_track", ack_by, resolve_by)


# --- feedback ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Feedback:
    given: bool = False


@dataclass(frozen=True)
class GiveFeedback:
    subject_type: Literal["round", "course"]
    subject_id: UUID
    subject_known: bool
    rating: int
    rw: str | None
    anonymous: bool
    comment_commitment: str | None = None


def decide_feedback(state: Feedback, command: GiveFeedback) -> list[EventPayload]:
    if state.given:
        raise Conflict("feedback_exists", "this feedback is already recorded")
    if not command.subject_known:
        raise DomainError(
            "subject_unknown",
            f"no {command.subject_type} {command.subject_id} has been announced",
            field="subject_id",
        )
    return [
        FeedbackSubmitted(
            subject_type=command.subject_type,
            subject_id=command.subject_id,
            rating=command.rating,
            comment_commitment=command.comment_commitment,
            rw=command.rw,
            anonymous=command.anonymous,
        )
    ]


def evolve_feedback(state: Feedback, event: EventPayload) -> Feedback:
    return replace(state, given=True) if isinstance(event, FeedbackSubmitted) else state


feedback: Decider[Feedback, GiveFeedback] = Decider(
    "feedback", Feedback(), decide_feedback, evolve_feedback
)


# --- meetings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Meeting:
    held: bool = False
    follow_ups: tuple[FollowUpStatus, ...] = ()


@dataclass(frozen=True)
class Hold:
    kind: Literal["outreach", "focus_group"]
    held_on: date
    rw: str
    attendance: Attendance
    topics: tuple[str, ...]
    aspirations: tuple[str, ...]
    follow_ups: tuple[FollowUp, ...]
    today: date


@dataclass(frozen=True)
class UpdateFollowUp:
    index: int
    status: FollowUpStatus


MeetingCommand = Hold | UpdateFollowUp


def decide_meeting(state: Meeting, command: MeetingCommand) -> list[EventPayload]:
    match command:
        case Hold():
            if state.held:
                raise Conflict("meeting_exists", "this meeting is already recorded")
            if command.held_on > command.today:
                raise DomainError(
                    "held_on_future", "record a meeting once it was held", field="held_on"
                )
            a = command.attendance
            if a.female + a.male == 0:
                raise DomainError("attendance_empty", "a meeting has attendees", field="attendance")
            if max(a.elderly, a.disabled, a.youth) > a.female + a.male:
                raise DomainError(
                    "attendance_inconsistent",
                    "a group (elderly, disabled, youth) cannot outnumber all attendees",
                    field="attendance",
                )
            return [
                MeetingHeld(
                    kind=command.kind,
                    held_on=command.held_on,
                    rw=command.rw,
                    attendance=command.attendance,
                    topics=command.topics,
                    aspirations=command.aspirations,
                    follow_ups=command.follow_ups,
                )
            ]
        case UpdateFollowUp():
            if not state.held:
                raise NotFound("meeting_not_found", "there is no such meeting")
            if not 0 <= command.index < len(state.follow_ups):
                raise NotFound(
                    "follow_up_not_found",
                    f"the meeting has {len(state.follow_ups)} follow-up action(s)",
                    field="index",
                )
            if state.follow_ups[command.index] == command.status:
                return []
            return [FollowUpUpdated(index=command.index, status=command.status)]
    raise TypeError(f"unknown command {command!r}")


def evolve_meeting(state: Meeting, event: EventPayload) -> Meeting:
    match event:
        case MeetingHeld():
            return replace(state, held=True, follow_ups=tuple(f.status for f in event.follow_ups))
        case FollowUpUpdated():
            statuses = list(state.follow_ups)
            statuses[event.index] = event.status
            return replace(state, follow_ups=tuple(statuses))
    return state


meetings: Decider[Meeting, MeetingCommand] = Decider(
    "meeting", Meeting(), decide_meeting, evolve_meeting
)
