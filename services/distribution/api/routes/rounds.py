"""Rounds: scheduled per RW, endorsed by the community, closed with their totals."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.distribution import handlers
from services.distribution.api import queries
from services.distribution.api.deps import (
    FacilitatorWork,
    ManagerWork,
    MoneyReader,
    RoundReader,
    Settings,
)
from services.distribution.api.schemas import (
    PERIOD,
    EndorsementIn,
    RoundIn,
    RoundOut,
    RoundStatus,
    RoundSummaryOut,
)
from services.distribution.errors import (
    BUDGET_REQUIRED,
    POSKO_DATE_PAST,
    POSKO_OUTSIDE_PERIOD,
    POSKOS_REQUIRED,
    ROUND_CLOSED,
    ROUND_ENDORSED,
    ROUND_NOT_FOUND,
    RW_REPEATED,
)
from shared.deps import Reads, check_rw, set_version
from shared.domain import DomainError
from shared.errors import RW_OUTSIDE, errors
from shared.events.distribution import Programme
from shared.pii import commitments

router = APIRouter(tags=["rounds"])


async def _round(session: Reads, round_id: UUID) -> RoundOut:
    found = await queries.round_(session, round_id)
    if found is None:
        raise DomainError(ROUND_NOT_FOUND, f"no round {round_id}", field="round_id")
    return found


@router.post(
    "/rounds",
    status_code=201,
    response_model=RoundOut,
    summary="Schedule a round per RW",
    responses=errors(
        BUDGET_REQUIRED,
        POSKOS_REQUIRED,
        RW_REPEATED,
        POSKO_DATE_PAST,
        POSKO_OUTSIDE_PERIOD,
        RW_OUTSIDE,
    ),
)
async def schedule_round(
    form: RoundIn, uow: ManagerWork, settings: Settings, session: Reads, response: Response
) -> RoundOut:
    for i, posko in enumerate(form.poskos):
        check_rw(settings, posko.rw, f"poskos.{i}.rw")
    outcome = await handlers.schedule_round(uow, form)
    round_id = outcome.events[0].aggregate_id
    response.headers["Location"] = f"/rounds/{round_id}"
    set_version(response, outcome.version)
    return await _round(session, round_id)


@router.post(
    "/rounds/{round_id}/endorsement",
    response_model=RoundOut,
    summary="Community endorsement",
    responses=errors(ROUND_NOT_FOUND, ROUND_ENDORSED, ROUND_CLOSED),
)
async def endorse(
    round_id: UUID, form: EndorsementIn, uow: FacilitatorWork, settings: Settings, session: Reads
) -> RoundOut:
    await handlers.endorse_round(uow, round_id, form, commitments(settings))
    return await _round(session, round_id)


@router.post(
    "/rounds/{round_id}/closure",
    response_model=RoundOut,
    summary="Close a round, with totals",
    responses=errors(ROUND_NOT_FOUND, ROUND_CLOSED),
)
async def close_round(round_id: UUID, uow: ManagerWork, session: Reads) -> RoundOut:
    await handlers.close_round(uow, round_id)
    return await _round(session, round_id)


@router.get("/rounds", response_model=list[RoundOut], summary="Rounds, newest first")
async def list_rounds(
    session: Reads,
    principal: RoundReader,
    programme: Programme | None = None,
    status: RoundStatus | None = None,
    period: Annotated[str | None, Query(pattern=PERIOD, examples=["2026-12"])] = None,
) -> list[RoundOut]:
    return await queries.round_list(session, programme, status, period)


@router.get(
    "/rounds/{round_id}",
    response_model=RoundOut,
    summary="One round with its counters",
    responses=errors(ROUND_NOT_FOUND),
)
async def get_round(round_id: UUID, session: Reads, principal: RoundReader) -> RoundOut:
    return await _round(session, round_id)


@router.get(
    "/rounds/{round_id}/summary",
    response_model=RoundSummaryOut,
    summary="Totals, per RW",
    responses=errors(ROUND_NOT_FOUND),
)
async def round_summary(round_id: UUID, session: Reads, principal: MoneyReader) -> RoundSummaryOut:
    found = await queries.round_summary(session, round_id)
    if found is None:
        raise DomainError(ROUND_NOT_FOUND, f"no round {round_id}", field="round_id")
    return found
