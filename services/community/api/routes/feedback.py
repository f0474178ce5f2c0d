"""Feedback (umpan balik), public: a rating of a round or a course, and the averages.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.community import handlers
from services.community.api import queries
from services.community.api.deps import PublicWork, Settings
from services.community.api.schemas import FeedbackIn, FeedbackOut, FeedbackSummary
from services.community.errors import (
    RECEIPT_OTHER_ROUND,
    RECEIPT_RATED,
    RECEIPT_UNKNOWN,
    SUBJECT_UNKNOWN,
)
from shared.deps import Reads, check_rw
from shared.errors import RATE_LIMITED, RW_OUTSIDE, errors
from shared.pii import commitments
from shared.ratelimit import limit as rate_limit

router = APIRouter(prefix="/feedback", tags=["feedback (public)"])


@router.post(
    "",
    status_code=201,
    response_model=FeedbackOut,
    summary="Rate a distribution round or a course, 1 to 5; name your hand-over by its "
    "receipt code to tie the rating to it (once per receipt, still anonymous)",
    dependencies=[rate_limit("feedback", "feedback_rate")],
    responses=errors(
        SUBJECT_UNKNOWN,
        RW_OUTSIDE,
        RATE_LIMITED,
        RECEIPT_UNKNOWN,
        RECEIPT_RATED,
        RECEIPT_OTHER_ROUND,
    ),
)
async def give_feedback(form: FeedbackIn, uow: PublicWork, settings: Settings) -> FeedbackOut:
    check_rw(settings, form.rw)
    outcome = await handlers.give_feedback(uow, form, commitments(settings))
    return FeedbackOut(
        feedback_id=outcome.events[0].aggregate_id,
        subject_id=outcome.events[0].payload["subject_id"],
        rating=form.rating,
    )


@router.get(
    "/summary",
    response_model=FeedbackSummary,
    summary="Average ratings per round or course, and per RW",
)
async def feedback_summary(session: Reads, subject_id: UUID | None = None) -> FeedbackSummary:
    return await queries.feedback_summary(session, subject_id)
