"""Distribution deciders: budgets, officers, rounds and allocations. Pure, no I/O.

Facts from other aggregates or services (a household's eligibility, an officer's
certificate, a round's totals) come in on the command, read by the service layer in the
command's own transaction; the deciders only judge them. Commands carry only what may
leave this service: commitments to a NIK, a receipt code or a staff note, never the
values (the API keeps notes in its own store and hands the receipt code to the recipient).
Stored version 1 events replay too (DESIGN §7 changed the payloads, not the rules).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.service import Decider

from shared.domain import Conflict, DomainError, Forbidden
from shared.events import EventPayload
from shared.events.distribution import (
    AidAllocated,
    AidReceived,
    AidReceivedV1,
    AidUndelivered,
    AidUndeliveredV1,
    OfficerCertified,
    PackageItem,
    Posko,
    Programme,
    ProgrammeBudgeted,
    RoundClosed,
    RoundEndorsed,
    RoundScheduled,
    UndeliveredReason,
)

_NS = uuid5(NAMESPACE_URL, "https://tanjungbarat.bansos/distribution")
# A household not at home may be visited again; the other outcomes are final.
RETRYABLE: frozenset[UndeliveredReason] = frozenset({"not_at_home"})


def budget_id(programme: Programme, period: str) -> UUID:
    """One budget per programme and period: the id says which, so a second is a conflict."""
    return uuid5(_NS, f"budget/{programme}/{period}")


def officer_id(officer_sub: str) -> UUID:
    return uuid5(_NS, f"officer/{officer_sub}")


def allocation_id(programme: Programme, period: str, household_id: UUID) -> UUID:
    """One allocation of a programme per household and period, whatever the round: a
    second one is the same aggregate, so its decider refuses it, and two rounds racing
    for one household collide on the aggregate's version (money is never paid twice)."""
    return uuid5(_NS, f"allocation/{programme}/{period}/{household_id}")


def period_contains(period: str, day: date) -> bool:
    """Whether a day falls in a period: a month (`2026-11`) or a quarter (`2026-Q4`)."""
    year, part = period.split("-")
    if day.year != int(year):
        return False
    if part.startswith("Q"):
        return (day.month - 1) // 3 + 1 == int(part[1:])
    return day.month == int(part)


# --- budget --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    programme: Programme | None = None
    period: str = ""
    total_idr: int = 0


@dataclass(frozen=True)
class SetBudget:
    programme: Programme
    period: str
    amount_idr: int
    benefit_idr: int
    package: tuple[PackageItem, ...] = ()


@dataclass(frozen=True)
class TopUp:
    amount_idr: int


def decide_budget(state: Budget, command: SetBudget | TopUp) -> list[EventPayload]:
    match command:
        case SetBudget():
            if state.programme is not None:
                raise Conflict(
                    "budget_exists",
                    f"{command.programme} {command.period} already has a budget; top it up",
                )
            if command.programme == "SEMBAKO" and not command.package:
                raise DomainError(
                    "package_required", "a sembako budget names its package", field="package"
                )
            if command.programme == "BLT" and command.package:
                raise DomainError("package_not_cash", "BLT is cash: no package", field="package")
            if command.benefit_idr > command.amount_idr:
                raise DomainError(
                    "benefit_exceeds_budget",
                    "the benefit per household exceeds the whole budget",
                    field="benefit_idr",
                )
            return [
                ProgrammeBudgeted(
                    programme=command.programme,
                    period=command.period,
                    amount_idr=command.amount_idr,
                    benefit_idr=command.benefit_idr,
                    package=command.package,
                )
            ]
        case TopUp():
            if state.programme is None:
                raise DomainError("budget_not_found", "there is no budget to top up")
            return [
                ProgrammeBudgeted(
                    programme=state.programme,
                    period=state.period,
                    amount_idr=command.amount_idr,
                    kind="top_up",
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve_budget(state: Budget, event: EventPayload) -> Budget:
    if isinstance(event, ProgrammeBudgeted):
        return replace(
            state,
            programme=event.programme,
            period=event.period,
            total_idr=state.total_idr + event.amount_idr,
        )
    return state


budgets: Decider[Budget, SetBudget | TopUp] = Decider(
    "budget", Budget(), decide_budget, evolve_budget
)


# --- officer -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Officer:
    certificates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Certify:
    officer_sub: str
    certificate_number: str
    certified_on: date
    expires_on: date
    today: date


def decide_officer(state: Officer, command: Certify) -> list[EventPayload]:
    if command.certified_on > command.today:
        raise DomainError(
            "certified_on_future", "a certificate cannot be dated ahead", field="certified_on"
        )
    if command.expires_on <= command.certified_on:
        raise DomainError(
            "expiry_before_certification",
            "expires_on must come after certified_on",
            field="expires_on",
        )
    if command.certificate_number in state.certificates:
        raise Conflict(
            "certificate_recorded",
            f"certificate {command.certificate_number} is already recorded for this officer",
            field="certificate_number",
        )
    return [
        OfficerCertified(
            officer_sub=command.officer_sub,
            certificate_number=command.certificate_number,
            certified_on=command.certified_on,
            expires_on=command.expires_on,
        )
    ]


def evolve_officer(state: Officer, event: EventPayload) -> Officer:
    if isinstance(event, OfficerCertified):
        return replace(state, certificates=(*state.certificates, event.certificate_number))
    return state


officers: Decider[Officer, Certify] = Decider("officer", Officer(), decide_officer, evolve_officer)


# --- round ---------------------------------------------------------------------------------
RoundStatus = Literal["new", "scheduled", "endorsed", "closed"]


@dataclass(frozen=True)
class Round:
    status: RoundStatus = "new"
    programme: Programme | None = None


@dataclass(frozen=True)
class Schedule:
    programme: Programme
    period: str
    budget_exists: bool
    poskos: tuple[Posko, ...]
    today: date


@dataclass(frozen=True)
class Endorse:
    meeting_id: UUID | None = None
    note_commitment: str | None = None  # salted; the note stays in the service's store


@dataclass(frozen=True)
class Close:
    allocated: int
    received: int
    undelivered: int
    amount_allocated_idr: int
    amount_received_idr: int


RoundCommand = Schedule | Endorse | Close


def decide_round(state: Round, command: RoundCommand) -> list[EventPayload]:
    match command:
        case Schedule():
            if state.status != "new":
                raise Conflict("round_exists", "this round is already scheduled")
            if not command.budget_exists:
                raise DomainError(
                    "budget_not_found",
                    f"{command.programme} {command.period} has no budget yet",
                    field="period",
                )
            if not command.poskos:
                raise DomainError(
                    "poskos_required", "a round covers at least one RW", field="poskos"
                )
            rws = [p.rw for p in command.poskos]
            if len(set(rws)) != len(rws):
                raise DomainError("rw_repeated", "one posko per RW", field="poskos")
            if any(p.on < command.today for p in command.poskos):
                raise DomainError("posko_date_past", "a posko date is in the past", field="poskos")
            outside = [p for p in command.poskos if not period_contains(command.period, p.on)]
            if outside:
                raise DomainError(
                    "posko_outside_period",
                    f"the posko of RW {outside[0].rw} on {outside[0].on} is outside the "
                    f"round's period {command.period}",
                    field="poskos",
                )
            return [
                RoundScheduled(
                    programme=command.programme,
                    period=command.period,
                    budget_id=budget_id(command.programme, command.period),
                    poskos=command.poskos,
                )
            ]
        case Endorse():
            _require_open(state)
            if state.status == "endorsed":
                raise Conflict("round_endorsed", "the round is already endorsed")
            return [
                RoundEndorsed(
                    meeting_id=command.meeting_id, note_commitment=command.note_commitment
                )
            ]
        case Close():
            _require_open(state)
            return [
                RoundClosed(
                    allocated=command.allocated,
                    received=command.received,
                    undelivered=command.undelivered,
                    amount_allocated_idr=command.amount_allocated_idr,
                    amount_received_idr=command.amount_received_idr,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _require_open(state: Round) -> None:
    if state.status == "new":
        raise DomainError("round_not_found", "there is no such round")
    if state.status == "closed":
        raise Conflict("round_closed", "the round is closed")


def evolve_round(state: Round, event: EventPayload) -> Round:
    match event:
        case RoundScheduled():
            return replace(state, status="scheduled", programme=event.programme)
        case RoundEndorsed():
            return replace(state, status="endorsed")
        case RoundClosed():
            return replace(state, status="closed")
    return state


rounds: Decider[Round, RoundCommand] = Decider("round", Round(), decide_round, evolve_round)


# --- allocation ----------------------------------------------------------------------------
AllocationStatus = Literal["new", "allocated", "received", "undelivered"]


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
class Allocate:
    round: RoundFacts
    household: EligibleHousehold | None  # None: the registry never announced it


@dataclass(frozen=True)
class OfficerFacts:
    officer_id: UUID
    certified_until: date | None  # None: not certified on the hand-over date


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


AllocationCommand = Allocate | ConfirmReceipt | ReportUndelivered


def decide_allocation(state: Allocation, command: AllocationCommand) -> list[EventPayload]:
    match command:
        case Allocate(round=r, household=h):
            if state.allocated is not None and state.allocated.round_id != r.round_id:
                raise Conflict(
                    "already_allocated_in_period",
                    f"the household already has {r.programme} for {r.period} "
                    f"(round {state.allocated.round_id}): one per household and period",
                    field="household_id",
                )
            if state.status != "new":
                raise Conflict(
                    "already_allocated", "the household is already allocated in this round"
                )
            if r.status == "closed":
                raise Conflict("round_closed", "the round is closed")
            if h is None:
                raise DomainError(
                    "household_unknown",
                    "the registry has not announced this household",
                    field="household_id",
                )
            if not h.active:
                raise DomainError(
                    "household_inactive", "the household is deactivated", field="household_id"
                )
            if not h.eligible or h.decided_by_event_id is None:
                raise DomainError(
                    "household_not_eligible",
                    "the household is not eligible (no eligibility decision in its favour)",
                    field="household_id",
                )
            if h.rw not in r.rws:
                raise DomainError(
                    "household_outside_round",
                    f"RW {h.rw} is not covered by this round ({', '.join(r.rws)})",
                    field="household_id",
                )
            return [
                AidAllocated(
                    round_id=r.round_id,
                    household_id=h.household_id,
                    programme=r.programme,
                    amount_idr=r.benefit_idr,
                    package=r.package,
                    rt=h.rt,
                    rw=h.rw,
                    based_on_event_id=h.decided_by_event_id,
                )
            ]
        case ConfirmReceipt():
            facts = _require_deliverable(state, command.round_status, command.officer)
            if command.recipient_commitment not in command.member_commitments:
                raise DomainError(
                    "recipient_not_member",
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


def _require_deliverable(
    state: Allocation, round_status: RoundStatus, officer: OfficerFacts
) -> Allocated:
    """What was allocated, if a hand-over outcome may be recorded on it now."""
    if state.allocated is None:
        raise DomainError("allocation_not_found", "there is no such allocation")
    if state.status == "received":
        raise Conflict("already_received", "the aid was already handed over")
    if state.status == "undelivered" and state.undelivered_reason not in RETRYABLE:
        raise Conflict(
            "already_undelivered",
            f"the aid was reported undelivered ({state.undelivered_reason}); that is final",
        )
    if round_status == "closed":
        raise Conflict("round_closed", "the round is closed")
    if round_status != "endorsed":
        raise Conflict(
            "round_not_endorsed",
            "the community has not endorsed this round yet; no hand-over before that",
        )
    if officer.certified_until is None:
        raise Forbidden(
            "officer_not_certified", "you hold no distribution certificate valid on that date"
        )
    return state.allocated


def evolve_allocation(state: Allocation, event: EventPayload) -> Allocation:
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


allocations: Decider[Allocation, AllocationCommand] = Decider(
    "allocation", Allocation(), decide_allocation, evolve_allocation
)
