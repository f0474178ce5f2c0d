"""What the appeals API takes and answers. The public sees days, never finer times, and
never which household: no NIK, KK, household or appeal id in a public reply."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.community.domain.appeal import AppealSla, AppealSlaState
from shared.clock import day_of
from shared.events.community_appeals import AppealOutcome, AppealReason
from shared.pii import code_pattern

APPEAL_CODE = code_pattern("BD")  # BD-XXXX-XXXX (banding): a bearer secret like a ticket
Status = Literal["acknowledged", "resurvey_scheduled", "decided", "unmatched"]


class AppealIn(BaseModel):
    """A household's appeal: the head's NIK or the KK number names it (either is enough);
    both are committed to at once and never stored here in clear."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    head_nik: str | None = Field(
        default=None, pattern=r"^\d{16}$", description="the head of the household's NIK"
    )
    kk_number: str | None = Field(default=None, pattern=r"^\d{16}$")
    reason: AppealReason
    rw: str = Field(pattern=r"^\d{2}$", examples=["03"])
    description: str = Field(
        default="", max_length=2000, description="kept in this service, never published"
    )


class AppealSlaOut(BaseModel):
    state: AppealSlaState
    decide_by: date = Field(description="the day the registry should have decided by")

    @classmethod
    def of(cls, sla: AppealSla) -> AppealSlaOut:
        return cls(state=sla.state, decide_by=day_of(sla.decide_by))


class AppealFiledOut(BaseModel):
    """The only reply that shows the tracking code: keep it to follow the appeal."""

    tracking_code: str
    status: Literal["acknowledged"] = "acknowledged"
    sla: AppealSlaOut
    track: str = Field(description="where to follow it: /appeals/track/{tracking_code}")


class AppealStepOut(BaseModel):
    step: Status
    on: date
    outcome: AppealOutcome | None = None


class AppealTrackOut(BaseModel):
    """What whoever holds the tracking code sees: never the household or the description."""

    tracking_code: str
    reason: AppealReason
    rw: str
    status: Status
    outcome: AppealOutcome | None
    filed_on: date
    sla: AppealSlaOut
    steps: list[AppealStepOut]


class AppealSummary(BaseModel):
    """One row of the staff's list (`seq` is its paging position): no household, no code."""

    seq: int
    appeal_id: UUID
    reason: AppealReason
    rw: str
    status: Status
    outcome: AppealOutcome | None
    filed_at: datetime
    scheduled_at: datetime | None
    closed_at: datetime | None
    sla: AppealSlaOut


Count = Annotated[int | str, Field(description='the count from 5 up, else "<5"')]


class RwAppeals(BaseModel):
    """Exclusion errors as the appeals show them, per RW; small cells suppressed."""

    rw: str
    filed: Count
    upheld: Count
    rejected: Count
    unmatched: Count
    pending: Count
    past_sla: Count = Field(description="pending past the SLA, or answered late")


class AppealStats(BaseModel):
    per_rw: list[RwAppeals]
    total: RwAppeals = Field(description="every RW together (rw: `all`)")
