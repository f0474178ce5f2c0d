"""Budgets: one per programme and period, topped up; what remains of each.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from services.distribution import handlers
from services.distribution.api import queries
from services.distribution.api.deps import ManagerWork, MoneyReader
from services.distribution.api.schemas import PERIOD, BudgetIn, BudgetOut, TopUpIn
from services.distribution.errors import (
    BENEFIT_EXCEEDS_BUDGET,
    BUDGET_EXISTS,
    BUDGET_NOT_FOUND,
    PACKAGE_NOT_CASH,
    PACKAGE_REQUIRED,
)
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import errors
from shared.events.distribution import Programme

router = APIRouter(tags=["budgets"])


async def _budget(session: Reads, budget_id: UUID) -> BudgetOut:
    found = await queries.budget(session, budget_id)
    if found is None:
        raise DomainError(BUDGET_NOT_FOUND, f"no budget {budget_id}")
    return found


@router.post(
    "/budgets",
    status_code=201,
    response_model=BudgetOut,
    summary="Budget a programme period",
    responses=errors(BUDGET_EXISTS, PACKAGE_REQUIRED, PACKAGE_NOT_CASH, BENEFIT_EXCEEDS_BUDGET),
)
async def set_budget(form: BudgetIn, uow: ManagerWork, session: Reads) -> BudgetOut:
    outcome = await handlers.set_budget(uow, form)
    return await _budget(session, outcome.events[0].aggregate_id)


@router.post(
    "/budgets/{programme}/{period}/top-ups",
    response_model=BudgetOut,
    summary="Add to a budget",
    responses=errors(BUDGET_NOT_FOUND),
)
async def top_up(
    programme: Programme,
    period: Annotated[str, Path(pattern=PERIOD)],
    form: TopUpIn,
    uow: ManagerWork,
    session: Reads,
) -> BudgetOut:
    outcome = await handlers.top_up(uow, programme, period, form)
    return await _budget(session, outcome.events[0].aggregate_id)


@router.get("/budgets", response_model=list[BudgetOut], summary="Budgets with what remains of each")
async def list_budgets(
    session: Reads, principal: MoneyReader, programme: Programme | None = None
) -> list[BudgetOut]:
    return await queries.budget_list(session, programme)
