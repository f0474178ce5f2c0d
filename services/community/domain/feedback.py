"""Feedback (umpan balik): a resident's rating of a distribution round or a course. A pure
decider, no I/O. Whether the round or course was announced is a fact of the community's
read models, read by the handler in the command's transaction (`subject_known`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from uuid import UUID

from services.community.errors import FEEDBACK_EXISTS, SUBJECT_UNKNOWN
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.community import FeedbackSubmitted
from shared.uow import Decider

SubjectType = Literal["round", "course"]


@dataclass(frozen=True)
class Feedback:
    given: bool = False


@dataclass(frozen=True)
class GiveFeedback:
    subject_type: SubjectType
    subject_id: UUID
    subject_known: bool
    rating: int
    rw: str | None
    anonymous: bool
    comment_commitment: str | None = None


def decide(state: Feedback, command: GiveFeedback) -> list[EventPayload]:
    if state.given:
        raise DomainError(FEEDBACK_EXISTS, "this feedback is already recorded")
    if not command.subject_known:
        raise DomainError(
            SUBJECT_UNKNOWN,
            f"no {command.subject_type} {command.subject_id} has been announced",
            field="subject_id",
        )
    return [
        FeedbackSubmitted(
            subject_type=command.subject_type,
            subject_id=command.subject_id,
            rating=command.rating,
            comment_commitment=command.comment_commitment,
            rw=command.rw,
            anonymous=command.anonymous,
        )
    ]


def evolve(state: Feedback, event: EventPayload) -> Feedback:
    return replace(state, given=True) if isinstance(event, FeedbackSubmitted) else state


feedback: Decider[Feedback, GiveFeedback] = Decider("feedback", Feedback(), decide, evolve)
