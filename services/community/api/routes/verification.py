"""Verification with recipients (issue 15): facilitators draw a closed round's sample from
a signed ledger checkpoint and record each sampled recipient's answers; the public sees
each round's counts and rates.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.community import verification_handlers as handlers
from services.community.api import verification_queries as queries
from services.community.api.deps import FacilitatorWork, Reader, Settings
from services.community.api.verification_schemas import (
    RoundVerification,
    SampleIn,
    SampleOut,
    VerificationIn,
    VerificationOut,
)
from services.community.errors import (
    NOT_IN_SAMPLE,
    ROUND_NOT_CLOSED,
    SAMPLE_CHECKPOINT_EARLY,
    SAMPLE_CHECKPOINT_INVALID,
    SAMPLE_COSIGNATURES_MISSING,
    SAMPLE_EMPTY,
    SAMPLE_EXISTS,
    SAMPLE_INCOMPLETE,
    SAMPLE_KEY_UNSET,
    SAMPLE_NOT_FOUND,
    SAMPLE_WITNESSES_UNSET,
    VERIFICATION_EXISTS,
    VERIFICATION_INCONSISTENT,
)
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import errors
from shared.pii import commitments

router = APIRouter(prefix="/rounds", tags=["verification with recipients"])


async def _sample(session: Reads, round_id: UUID) -> SampleOut:
    found = await queries.sample(session, round_id)
    if found is None:
        raise DomainError(SAMPLE_NOT_FOUND, f"no sample of round {round_id}", field="round_id")
    return found


@router.post(
    "/{round_id}/verification-sample",
    status_code=201,
    response_model=SampleOut,
    summary="Draw a closed round's verification sample from a witness-cosigned ledger checkpoint",
    responses=errors(
        SAMPLE_KEY_UNSET,
        SAMPLE_WITNESSES_UNSET,
        SAMPLE_CHECKPOINT_INVALID,
        SAMPLE_COSIGNATURES_MISSING,
        SAMPLE_CHECKPOINT_EARLY,
        ROUND_NOT_CLOSED,
        SAMPLE_EXISTS,
        SAMPLE_EMPTY,
        SAMPLE_INCOMPLETE,
    ),
)
async def draw_sample(
    round_id: UUID,
    form: SampleIn,
    uow: FacilitatorWork,
    settings: Settings,
    session: Reads,
    response: Response,
) -> SampleOut:
    checkpoint = handlers.verified_checkpoint(settings, form.checkpoint)
    await handlers.draw_sample(uow, round_id, checkpoint, settings)
    response.headers["Location"] = f"/rounds/{round_id}/verification-sample"
    return await _sample(session, round_id)


@router.get(
    "/{round_id}/verification-sample",
    response_model=SampleOut,
    summary="A round's verification sample: the hand-overs to verify, in draw order",
    responses=errors(SAMPLE_NOT_FOUND),
)
async def get_sample(round_id: UUID, session: Reads, principal: Reader) -> SampleOut:
    return await _sample(session, round_id)


@router.post(
    "/{round_id}/verifications/{allocation_id}",
    status_code=201,
    response_model=VerificationOut,
    summary="Record a sampled recipient's answers; a discrepancy files a complaint",
    responses=errors(NOT_IN_SAMPLE, VERIFICATION_EXISTS, VERIFICATION_INCONSISTENT),
)
async def record_verification(
    round_id: UUID,
    allocation_id: UUID,
    form: VerificationIn,
    uow: FacilitatorWork,
    settings: Settings,
    session: Reads,
) -> VerificationOut:
    await handlers.record_verification(uow, round_id, allocation_id, form, commitments(settings))
    return await queries.verification(session, allocation_id)


@router.get(
    "/{round_id}/verification",
    response_model=RoundVerification,
    summary="A round's verification: sample size, verified, discrepancies by kind and "
    "per RW (small cells suppressed)",
    responses=errors(SAMPLE_NOT_FOUND),
)
async def round_verification(round_id: UUID, session: Reads) -> RoundVerification:
    found = await queries.round_verification(session, round_id)
    if found is None:
        raise DomainError(SAMPLE_NOT_FOUND, f"no sample of round {round_id}", field="round_id")
    return found
