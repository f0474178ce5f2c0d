"""What the verification routes take and answer (issue 15)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.community.api.schemas import Ratings
from shared.events.community_verification import Discrepancy, PayBand


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class SampleIn(_Body):
    checkpoint: str = Field(
        min_length=10,
        max_length=20_000,
        description="the ledger's signed checkpoint note with its witnesses' cosignatures, as "
        "GET /ledger/checkpoint?cosigned=K on the audit service serves it (signed after the "
        "round closed)",
    )


class SampleOut(BaseModel):
    """The sample, for facilitators who visit the recipients (its allocation ids are
    never public)."""

    round_id: UUID
    origin: str
    tree_size: int
    root_hash: str = Field(description="base64, as in the checkpoint note")
    population: int = Field(description="the round's received hand-overs")
    k: int
    allocation_ids: list[UUID] = Field(description="in draw order")
    drawn_at: datetime
    drawn_by: str


class VerificationIn(_Body):
    received: bool
    full: bool | None = Field(
        default=None, description="the full amount or package; leave out if not received"
    )
    asked_to_pay: bool
    pay_band: PayBand | None = Field(default=None, description="only when asked_to_pay")
    respectful: bool
    note: str = Field(default="", max_length=2000, description="private to the service")


class VerificationOut(BaseModel):
    allocation_id: UUID
    round_id: UUID
    rw: str
    received: bool
    full: bool | None
    asked_to_pay: bool
    pay_band: PayBand | None
    respectful: bool
    discrepancies: list[Discrepancy]
    complaint_id: UUID | None = Field(description="the complaint a discrepancy filed")


class RwVerification(BaseModel):
    rw: str
    sampled: Ratings
    verified: Ratings
    with_discrepancy: Ratings
    verification_rate: float | None = Field(description="verified / sampled; none under 5")
    discrepancy_rate: float | None = Field(description="of the verified; none under 5")


class RoundVerification(BaseModel):
    """Public monitoring of one round's verification: counts under five are "<5", rates
    only from five up (small cells)."""

    round_id: UUID
    sample_size: int
    tree_size: int
    root_hash: str
    verified: Ratings
    discrepancies: dict[Discrepancy, Ratings] = Field(description="by kind")
    per_rw: list[RwVerification]
