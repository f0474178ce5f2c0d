"""What distribution's API takes and answers: request bodies, and a response model for
every route (so /docs shows the real replies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.distribution import PackageItem, Posko, Programme, UndeliveredReason

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"
NIK = r"^\d{16}$"
RoundStatus = Literal["scheduled", "endorsed", "closed"]
AllocationStatus = Literal["allocated", "received", "undelivered"]


# --- requests ------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BudgetIn(_Body):
    programme: Programme
    period: str = Field(pattern=PERIOD, examples=["2026-12", "2026-Q4"])
    amount_idr: int = Field(gt=0, le=10**13)
    benefit_idr: int = Field(gt=0, le=10**9, description="per household per round")
    package: list[PackageItem] = Field(default=[], max_length=30)


class TopUpIn(_Body):
    amount_idr: int = Field(gt=0, le=10**13)


class CertificateIn(_Body):
    certificate_number: str = Field(min_length=1, max_length=60)
    certified_on: date
    expires_on: date


class RoundIn(_Body):
    programme: Programme
    period: str = Field(pattern=PERIOD)
    poskos: list[Posko] = Field(min_length=1, max_length=30)


class EndorsementIn(_Body):
    meeting_id: UUID | None = Field(default=None, description="the community meeting, if any")
    note: str = Field(default="", max_length=500)


class AllocationIn(_Body):
    household_id: UUID


class ReceiptIn(_Body):
    recipient_nik: str = Field(pattern=NIK, description="typed from the recipient's KTP")
    received_at: datetime | None = Field(default=None, description="default: now")
    place: str = Field(min_length=1, max_length=120)
    evidence_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the photo or signature"
    )
    gps: (
        tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]
        | None
    ) = None


class UndeliveredIn(_Body):
    reason: UndeliveredReason
    note: str = Field(default="", max_length=500)


class LookupIn(_Body):
    nik: str = Field(pattern=NIK, description="typed from the person's KTP")


# --- replies -------------------------------------------------------------------------------
class BudgetOut(BaseModel):
    budget_id: UUID
    programme: Programme
    period: str
    total_idr: int
    allocated_idr: int
    remaining_idr: int
    benefit_idr: int = Field(description="per household per round")
    package: list[PackageItem]


class CertificateOut(BaseModel):
    officer_sub: str
    officer_id: UUID
    certificate_number: str
    certified_on: date
    expires_on: date


class CertificateStatus(CertificateOut):
    valid_today: bool


class RoundOut(BaseModel):
    round_id: UUID
    programme: Programme
    period: str
    budget_id: UUID
    status: RoundStatus
    poskos: list[Posko]
    allocated: int
    received: int
    undelivered: int
    amount_allocated_idr: int
    amount_received_idr: int
    endorsed_by: str | None
    version: int
    scheduled_at: datetime
    endorsement_note: str | None = Field(description="the community's note, for staff")


class RwTotals(BaseModel):
    rw: str
    allocated: int
    received: int
    undelivered: int
    pending: int
    amount_allocated_idr: int
    amount_received_idr: int


class RoundSummaryOut(BaseModel):
    round_id: UUID
    programme: Programme
    period: str
    status: RoundStatus
    allocated: int
    received: int
    undelivered: int
    amount_allocated_idr: int
    amount_received_idr: int
    pending: int
    per_rw: list[RwTotals]


class AllocationOut(BaseModel):
    allocation_id: UUID
    round_id: UUID
    household_id: UUID
    programme: Programme
    rt: str
    rw: str
    amount_idr: int
    package: list[PackageItem]
    status: AllocationStatus
    based_on_event_id: UUID = Field(description="the registry's eligibility decision")
    officer_id: UUID | None
    received_at: datetime | None
    undelivered_reason: UndeliveredReason | None
    version: int
    undelivered_note: str | None = Field(description="the latest report's note, for staff")


class ReceiptOut(AllocationOut):
    receipt_code: str = Field(
        description="for the recipient, to find their hand-over in the public ledger; "
        "shown once, stored nowhere"
    )


class BulkOut(BaseModel):
    round_id: UUID
    allocated: int
    amount_idr: int


class ManifestItem(BaseModel):
    """What officers hand over; it names no one."""

    allocation_id: UUID
    household_id: UUID
    rt: str
    rw: str
    programme: Programme
    amount_idr: int
    package: list[PackageItem]
    status: AllocationStatus
    undelivered_reason: UndeliveredReason | None
    version: int


class LookupOut(BaseModel):
    items: list[ManifestItem]
