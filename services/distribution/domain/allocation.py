"""An allocation: a programme's aid for one household and period, then its hand-over or
the report that it was not handed over. A pure decider.

Facts from other aggregates and services (the round, the household as the registry's events
describe it, the officer's certificate) come in on the command, read by the handler in the
command's transaction. Commands carry only what may leave this service: commitments to a
NIK, a receipt code or a staff note, never the values. Stored version 1 events replay too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from services.distribution.domain.round import RoundStatus
from services.distribution.errors import (
    ALREADY_ALLOCATED,
    ALREADY_ALLOCATED_IN_PERIOD,
    ALREADY_RECEIVED,
    ALREADY_UNDELIVERED,
    HOUSEHOLD_NOT_ELIGIBLE,
    HOUSEHOLD_OUTSIDE_ROUND,
    OFFICER_NOT_CERTIFIED,
    RECIPIENT_NOT_MEMBER,
    ROUND_CLOSED,
    ROUND_NOT_ENDORSED,
)
from shared.domain import DomainError
from shared.errors import HOUSEHOLD_INACTIVE, HOUSEHOLD_UNKNOWN
from shared.events import EventPayload
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidReceivedV1,
    AidUndelivered,
    AidUndeliveredV1,
    PackageItem,
    Programme,
    UndeliveredReason,
)
from shared.uow import Decider

# A household not at home may be visited again; the other outcomes are final.
RETRYABLE: frozenset[UndeliveredReason] = frozenset({"not_at_home"})
AllocationStatus = Literal["new", "allocated", "received", "undelivered"]


# --- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allocated:
    """What an allocation fixed; its hand-over outcomes repeat it for their public view."""

    round_id: UUID
    programme: Programme
    rw: str
    amount_idr: int


@dataclass(frozen=True)
class Allocation:
    status: AllocationStatus = "new"
    household_id: UUID | None = None
    undelivered_reason: UndeliveredReason | None = None
    allocated: Allocated | None = None


# --- facts the handlers read ---------------------------------------------------------------
@dataclass(frozen=True)
class EligibleHousehold:
    """The distribution's view of a household, from registry events only."""

    household_id: UUID
    active: bool
    eligible: bool | None
    rt: str
    rw: str
    member_commitments: tuple[str, ...]
    decided_by_event_id: UUID | None  # the registry's eligibility_decided event


@dataclass(frozen=True)
class RoundFacts:
    round_id: UUID
    status: RoundStatus
    programme: Programme
    period: str
    rws: tuple[str, ...]
    benefit_idr: int
    package: tuple[PackageItem, ...]


@dataclass(frozen=True)
class OfficerFacts:
    officer_id: UUID
    certified_until: date | None  # None: not certified on the hand-over date


# --- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allocate:
    round: RoundFacts
    household: EligibleHousehold | None  # None: the registry never announced it


@dataclass(frozen=True)
class ConfirmReceipt:
    round_status: RoundStatus
    officer: OfficerFacts
    recipient_commitment: str
    member_commitments: tuple[str, ...]
    receipt_commitment: str  # of the code the recipient is handed, to check the ledger
    received_at: datetime
    place: str
    evidence_sha256: str
    gps: tuple[float, float] | None = None


@dataclass(frozen=True)
class ReportUndelivered:
    round_status: RoundStatus
    officer: OfficerFacts
    reason: UndeliveredReason
    note_commitment: str | None = None  # salted; the note stays in the service's store


Command = Allocate | ConfirmReceipt | ReportUndelivered


# --- rules ---------------------------------------------------------------------------------
def decide(state: Allocation, command: Command) -> list[EventPayload]:
    match command:
        case Allocate():
            return [_allocate(state, command)]
        case ConfirmReceipt():
            facts = _require_deliverable(state, command.round_status, command.officer)
            if command.recipient_commitment not in command.member_commitments:
                raise DomainError(
                    RECIPIENT_NOT_MEMBER,
                    "the recipient's NIK is not a member of this household",
                    field="recipient_nik",
                )
            return [
                AidReceived(
                    round_id=facts.round_id,
                    programme=facts.programme,
                    rw=facts.rw,
                    amount_idr=facts.amount_idr,
                    officer_id=command.officer.officer_id,
                    recipient_commitment=command.recipient_commitment,
                    receipt_commitment=command.receipt_commitment,
                    received_at=command.received_at,
                    place=command.place,
                    evidence_sha256=command.evidence_sha256,
                    gps=command.gps,
                )
            ]
        case ReportUndelivered():
            facts = _require_deliverable(state, command.round_status, command.officer)
            return [
                AidUndelivered(
                    round_id=facts.round_id,
                    programme=facts.programme,
                    rw=facts.rw,
                    amount_idr=facts.amount_idr,
                    officer_id=command.officer.officer_id,
                    reason=command.reason,
                    note_commitment=command.note_commitment,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _allocate(state: Allocation, command: Allocate) -> AidAllocated:
    r, h = command.round, command.household
    if state.allocated is not None and state.allocated.round_id != r.round_id:
        raise DomainError(
            ALREADY_ALLOCATED_IN_PERIOD,
            f"the household already has {r.programme} for {r.period} "
            f"(round {state.allocated.round_id}): one per household and period",
            field="household_id",
        )
    if state.status != "new":
        raise DomainError(ALREADY_ALLOCATED, "the household is already allocated in this round")
    if r.status == "closed":
        raise DomainError(ROUND_CLOSED, "the round is closed")
    if h is None:
        raise DomainError(
            HOUSEHOLD_UNKNOWN,
            "the registry has not announced this household",
            field="household_id",
        )
    if not h.active:
        raise DomainError(HOUSEHOLD_INACTIVE, "the household is deactivated", field="household_id")
    if not h.eligible or h.decided_by_event_id is None:
        raise DomainError(
            HOUSEHOLD_NOT_ELIGIBLE,
            "the household is not eligible (no eligibility decision in its favour)",
            field="household_id",
        )
    if h.rw not in r.rws:
        raise DomainError(
            HOUSEHOLD_OUTSIDE_ROUND,
            f"RW {h.rw} is not covered by this round ({', '.join(r.rws)})",
            field="household_id",
        )
    return AidAllocated(
        round_id=r.round_id,
        household_id=h.household_id,
        programme=r.programme,
        amount_idr=r.benefit_idr,
        package=r.package,
        rt=h.rt,
        rw=h.rw,
        based_on_event_id=h.decided_by_event_id,
    )


def _require_deliverable(
    state: Allocation, round_status: RoundStatus, officer: OfficerFacts
) -> Allocated:
    """What was allocated, if a hand-over outcome may be recorded on it now. (An
    allocation never made is the unit of work's `allocation_not_found`, before deciding.)"""
    assert state.allocated is not None
    if state.status == "received":
        raise DomainError(ALREADY_RECEIVED, "the aid was already handed over")
    if state.status == "undelivered" and state.undelivered_reason not in RETRYABLE:
        raise DomainError(
            ALREADY_UNDELIVERED,
            f"the aid was reported undelivered ({state.undelivered_reason}); that is final",
        )
    if round_status == "closed":
        raise DomainError(ROUND_CLOSED, "the round is closed")
    if round_status != "endorsed":
        raise DomainError(
            ROUND_NOT_ENDORSED,
            "the community has not endorsed this round yet; no hand-over before that",
        )
    if officer.certified_until is None:
        raise DomainError(
            OFFICER_NOT_CERTIFIED, "you hold no distribution certificate valid on that date"
        )
    return state.allocated


def evolve(state: Allocation, event: EventPayload) -> Allocation:
    match event:
        case AidAllocated():  # version 1 too: a subclass
            facts = Allocated(event.round_id, event.programme, event.rw, event.amount_idr)
            return replace(
                state, status="allocated", household_id=event.household_id, allocated=facts
            )
        case AidReceived() | AidReceivedV1():  # version 1 is a class of its own
            return replace(state, status="received")
        case AidUndelivered() | AidUndeliveredV1():
            return replace(state, status="undelivered", undelivered_reason=event.reason)
    return state


allocations: Decider[Allocation, Command] = Decider("allocation", Allocation(), decide, evolve)
