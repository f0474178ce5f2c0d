"""Community events. A reporter's contact is only ever a commitment, never clear text, and
free text written by residents or facilitators (descriptions, notes, comments) stays in the
community service's own store: the events carry commitments salted per record (so two
complaints of one reporter cannot be linked by them), which the sealed ledger proves
without publishing a whistle-blower's words. A ticket code is a bearer secret: only its
commitment leaves the service (schema version 2; version 1 carried it in clear)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload
from shared.events.public import suppressed

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
    pattern=r"^[0-9a-f]{64}$", description="hex HMAC-SHA256(text key, salt || the text)"
)
ComplaintOutcome = Literal["upheld", "partly_upheld", "not_upheld", "referred"]


class ComplaintFiled(_Complaint):
    event_type = "community.complaint_filed"
    schema_version = 2

    ticket_commitment: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="HMAC(ticket key, the ticket code)"
    )
    category: ComplaintCategory
    description_commitment: str = TextCommitment
    rw: str = Field(pattern=r"^\d{2}$")
    anonymous: bool
    contact_commitment: str | None = None
    references: ComplaintReferences = ComplaintReferences()

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"category": self.category, "rw": self.rw}


class ComplaintAcknowledged(_Complaint):
    event_type = "community.complaint_acknowledged"

    note_commitment: str | None = None

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {}


class ComplaintEscalated(_Complaint):
    event_type = "community.complaint_escalated"

    to: Literal["programme_manager", "inspectorate"]
    reason_commitment: str = TextCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"to": self.to}


class ComplaintResolved(_Complaint):
    event_type = "community.complaint_resolved"

    outcome: ComplaintOutcome
    resolution_commitment: str = TextCommitment

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"outcome": self.outcome}


class FeedbackSubmitted(EventPayload):
    event_type = "community.feedback_submitted"
    aggregate_type = "feedback"

    subject_type: Literal["round", "course"]
    subject_id: UUID
    rating: int = Field(ge=1, le=5)
    comment_commitment: str | None = None
    rw: str | None = Field(default=None, pattern=r"^\d{2}$")
    anonymous: bool = True
    # The hand-over the rating names by its receipt code (issue 15): one rating per
    # receipt. Sealed: the public view never shows it.
    receipt_commitment: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "rating": self.rating,
            "rw": self.rw,
        }


class Attendance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    female: int = Field(ge=0, le=100_000)
    male: int = Field(ge=0, le=100_000)
    elderly: int = Field(default=0, ge=0, le=100_000)
    disabled: int = Field(default=0, ge=0, le=100_000)
    youth: int = Field(default=0, ge=0, le=100_000)


class FollowUp(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field(min_length=1, max_length=400)
    status: Literal["open", "in_progress", "done"] = "open"


# What an outreach (sosialisasi) session covered, from a fixed list (schema version 2).
TopicCode = Literal[
    "rights_and_entitlements",
    "how_to_complain",
    "how_to_appeal",
    "posko_schedule",
    "eligibility_rules",
    "training_offers",
    "other",
]


class MeetingHeld(EventPayload):
    """Topics, aspirations and follow-ups are the community's, recorded as written (and
    sealed); `topic_codes` (version 2) say what was covered from a fixed list, shown in the
    public view."""

    event_type = "community.meeting_held"
    schema_version = 2
    aggregate_type = "meeting"

    kind: Literal["outreach", "focus_group"]
    held_on: date
    rw: str = Field(pattern=r"^\d{2}$")
    attendance: Attendance
    topics: tuple[str, ...] = ()
    aspirations: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    topic_codes: tuple[TopicCode, ...] = ()

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # Who came is counted, small groups suppressed; what was said stays sealed, what
        # was covered (codes from a fixed list) is shown.
        return {
            "meeting_id": aggregate_id,
            "kind": self.kind,
            "held_on": self.held_on,
            "rw": self.rw,
            "attendance": {k: suppressed(v) for k, v in self.attendance.model_dump().items()},
            "topic_codes": list(self.topic_codes),
        }


class FollowUpUpdated(EventPayload):
    event_type = "community.follow_up_updated"
    aggregate_type = "meeting"

    index: int = Field(ge=0, le=1000, description="position in the meeting's follow_ups")
    status: Literal["open", "in_progress", "done"]

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        return {"meeting_id": aggregate_id, "index": self.index, "status": self.status}


# --- version 1, read only ------------------------------------------------------------------
class ComplaintFiledV1(ComplaintFiled):
    schema_version = 1

    ticket_code: str
    ticket_commitment: str = ""


class MeetingHeldV1(MeetingHeld):
    """Before topic codes: free-text topics only (none of its events carries codes)."""

    schema_version = 1

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        # The view its leaves were written with: a verifier recomputes it byte for byte.
        view = super().public(aggregate_id)
        del view["topic_codes"]
        return view
