"""The complaint (pengaduan) and its SLA. A pure decider, no I/O.

Free text (the description, notes, reasons, resolutions) and contacts never reach the
decider or an event: the handlers keep them in the private store and pass commitments,
salted per record. Nor does a ticket code: only its commitment. Version-1 events are
subclasses of the version-2 ones, so a complaint filed under version 1 replays the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from services.community.errors import (
    ALREADY_ACKNOWLEDGED,
    ALREADY_ESCALATED,
    ANONYMOUS_WITH_CONTACT,
    COMPLAINT_EXISTS,
    COMPLAINT_RESOLVED,
    CONTACT_REQUIRED,
)
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.community import (
    ComplaintAcknowledged,
    ComplaintCategory,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintOutcome,
    ComplaintReferences,
    ComplaintResolved,
)
from shared.uow import Decider

ComplaintStatus = Literal["new", "filed", "acknowledged", "escalated", "resolved"]
EscalationTarget = Literal["programme_manager", "inspectorate"]


# --- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Complaint:
    status: ComplaintStatus = "new"
    escalated_to: frozenset[str] = frozenset()


# --- commands ------------------------------------------------------------------------------
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


Command = File | Acknowledge | Escalate | Resolve


# --- rules ---------------------------------------------------------------------------------
def decide(state: Complaint, command: Command) -> list[EventPayload]:
    """A complaint that was never filed does not get here: the unit of work answers
    `complaint_not_found` for a command on an aggregate without history."""
    if isinstance(command, File):
        return [_file(state, command)]
    if state.status == "resolved":
        raise DomainError(COMPLAINT_RESOLVED, "the complaint is resolved")
    match command:
        case Acknowledge():
            if state.status != "filed":
                raise DomainError(ALREADY_ACKNOWLEDGED, "the complaint is already acknowledged")
            return [ComplaintAcknowledged(note_commitment=command.note_commitment)]
        case Escalate():
            if command.to in state.escalated_to:
                raise DomainError(
                    ALREADY_ESCALATED, f"the complaint is already with the {command.to}"
                )
            return [ComplaintEscalated(to=command.to, reason_commitment=command.reason_commitment)]
        case Resolve():
            return [
                ComplaintResolved(
                    outcome=command.outcome, resolution_commitment=command.resolution_commitment
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _file(state: Complaint, command: File) -> ComplaintFiled:
    if state.status != "new":
        raise DomainError(COMPLAINT_EXISTS, "this complaint is already filed")
    if command.anonymous and command.contact_commitment is not None:
        raise DomainError(
            ANONYMOUS_WITH_CONTACT,
            "an anonymous complaint leaves no contact: remove it, or set anonymous to false",
            field="contact",
        )
    if not command.anonymous and command.contact_commitment is None:
        raise DomainError(
            CONTACT_REQUIRED,
            "give a phone number or e-mail address, or file anonymously",
            field="contact",
        )
    return ComplaintFiled(
        ticket_commitment=command.ticket_commitment,
        category=command.category,
        description_commitment=command.description_commitment,
        rw=command.rw,
        anonymous=command.anonymous,
        contact_commitment=command.contact_commitment,
        references=command.references,
    )


def evolve(state: Complaint, event: EventPayload) -> Complaint:
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


complaints: Decider[Complaint, Command] = Decider("complaint", Complaint(), decide, evolve)


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
    return Sla(pending(filed_at, deadline, now, policy.at_risk_share), ack_by, resolve_by)


def pending(
    filed_at: datetime, deadline: datetime, now: datetime, at_risk_share: float
) -> SlaState:
    """A step not done yet: breached past its deadline, at risk once `at_risk_share` of the
    time to it is gone, else on track (complaints and appeals alike)."""
    if now > deadline:
        return "breached"
    if now >= filed_at + (deadline - filed_at) * at_risk_share:
        return "at_risk"
    return "on_track"
