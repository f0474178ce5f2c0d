"""What the community's API takes and answers: request bodies with their limits, and a
response model for every route (so /docs shows the real replies)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.community.domain.complaint import EscalationTarget, Sla, SlaState
from services.community.domain.feedback import SubjectType
from services.community.domain.meeting import FollowUpStatus, MeetingKind
from shared.events.community import (
    Attendance,
    ComplaintCategory,
    ComplaintOutcome,
    ComplaintReferences,
    FollowUp,
    TopicCode,
)
from shared.pii import code_pattern

TICKET = code_pattern("TB")  # TB-XXXX-XXXX: 40 random bits, read out over the phone
RECEIPT = code_pattern("BT", 3)  # a hand-over's receipt code (distribution)
RW = Field(pattern=r"^\d{2}$", examples=["03"])
Status = Literal["filed", "acknowledged", "escalated", "resolved"]
Step = Literal["filed", "acknowledged", "escalated", "resolved"]


# --- requests ------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, pattern=r"^\+?\d{8,15}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]+$")

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if self.phone is None and self.email is None:
            raise ValueError("a contact needs a phone number or an e-mail address")
        return self


class ComplaintIn(_Body):
    category: ComplaintCategory
    description: str = Field(min_length=10, max_length=4000)
    rw: str = RW
    anonymous: bool = True
    contact: ContactIn | None = None
    references: ComplaintReferences | None = None


class NoteIn(_Body):
    note: str = Field(default="", max_length=2000)


class EscalationIn(_Body):
    to: EscalationTarget
    reason: str = Field(min_length=5, max_length=2000)


class ResolutionIn(_Body):
    outcome: ComplaintOutcome
    resolution: str = Field(min_length=10, max_length=4000)


class FeedbackIn(_Body):
    subject_type: SubjectType = "round"
    subject_id: UUID | None = Field(
        default=None, description="the round or course; may be left out with a receipt_code"
    )
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)
    rw: str | None = Field(default=None, pattern=r"^\d{2}$")
    name: str | None = Field(
        default=None, max_length=120, description="leave out to stay anonymous"
    )
    receipt_code: str | None = Field(
        default=None,
        pattern=RECEIPT,
        description="the receipt code of your hand-over (BT-XXXX-XXXX-XXXX): ties the "
        "rating to it, once per receipt, still anonymous",
    )

    @model_validator(mode="after")
    def _subject(self) -> FeedbackIn:
        if self.subject_id is None and self.receipt_code is None:
            raise ValueError("name the round or course (subject_id) or give a receipt_code")
        return self


class MeetingIn(_Body):
    kind: MeetingKind
    held_on: date
    rw: str = RW
    attendance: Attendance
    topics: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=30)
    aspirations: list[Annotated[str, Field(min_length=1, max_length=400)]] = Field(
        default=[], max_length=50
    )
    follow_ups: list[FollowUp] = Field(default=[], max_length=30)
    topic_codes: list[TopicCode] = Field(
        default=[], max_length=10, description="what was covered, from a fixed list (public)"
    )


class FollowUpIn(_Body):
    status: FollowUpStatus


# --- replies: complaints -------------------------------------------------------------------
class SlaOut(BaseModel):
    state: SlaState
    acknowledge_by: datetime
    resolve_by: datetime

    @classmethod
    def of(cls, sla: Sla) -> SlaOut:
        return cls(state=sla.state, acknowledge_by=sla.acknowledge_by, resolve_by=sla.resolve_by)


class FiledOut(BaseModel):
    """The only reply that shows the ticket code: keep it to follow the complaint."""

    ticket_code: str
    status: Literal["filed"] = "filed"
    sla: SlaOut
    track: str = Field(description="where to follow it: /complaints/track/{ticket_code}")


class StepOut(BaseModel):
    """One step of a complaint with its time, and the words that go with it (for the
    public, only the facilitator's note and the resolution). A key is there only when the
    step has it: the routes that show steps reply without the keys never set
    (`response_model_exclude_unset`)."""

    step: Step
    at: datetime
    to: EscalationTarget | None = None
    outcome: ComplaintOutcome | None = None
    description: str | None = None
    note: str | None = None
    reason: str | None = None
    resolution: str | None = None


class TrackOut(BaseModel):
    """What whoever holds the ticket code sees: never the description, an escalation's
    reason or anything about the reporter."""

    ticket_code: str
    category: ComplaintCategory
    rw: str
    status: Status
    filed_at: datetime
    sla: SlaOut
    history: list[StepOut]


class ComplaintSummary(BaseModel):
    """One row of the facilitators' list (`seq` is its paging position)."""

    seq: int
    complaint_id: UUID
    category: ComplaintCategory
    rw: str
    status: Status
    anonymous: bool
    references: dict[str, UUID] = Field(description="the ids the complaint names")
    escalated_to: list[EscalationTarget]
    outcome: ComplaintOutcome | None
    filed_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    sla: SlaOut


class ContactOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None


class ComplaintOut(ComplaintSummary):
    """One complaint in full, with what the reporter and the facilitators wrote."""

    history: list[StepOut]
    contact: ContactOut | None = Field(
        default=None,
        description="a named reporter's contact: only for facilitators, who call back "
        "(absent for everyone else)",
    )
    contact_given: bool


class ComplaintStats(BaseModel):
    by_category: dict[str, dict[str, int]] = Field(description="category -> status -> count")
    by_sla: dict[str, int] = Field(description="SLA state -> count")


# --- replies: feedback ---------------------------------------------------------------------
Ratings = Annotated[int | str, Field(description='the count from 5 up, else "<5"')]


class FeedbackOut(BaseModel):
    feedback_id: UUID
    subject_id: UUID
    rating: int


class SubjectRatings(BaseModel):
    subject_type: SubjectType
    subject_id: UUID
    title: str
    ratings: Ratings
    average: float | None = Field(description="none under five ratings (small cells)")


class RwRatings(BaseModel):
    rw: str
    ratings: Ratings
    average: float | None


class FeedbackSummary(BaseModel):
    per_subject: list[SubjectRatings]
    per_rw: list[RwRatings]


# --- replies: meetings ---------------------------------------------------------------------
class MeetingOut(BaseModel):
    meeting_id: UUID
    kind: MeetingKind
    held_on: date
    rw: str
    facilitator: str = Field(description="who recorded it (the token's subject)")
    attendance: Attendance
    topics: list[str]
    aspirations: list[str]
    follow_ups: list[FollowUp]
    version: int
    topic_codes: list[TopicCode]
