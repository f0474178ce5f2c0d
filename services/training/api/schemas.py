"""What training's API takes and answers: request bodies, and a response model for every
route (so /docs shows the real replies). Staff text (trainer, notes) appears only here and
in the private store, never in an event."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.training.domain.state import BusinessStatus, Status, WithdrawalReason
from shared.events.training import Category, Session

NIK_PATTERN = r"^\d{16}$"


# --- requests ------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SessionIn(_Body):
    on: date
    place: str = Field(min_length=1, max_length=120)


class CourseIn(_Body):
    category: Category
    title: str = Field(min_length=1, max_length=160)
    trainer: str = Field(min_length=1, max_length=120)
    sessions: list[SessionIn] = Field(min_length=1, max_length=60)
    capacity: int = Field(ge=1, le=500)
    completion_threshold_pct: int | None = Field(default=None, ge=1, le=100)


class EnrolmentIn(_Body):
    household_id: UUID
    member_nik: str = Field(pattern=NIK_PATTERN, description="from the member's KTP or KK")


class WithdrawalIn(_Body):
    reason: WithdrawalReason
    note: str = Field(default="", max_length=500)


class AttendanceIn(_Body):
    present: list[UUID] = Field(default=[], max_length=500, description="enrolment ids")
    absent: list[UUID] = Field(default=[], max_length=500)


class OutcomeIn(_Body):
    months_after: int = Field(ge=1, le=36, examples=[3])
    monthly_income_idr: int = Field(ge=0, le=1_000_000_000)
    business_status: BusinessStatus
    employed: bool = False
    note: str = Field(default="", max_length=500)


# --- replies -------------------------------------------------------------------------------
class CourseOut(BaseModel):
    """A course with its seat counters and, from training's own store, its trainer."""

    course_id: UUID
    category: Category
    title: str
    sessions: list[Session]
    capacity: int
    completion_threshold_pct: int
    seated: int
    waitlisted: int
    completed: int
    version: int
    opened_at: datetime
    trainer: str | None


class _Enrolment(BaseModel):
    enrolment_id: UUID
    course_id: UUID
    household_id: UUID
    member_commitment: str = Field(description="the member's NIK commitment (NIK key)")
    rw: str
    status: Status
    priority: bool = Field(description="the registry decided the household eligible")
    attended: int = Field(description="sessions attended")
    attendance_pct: int | None
    certificate_number: str | None
    withdrawal_reason: WithdrawalReason | None
    enrolled_at: datetime


class EnrolmentOut(_Enrolment):
    """An enrolment; `waitlist_position` only while waiting, `withdrawal_note` only once
    withdrawn (null when the withdrawal had no note)."""

    waitlist_position: int | None = Field(default=None, description="1: next in line")
    withdrawal_note: str | None = None


class RosterEntry(BaseModel):
    enrolment_id: UUID
    household_id: UUID
    member_commitment: str
    rw: str
    status: Status
    priority: bool
    attended: int
    attendance_pct: int | None
    certificate_number: str | None
    withdrawal_reason: WithdrawalReason | None
    enrolled_at: datetime
    rt: str | None = Field(description="from the registry's households view")


class WaitingEntry(RosterEntry):
    waitlist_position: int = Field(description="1: next in line")


class RosterOut(BaseModel):
    course_id: UUID
    title: str
    capacity: int
    sessions: list[Session]
    trainees: list[RosterEntry] = Field(description="enrolled and completed")
    waiting_list: list[WaitingEntry] = Field(description="eligible households first")
    withdrawn: list[RosterEntry]


class AttendanceOut(BaseModel):
    course_id: UUID
    session_id: UUID
    recorded: int = Field(description="trainees recorded present or absent")


class OutcomeOut(BaseModel):
    enrolment_id: UUID
    months_after: int
    monthly_income_idr: int
    business_status: BusinessStatus
    employed: bool
    note: str


class FollowUpOut(BaseModel):
    months_after: int
    monthly_income_idr: int
    business_status: BusinessStatus
    employed: bool
    recorded_at: datetime
    note: str


class HistoryEntry(_Enrolment):
    """A course in a household's training history; `withdrawal_note` only once withdrawn."""

    title: str
    category: Category
    withdrawal_note: str | None = None
    outcomes: list[FollowUpOut]


class Figures(BaseModel):
    enrolled: int = Field(description="took a seat: enrolled, completed or withdrawn")
    completed: int
    withdrawn: int
    waitlisted: int
    followed_up: int
    in_business: int = Field(description="started or running at the latest follow-up")
    employed: int
    completion_rate: float | None = Field(description="completed of enrolled")
    avg_income_idr: int | None = Field(description="at the latest follow-up")


class OutcomeReport(BaseModel):
    per_category: dict[str, Figures]
    per_rw: dict[str, Figures]
    attendance_records: int
