"""Community events. A reporter's contact is only ever a commitment, never clear text."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload

ComplaintCategory = Literal[
    "exclusion_error", "inclusion_error", "distribution", "officer_conduct", "training", "other"
]


class ComplaintReferences(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    household_id: UUID | None = None
    round_id: UUID | None = None
    allocation_id: UUID | None = None
    course_id: UUID | None = None


class _Complaint(EventPayload):
    aggregate_type = "complaint"


class ComplaintFiled(_Complaint):
    event_type = "community.complaint_filed"

    ticket_code: str
    category: ComplaintCategory
    description: str = Field(min_length=1, max_length=4000)
    rw: str = Field(pattern=r"^\d{2}$")
    anonymous: bool
    contact_commitment: str | None = None
    references: ComplaintReferences = ComplaintReferences()


class ComplaintAcknowledged(_Complaint):
    event_type = "community.complaint_acknowledged"

    note: str = ""


class ComplaintEscalated(_Complaint):
    event_type = "community.complaint_escalated"

    to: Literal["programme_manager", "inspectorate"]
    reason: str = Field(min_length=1, max_length=2000)


class ComplaintResolved(_Complaint):
    event_type = "community.complaint_resolved"

    resolution: str = Field(min_length=1, max_length=4000)


class FeedbackSubmitted(EventPayload):
    event_type = "community.feedback_submitted"
    aggregate_type = "feedback"

    subject_type: Literal["round", "course"]
    subject_id: UUID
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)
    rw: str | None = Field(default=None, pattern=r"^\d{2}$")
    anonymous: bool = True


class Attendance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    female: int = Field(ge=0)
    male: int = Field(ge=0)
    elderly: int = Field(default=0, ge=0)
    disabled: int = Field(default=0, ge=0)
    youth: int = Field(default=0, ge=0)


class FollowUp(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field(min_length=1, max_length=400)
    status: Literal["open", "in_progress", "done"] = "open"


class MeetingHeld(EventPayload):
    event_type = "community.meeting_held"
    aggregate_type = "meeting"

    kind: Literal["outreach", "focus_group"]
    held_on: date
    rw: str = Field(pattern=r"^\d{2}$")
    attendance: Attendance
    topics: tuple[str, ...] = ()
    aspirations: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
