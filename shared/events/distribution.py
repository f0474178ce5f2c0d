"""Distribution events: budgets, officers, rounds, allocations and hand-overs.

Schema version 2 dropped the head's masked NIK and the staff's free-text notes (salted
commitments instead), and gave hand-over outcomes the round, programme, RW and amount
that their public views show. Version 1 classes stay registered, read only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.envelope import EventPayload
from shared.events.public import suppressed

Programme = Literal["BLT", "SEMBAKO"]
UndeliveredReason = Literal["not_at_home", "moved", "deceased", "refused"]


# Rupiah amounts stay well inside JSON's exact integers (2**53): a quadrillion rupiah.
MAX_IDR = 10**15
Period = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$", description="YYYY-MM or YYYY-Qn")
TextCommitment = Field(
    default=None, pattern=r"^[0-9a-f]{64}$", description="salted HMAC of the staff's note"
)


class PackageItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    quantity: int = Field(gt=0, le=1_000_000)
    unit: str = Field(min_length=1, max_length=20)


class ProgrammeBudgeted(EventPayload):
    event_type = "distribution.programme_budgeted"
    aggregate_type = "budget"

    programme: Programme
    period: str = Period
    amount_idr: int = Field(gt=0, le=MAX_IDR)
    kind: Literal["initial", "top_up"] = "initial"
    benefit_idr: int | None = Field(
        default=None, gt=0, le=MAX_IDR, description="cash per household per round, or package value"
    )
    package: tuple[PackageItem, ...] = ()

    @model_validator(mode="after")
    def _benefit_on_initial_only(self) -> Self:
        if self.kind == "initial" and self.benefit_idr is None:
            raise ValueError("an initial budget sets benefit_idr")
        if self.kind == "top_up" and (self.benefit_idr is not None or self.package):
            raise ValueError("a top-up adds an amount only")
        return self

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {
            "budget_id": aggregate_id,
            "programme": self.programme,
            "period": self.period,
            "amount_idr": self.amount_idr,
            "kind": self.kind,
            "benefit_idr": self.benefit_idr,
            "package": self.package,
        }


class OfficerCertified(EventPayload):
    event_type = "distribution.officer_certified"
    aggregate_type = "officer"

    officer_sub: str = Field(min_length=1, description="token subject of the officer")
    certificate_number: str = Field(min_length=1, max_length=60)
    certified_on: date
    expires_on: date

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # That an officer was certified, and until when; never who.
        return {"expires_on": self.expires_on}


class Posko(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rw: str = Field(pattern=r"^\d{2}$")
    place: str = Field(min_length=1, max_length=120)
    on: date


class RoundScheduled(EventPayload):
    event_type = "distribution.round_scheduled"
    aggregate_type = "round"

    programme: Programme
    period: str = Period
    budget_id: UUID
    poskos: tuple[Posko, ...]

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # The posko schedule is announced to residents (sosialisasi): public by design.
        return {
            "round_id": aggregate_id,
            "programme": self.programme,
            "period": self.period,
            "budget_id": self.budget_id,
            "poskos": self.poskos,
        }


class RoundEndorsed(EventPayload):
    event_type = "distribution.round_endorsed"
    aggregate_type = "round"
    schema_version = 2

    meeting_id: UUID | None = None
    note_commitment: str | None = TextCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"round_id": aggregate_id, "meeting_id": self.meeting_id}


class AidAllocated(EventPayload):
    event_type = "distribution.aid_allocated"
    aggregate_type = "allocation"
    schema_version = 2

    round_id: UUID
    household_id: UUID
    programme: Programme
    amount_idr: int = Field(gt=0, le=MAX_IDR)
    package: tuple[PackageItem, ...] = ()
    rt: str = Field(pattern=r"^\d{3}$")
    rw: str = Field(pattern=r"^\d{2}$")
    based_on_event_id: UUID = Field(description="the registry event the eligibility rested on")

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _handed(self.round_id, self.programme, self.rw, self.amount_idr)


def _handed(round_id: UUID, programme: str, rw: str, amount_idr: int) -> dict[str, Any]:
    """What the public sees of one household's aid: which round, programme, RW and amount,
    never which household (no household or allocation id links its events)."""
    return {"round_id": round_id, "programme": programme, "rw": rw, "amount_idr": amount_idr}


class _Outcome(EventPayload):
    """Facts of the allocation that a hand-over's outcome repeats for its public view."""

    aggregate_type = "allocation"

    round_id: UUID
    programme: Programme
    rw: str = Field(pattern=r"^\d{2}$")
    amount_idr: int = Field(gt=0, le=MAX_IDR)


class AidReceived(_Outcome):
    event_type = "distribution.aid_received"
    schema_version = 2

    officer_id: UUID
    recipient_commitment: str
    receipt_commitment: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="HMAC(receipt key, the recipient's receipt code)"
    )
    received_at: datetime
    place: str
    evidence_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    gps: tuple[float, float] | None = None

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _handed(self.round_id, self.programme, self.rw, self.amount_idr)


class AidUndelivered(_Outcome):
    event_type = "distribution.aid_undelivered"
    schema_version = 2

    officer_id: UUID
    reason: UndeliveredReason
    note_commitment: str | None = TextCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # Neither the RW nor the reason: "deceased" in one RW on one day names a neighbour.
        return {"round_id": self.round_id, "programme": self.programme}


class RoundClosed(EventPayload):
    event_type = "distribution.round_closed"
    aggregate_type = "round"

    allocated: int = Field(ge=0)
    received: int = Field(ge=0)
    undelivered: int = Field(ge=0)
    amount_allocated_idr: int = Field(ge=0, le=MAX_IDR)
    amount_received_idr: int = Field(ge=0, le=MAX_IDR)

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # Totals stay exact from five households up; below, an amount would give the count.
        def amount(count: int, idr: int) -> int | str:
            return idr if count >= 5 else suppressed(count)

        return {
            "round_id": aggregate_id,
            "allocated": suppressed(self.allocated),
            "received": suppressed(self.received),
            "undelivered": suppressed(self.undelivered),
            "amount_allocated_idr": amount(self.allocated, self.amount_allocated_idr),
            "amount_received_idr": amount(self.received, self.amount_received_idr),
        }


# --- version 1, read only ------------------------------------------------------------------
class RoundEndorsedV1(RoundEndorsed):
    schema_version = 1

    note: str = ""


class AidAllocatedV1(AidAllocated):
    schema_version = 1

    head_nik_masked: str


class AidReceivedV1(EventPayload):
    """A hand-over as version 1 recorded it: without the allocation's facts."""

    event_type = "distribution.aid_received"
    aggregate_type = "allocation"

    officer_id: UUID
    recipient_commitment: str
    received_at: datetime
    place: str
    evidence_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    gps: tuple[float, float] | None = None

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {}


class AidUndeliveredV1(EventPayload):
    event_type = "distribution.aid_undelivered"
    aggregate_type = "allocation"

    officer_id: UUID
    reason: UndeliveredReason
    note: str = ""

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {}
