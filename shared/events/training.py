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

    household_id: UUID
    member_commitment: str
    rw: str
    waitlisted: bool = False
    priority: bool = False


class AttendanceRecorded(_Course):
    event_type = "training.attendance_recorded"

    session_id: UUID
    member_commitment: str
    present: bool


class TrainingCompleted(_Course):
    event_type = "training.training_completed"

    member_commitment: str
    certificate_number: str
    attendance_pct: int = Field(ge=0, le=100)
