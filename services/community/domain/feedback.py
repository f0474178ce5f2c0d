"""Feedback (umpan balik): a resident's rating of a distribution round or a course. A pure
decider, no I/O. Whether the round or course was announced is a fact of the community's
read models, read by the handler in the command's transaction (`subject_known`). A rating
may name its hand-over by the receipt code (issue 15): the handler looks the code's
commitment up among the hand-overs community learnt (`receipt_round`, None if none) and
whether it was rated before (`receipt_rated`): one rating per receipt, still anonymous."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from uuid import UUID

from services.community.errors import (
    FEEDBACK_EXISTS,
    RECEIPT_OTHER_ROUND,
    RECEIPT_RATED,
    RECEIPT_UNKNOWN,
    SUBJECT_UNKNOWN,
)
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
    subject_id: UUID | None  # None: the round of the receipt's hand-over
    subject_known: bool
    rating: int
    rw: str | None
    anonymous: bool
    comment_commitment: str | None = None
    receipt_commitment: str | None = None
    receipt_round: UUID | None = None
    receipt_rated: bool = False


def decide(state: Feedback, command: GiveFeedback) -> list[EventPayload]:
    if state.given:
        raise DomainError(FEEDBACK_EXISTS, "this feedback is already recorded")
    if command.receipt_commitment is not None:
        _check_receipt(command)
    subject_id = command.subject_id or command.receipt_round
    if subject_id is None or not command.subject_known:
        raise DomainError(
            SUBJECT_UNKNOWN,
            f"no {command.subject_type} {subject_id} has been announced",
            field="subject_id",
        )
    return [
        FeedbackSubmitted(
            subject_type=command.subject_type,
            subject_id=subject_id,
            rating=command.rating,
            comment_commitment=command.comment_commitment,
            rw=command.rw,
            anonymous=command.anonymous,
            receipt_commitment=command.receipt_commitment,
        )
    ]


def _check_receipt(command: GiveFeedback) -> None:
    if command.receipt_round is None:
        raise DomainError(
            RECEIPT_UNKNOWN,
            "no hand-over has this receipt code: check the code printed on your receipt "
            "(BT-XXXX-XXXX-XXXX)",
            field="receipt_code",
        )
    named = command.subject_id
    if command.subject_type != "round" or named not in (None, command.receipt_round):
        raise DomainError(
            RECEIPT_OTHER_ROUND,
            "the receipt's hand-over is of another round: leave out subject_id, or name its round",
            field="subject_id",
        )
    if command.receipt_rated:
        raise DomainError(RECEIPT_RATED, "this hand-over is already rated", field="receipt_code")


def evolve(state: Feedback, event: EventPayload) -> Feedback:
    return replace(state, given=True) if isinstance(event, FeedbackSubmitted) else state


feedback: Decider[Feedback, GiveFeedback] = Decider("feedback", Feedback(), decide, evolve)
