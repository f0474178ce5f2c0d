"""What the mentoring-case routes take and answer, and the outreach reach per RW: request
bodies with their limits and a reply model for every route."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.community.domain.case import CaseStatus
from shared.events.community import TopicCode
from shared.events.community_cases import (
    CaseOutcome,
    CaseReason,
    CaseSubject,
    Finding,
    IncomeBand,
    Need,
    NextStep,
    Office,
    OfficeAnswer,
    VisitKind,
)

RW = Field(pattern=r"^\d{2}$", examples=["03"])
Note = Field(default="", max_length=2000, description="kept in the community service only")
Count = Annotated[int | str, Field(description='the count from 5 up, else "<5"')]


# --- requests ------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseIn(_Body):
    subject: CaseSubject = "household"
    reason: CaseReason
    household_id: UUID = Field(description="the registry's household id (taken as given)")
    member_id: UUID | None = Field(default=None, description="the trainee, for a trainee")
    course_id: UUID | None = None
    complaint_id: UUID | None = Field(default=None, description="for reason `complaint`")
    rw: str = RW
    opened_on: date | None = Field(
        default=None, description="for a case opened on paper earlier; left out, today"
    )
    note: str = Note


class VisitPlanIn(_Body):
    planned_on: date
    kind: VisitKind = "home"


class VisitIn(_Body):
    visited_on: date
    kind: VisitKind
    plan_index: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="the planned visit this one made; left out, the earliest one due by "
        "`visited_on`, if any",
    )
    findings: list[Finding] = Field(default=[], max_length=20)
    needs: list[Need] = Field(default=[], max_length=20)
    next_steps: list[NextStep] = Field(default=[], max_length=20)
    business_running: bool | None = Field(default=None, description="business follow-up only")
    income_band: IncomeBand | None = Field(default=None, description="business follow-up only")
    note: str = Note


class ReferralIn(_Body):
    office: Office
    reason: str = Note


class AnswerIn(_Body):
    answer: OfficeAnswer
    note: str = Note


class CloseIn(_Body):
    outcome: CaseOutcome
    note: str = Note


# --- replies -------------------------------------------------------------------------------
class CaseSummary(BaseModel):
    """One row of a caseload (`seq` is its paging position)."""

    seq: int
    case_id: UUID
    subject: CaseSubject
    reason: CaseReason
    household_id: UUID
    member_id: UUID | None
    course_id: UUID | None
    complaint_id: UUID | None
    rw: str
    facilitator: str = Field(description="who opened it (the token's subject)")
    status: CaseStatus
    outcome: CaseOutcome | None
    opened_on: date
    closed_on: date | None
    visits_made: int
    last_visit_on: date | None
    version: int


class VisitOut(BaseModel):
    plan_index: int | None = Field(description="None: made without a plan")
    planned_on: date | None
    kind: VisitKind
    visited_on: date | None = Field(description="None: planned, still to make")
    findings: list[Finding]
    needs: list[Need]
    next_steps: list[NextStep]
    business_running: bool | None
    income_band: IncomeBand | None


class ReferralOut(BaseModel):
    index: int
    office: Office
    referred_on: date
    due_on: date
    answer: OfficeAnswer | None
    answered_on: date | None
    overdue: bool = Field(description="unanswered past `due_on` on an open case")


class CaseNoteOut(BaseModel):
    step: str = Field(description="the event that the words go with, e.g. case_visit_recorded")
    day: date
    kind: str
    text: str


class CaseOut(CaseSummary):
    visits: list[VisitOut]
    referrals: list[ReferralOut]
    notes: list[CaseNoteOut] = Field(
        description="what facilitators wrote: for facilitators only (empty for auditors)"
    )


class OverdueVisit(BaseModel):
    case_id: UUID
    household_id: UUID
    rw: str
    facilitator: str
    plan_index: int
    planned_on: date
    kind: VisitKind
    days_late: int


class OverdueReferral(BaseModel):
    case_id: UUID
    household_id: UUID
    rw: str
    facilitator: str
    index: int
    office: Office
    due_on: date
    days_late: int


class OverdueOut(BaseModel):
    today: date
    visits: list[OverdueVisit]
    referrals: list[OverdueReferral]


class CaseRwStats(BaseModel):
    """Counts of one RW; each under five is "<5"."""

    rw: str
    open: Count
    closed: Count
    by_reason: dict[str, Count]
    by_outcome: dict[str, Count]
    referrals_by_office: dict[str, Count]
    referrals_overdue: Count
    visits_overdue: Count
    business_follow_ups: Count
    businesses_running: Count


class CaseStats(BaseModel):
    today: date
    per_rw: list[CaseRwStats]


class RwReach(BaseModel):
    """Residents reached by outreach in one RW (the sum of attendance, so one resident at
    two sessions counts twice), by topic code, beside the complaints filed there."""

    rw: str
    outreach_meetings: int
    reached: Count
    by_topic: dict[str, Count] = Field(description="topic code -> residents reached")
    complaints: Count


class MeetingReach(BaseModel):
    topic_codes: list[TopicCode] = Field(description="the codes a session may cover")
    per_rw: list[RwReach]
