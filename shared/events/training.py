"""Training events: skills courses from opening to completion.

Schema version 2 dropped the trainer's name and the staff's free-text notes (they stay
in the training service; notes travel as salted commitments). Version 1 classes stay
registered, read only. A trainee's events show the public only their course: never who,
from which RW, why they withdrew or how they fared."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload

Category = Literal["handicraft", "digital_skills", "micro_business"]


class Session(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: UUID
    on: date
    place: str = Field(min_length=1, max_length=120)


TextCommitment = Field(
    default=None, pattern=r"^[0-9a-f]{64}$", description="salted HMAC of the staff's note"
)


class _Course(EventPayload):
    aggregate_type = "course"


def _course_only(course_id: UUID) -> dict[str, Any]:
    """A trainee's event shows its course only: not who, from which RW, or how it went."""
    return {"course_id": course_id}


class CourseOpened(_Course):
    event_type = "training.course_opened"
    schema_version = 2

    category: Category
    title: str = Field(min_length=1, max_length=160)
    sessions: tuple[Session, ...]
    capacity: int = Field(gt=0, le=10_000)
    completion_threshold_pct: int = Field(default=75, ge=1, le=100)

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {
            "course_id": aggregate_id,
            "category": self.category,
            "capacity": self.capacity,
            "session_days": [s.on for s in self.sessions],
            "completion_threshold_pct": self.completion_threshold_pct,
        }


class TraineeEnrolled(_Course):
    event_type = "training.trainee_enrolled"

    enrolment_id: UUID
    household_id: UUID
    member_commitment: str = Field(description="hex HMAC-SHA256(programme key, NIK)")
    rw: str = Field(pattern=r"^\d{2}$")
    waitlisted: bool = False
    priority: bool = Field(default=False, description="the household is decided eligible")

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _course_only(aggregate_id)


class WaitlistPromoted(_Course):
    """A seat freed up: the first on the waiting list (eligible households first) takes it."""

    event_type = "training.waitlist_promoted"

    enrolment_id: UUID

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _course_only(aggregate_id)


class TraineeWithdrawn(_Course):
    event_type = "training.trainee_withdrawn"
    schema_version = 2

    enrolment_id: UUID
    reason: Literal["work", "health", "moved", "family", "no_show", "other"]
    note_commitment: str | None = TextCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _course_only(aggregate_id)


class AttendanceRecorded(_Course):
    event_type = "training.attendance_recorded"

    session_id: UUID
    enrolment_id: UUID
    member_commitment: str
    present: bool

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _course_only(aggregate_id)


class TrainingCompleted(_Course):
    event_type = "training.training_completed"

    enrolment_id: UUID
    member_commitment: str
    certificate_number: str
    attendance_pct: int = Field(ge=0, le=100)

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _course_only(aggregate_id)


class OutcomeRecorded(_Course):
    """A follow-up some months after the course, for evaluation."""

    event_type = "training.outcome_recorded"
    schema_version = 2

    enrolment_id: UUID
    months_after: int = Field(ge=1, le=36)
    monthly_income_idr: int = Field(ge=0, le=1_000_000_000)
    business_status: Literal["none", "planning", "started", "running", "closed"]
    employed: bool = False
    note_commitment: str | None = TextCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return _course_only(aggregate_id)


# --- version 1, read only ------------------------------------------------------------------
class CourseOpenedV1(CourseOpened):
    schema_version = 1

    trainer: str = Field(min_length=1, max_length=120)


class TraineeWithdrawnV1(TraineeWithdrawn):
    schema_version = 1

    note: str = Field(default="", max_length=500)


class OutcomeRecordedV1(OutcomeRecorded):
    schema_version = 1

    note: str = Field(default="", max_length=500)
