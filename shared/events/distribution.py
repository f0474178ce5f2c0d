"""Distribution events: budgets, officers, rounds, allocations and hand-overs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.envelope import EventPayload

Programme = Literal["BLT", "SEMBAKO"]
UndeliveredReason = Literal["not_at_home", "moved", "deceased", "refused"]


class PackageItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    quantity: int = Field(gt=0)
    unit: str = Field(min_length=1, max_length=20)


class ProgrammeBudgeted(EventPayload):
    event_type = "distribution.programme_budgeted"
    aggregate_type = "budget"

    programme: Programme
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")
    amount_idr: int = Field(gt=0)
    kind: Literal["initial", "top_up"] = "initial"
    benefit_idr: int | None = Field(
        default=None, gt=0, description="cash per household per round, or package value"
    )
    package: tuple[PackageItem, ...] = ()

    @model_validator(mode="after")
    def _benefit_on_initial_only(self) -> Self:
        if self.kind == "initial" and self.benefit_idr is None:
            raise ValueError("an initial budget sets benefit_idr")
        if self.kind == "top_up" and (self.benefit_idr is not None or self.package):
            raise ValueError("a top-up adds an amount only")
        return self


class OfficerCertified(EventPayload):
    event_type = "distribution.officer_certified"
    aggregate_type = "officer"

    officer_sub: str = Field(min_length=1, description="token subject of the officer")
    certificate_number: str = Field(min_length=1, max_length=60)
    certified_on: date
    expires_on: date


class Posko(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rw: str = Field(pattern=r"^\d{2}$")
    place: str = Field(min_length=1, max_length=120)
    on: date


class RoundScheduled(EventPayload):
    event_type = "distribution.round_scheduled"
    aggregate_type = "round"

    programme: Programme
    period: str
    budget_id: UUID
    poskos: tuple[Posko, ...]


class RoundEndorsed(EventPayload):
    event_type = "distribution.round_endorsed"
    aggregate_type = "round"

    meeting_id: UUID | None = None
    note: str = ""


class AidAllocated(EventPayload):
    event_type = "distribution.aid_allocated"
    aggregate_type = "allocation"

    round_id: UUID
    household_id: UUID
    programme: Programme
    amount_idr: int = Field(gt=0)
    package: tuple[PackageItem, ...] = ()
    rt: str
    rw: str
    head_nik_masked: str
    based_on_event_id: UUID = Field(description="the registry event the eligibility rested on")


class AidReceived(EventPayload):
    event_type = "distribution.aid_received"
    aggregate_type = "allocation"

    officer_id: UUID
    recipient_commitment: str
    received_at: datetime
    place: str
    evidence_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    gps: tuple[float, float] | None = None


class AidUndelivered(EventPayload):
    event_type = "distribution.aid_undelivered"
    aggregate_type = "allocation"

    officer_id: UUID
    reason: UndeliveredReason
    note: str = ""


class RoundClosed(EventPayload):
    event_type = "distribution.round_closed"
    aggregate_type = "round"

    allocated: int = Field(ge=0)
    received: int = Field(ge=0)
    undelivered: int = Field(ge=0)
    amount_allocated_idr: int = Field(ge=0)
    amount_received_idr: int = Field(ge=0)
