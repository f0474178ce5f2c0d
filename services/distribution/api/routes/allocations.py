"""Allocations and hand-overs: one household or every eligible one, then the officer's
confirmation with the recipient's NIK and evidence, or the report of aid undelivered."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.distribution import handlers
from services.distribution.api import queries
from services.distribution.api.deps import AllocationReader, ManagerWork, OfficerWork, Settings
from services.distribution.api.schemas import (
    AllocationIn,
    AllocationOut,
    BulkOut,
    ReceiptIn,
    ReceiptOut,
    UndeliveredIn,
)
from services.distribution.errors import (
    ALLOCATION_NOT_FOUND,
    ALREADY_ALLOCATED,
    ALREADY_ALLOCATED_IN_PERIOD,
    ALREADY_RECEIVED,
    ALREADY_UNDELIVERED,
    BUDGET_EXCEEDED,
    HOUSEHOLD_NOT_ELIGIBLE,
    HOUSEHOLD_OUTSIDE_ROUND,
    OFFICER_NOT_CERTIFIED,
    RECEIVED_AT_FUTURE,
    RECIPIENT_NOT_MEMBER,
    ROUND_CLOSED,
    ROUND_NOT_ENDORSED,
    ROUND_NOT_FOUND,
    ROUND_NOT_OPEN,
)
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import HOUSEHOLD_INACTIVE, HOUSEHOLD_UNKNOWN, errors
from shared.pii import commitments

router = APIRouter(tags=["allocations"])
# What a hand-over outcome (a receipt, an undelivered report) can answer.
HAND_OVER = (
    ALLOCATION_NOT_FOUND,
    ALREADY_RECEIVED,
    ALREADY_UNDELIVERED,
    ROUND_NOT_ENDORSED,
    ROUND_CLOSED,
    ROUND_NOT_OPEN,
    OFFICER_NOT_CERTIFIED,
)


async def _allocation(session: Reads, allocation_id: UUID) -> AllocationOut:
    found = await queries.allocation(session, allocation_id)
    if found is None:
        raise DomainError(ALLOCATION_NOT_FOUND, f"no allocation {allocation_id}")
    return found


@router.post(
    "/rounds/{round_id}/allocations",
    status_code=201,
    response_model=AllocationOut,
    summary="Allocate aid to one eligible household",
    responses=errors(
        ROUND_NOT_FOUND,
        ROUND_CLOSED,
        ALREADY_ALLOCATED,
        ALREADY_ALLOCATED_IN_PERIOD,
        HOUSEHOLD_UNKNOWN,
        HOUSEHOLD_INACTIVE,
        HOUSEHOLD_NOT_ELIGIBLE,
        HOUSEHOLD_OUTSIDE_ROUND,
        BUDGET_EXCEEDED,
    ),
)
async def allocate(
    round_id: UUID, form: AllocationIn, uow: ManagerWork, session: Reads, response: Response
) -> AllocationOut:
    outcome = await handlers.allocate(uow, round_id, form.household_id)
    allocation_id = outcome.events[0].aggregate_id
    response.headers["Location"] = f"/allocations/{allocation_id}"
    return await _allocation(session, allocation_id)


@router.post(
    "/rounds/{round_id}/allocations/bulk",
    response_model=BulkOut,
    summary="Allocate to every eligible household in the round's RWs not yet allocated",
    responses=errors(ROUND_NOT_FOUND, ROUND_CLOSED, BUDGET_EXCEEDED),
)
async def allocate_all(round_id: UUID, uow: ManagerWork) -> BulkOut:
    outcomes = await handlers.allocate_all(uow, round_id)
    amounts = [o.events[0].payload["amount_idr"] for o in outcomes]
    return BulkOut(round_id=round_id, allocated=len(outcomes), amount_idr=sum(amounts))


@router.post(
    "/allocations/{allocation_id}/receipt",
    response_model=ReceiptOut,
    summary="Confirm the hand-over (the officer, with the recipient's NIK and evidence)",
    responses=errors(*HAND_OVER, RECIPIENT_NOT_MEMBER, RECEIVED_AT_FUTURE),
)
async def confirm_receipt(
    allocation_id: UUID, form: ReceiptIn, uow: OfficerWork, settings: Settings, session: Reads
) -> ReceiptOut:
    handed = await handlers.confirm_receipt(uow, allocation_id, form, commitments(settings))
    allocation = await _allocation(session, allocation_id)
    return ReceiptOut(**allocation.model_dump(), receipt_code=handed.receipt_code)


@router.post(
    "/allocations/{allocation_id}/undelivered",
    response_model=AllocationOut,
    summary="Report aid not handed over, with the reason",
    responses=errors(*HAND_OVER),
)
async def report_undelivered(
    allocation_id: UUID, form: UndeliveredIn, uow: OfficerWork, settings: Settings, session: Reads
) -> AllocationOut:
    await handlers.report_undelivered(uow, allocation_id, form, commitments(settings))
    return await _allocation(session, allocation_id)


@router.get(
    "/allocations/{allocation_id}",
    response_model=AllocationOut,
    summary="One allocation",
    responses=errors(ALLOCATION_NOT_FOUND),
)
async def get_allocation(
    allocation_id: UUID, session: Reads, principal: AllocationReader
) -> AllocationOut:
    return await _allocation(session, allocation_id)
