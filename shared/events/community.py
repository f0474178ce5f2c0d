"""Community events. A reporter's contact is only ever a commitment, never clear text, and
free text written by residents or facilitators (descriptions, notes, comments) stays in the
community service's own store: the events carry keyed commitments of it, so the public
ledger proves what was written and when without publishing a whistle-blower's words."""

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


TextCommitment = Field(
    pattern=r"^[0-9a-f]{64}$", description="hex HMAC-SHA256(programme key, the text)"
)
ComplaintOutcome = Literal["upheld", "partly_upheld", "not_upheld", "referred"]


class ComplaintFiled(_Complaint):
    event_type = "community.complaint_filed"

    ticket_code: str
    category: ComplaintCategory
    description_commitment: str = TextCommitment
    rw: str = Field(pattern=r"^\d{2}$")
    anonymous: bool
    contact_commitment: str | None = None
    references: ComplaintReferences = ComplaintReferences()


class ComplaintAcknowledged(_Complaint):
    event_type = "community.complaint_acknowledged"

    note_commitment: str | None = None


class ComplaintEscalated(_Complaint):
    event_type = "community.complaint_escalated"

    to: Literal["programme_manager", "inspectorate"]
    reason_commitment: str = TextCommitment


class ComplaintResolved(_Complaint):
    event_type = "community.complaint_resolved"

    outcome: ComplaintOutcome
    resolution_commitment: str = TextCommitment


class FeedbackSubmitted(EventPayload):
    event_type = "community.feedback_submitted"
    aggregate_type = "feedback"

    subject_type: Literal["round", "course"]
    subject_id: UUID
    rating: int = Field(ge=1, le=5)
    comment_commitment: str | None = None
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
    """Topics, aspirations and follow-ups are the community's, recorded to be public."""

    event_type = "community.meeting_held"
    aggregate_type = "meeting"

    kind: Literal["outreach", "focus_group"]
    held_on: date
    rw: str = Field(pattern=r"^\d{2}$")
    attendance: Attendance
    topics: tuple[str, ...] = ()
    aspirations: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()


class FollowUpUpdated(EventPayload):
    event_type = "community.follow_up_updated"
    aggregate_type = "meeting"

    index: int = Field(ge=0, description="position in the meeting's follow_ups")
    status: Literal["open", "in_progress", "done"]
