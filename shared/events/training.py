"""Training events: skills courses from opening to completion."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload

Category = Literal["handicraft", "digital_skills", "micro_business"]


class Session(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: UUID
    on: date
    place: str = Field(min_length=1, max_length=120)


class _Course(EventPayload):
    aggregate_type = "course"


class CourseOpened(_Course):
    event_type = "training.course_opened"

    category: Category
    title: str = Field(min_length=1, max_length=160)
    trainer: str = Field(min_length=1, max_length=120)
    sessions: tuple[Session, ...]
    capacity: int = Field(gt=0)
    completion_threshold_pct: int = Field(default=75, ge=1, le=100)


class TraineeEnrolled(_Course):
    event_type = "training.trainee_enrolled"

    enrolment_id: UUID
    household_id: UUID
    member_commitment: str = Field(description="hex HMAC-SHA256(programme key, NIK)")
    rw: str = Field(pattern=r"^\d{2}$")
    waitlisted: bool = False
    priority: bool = Field(default=False, description="the household is decided eligible")


class WaitlistPromoted(_Course):
    """A seat freed up: the first on the waiting list (eligible households first) takes it."""

    event_type = "training.waitlist_promoted"

    enrolment_id: UUID


class TraineeWithdrawn(_Course):
    event_type = "training.trainee_withdrawn"

    enrolment_id: UUID
    reason: Literal["work", "health", "moved", "family", "no_show", "other"]
    note: str = Field(default="", max_length=500)


class AttendanceRecorded(_Course):
    event_type = "training.attendance_recorded"

    session_id: UUID
    enrolment_id: UUID
    member_commitment: str
    present: bool


class TrainingCompleted(_Course):
    event_type = "training.training_completed"

    enrolment_id: UUID
    member_commitment: str
    certificate_number: str
    attendance_pct: int = Field(ge=0, le=100)


class OutcomeRecorded(_Course):
    """A follow-up some months after the course, for evaluation."""

    event_type = "training.outcome_recorded"

    enrolment_id: UUID
    months_after: int = Field(ge=1, le=36)
    monthly_income_idr: int = Field(ge=0)
    business_status: Literal["none", "planning", "started", "running", "closed"]
    employed: bool = False
    note: str = Field(default="", max_length=500)
