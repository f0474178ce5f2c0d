"""Appeals (banding): public filing and tracking by code, public statistics per RW (the
exclusion errors appeals reveal), and the staff's list.

Each route reads: parse, authorise, handler, reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.community import appeal_handlers
from services.community.api import appeal_queries
from services.community.api.appeal_schemas import (
    APPEAL_CODE,
    AppealFiledOut,
    AppealIn,
    AppealSlaOut,
    AppealStats,
    AppealSummary,
    AppealTrackOut,
    Status,
)
from services.community.api.deps import PublicWork, Reader, Settings
from services.community.domain.appeal import AppealSlaState, appeal_sla
from services.community.errors import (
    APPEAL_CODE_COLLISION,
    APPEAL_CODE_NOT_FOUND,
    APPEAL_HOUSEHOLD_REQUIRED,
)
from shared.deps import Cursor, Page, Reads, check_rw, decode_cursor, page
from shared.domain import DomainError
from shared.errors import RATE_LIMITED, RW_OUTSIDE, errors
from shared.events import utcnow
from shared.events.community_appeals import AppealReason
from shared.pii import commitments
from shared.ratelimit import limit as rate_limit

router = APIRouter(prefix="/appeals")
PUBLIC = "appeals (public)"
STAFF = "appeals"


@router.post(
    "",
    status_code=201,
    tags=[PUBLIC],
    response_model=AppealFiledOut,
    summary="Appeal for a household refused or dropped; keep the tracking code",
    dependencies=[rate_limit("appeals", "appeal_rate")],
    responses=errors(APPEAL_HOUSEHOLD_REQUIRED, RW_OUTSIDE, RATE_LIMITED, APPEAL_CODE_COLLISION),
)
async def file_appeal(form: AppealIn, uow: PublicWork, settings: Settings) -> AppealFiledOut:
    check_rw(settings, form.rw)
    filed = await appeal_handlers.file_appeal(uow, form, commitments(settings))
    filed_at = filed.outcome.events[0].occurred_at
    # The only time the code is shown: keep it to follow the appeal.
    return AppealFiledOut(
        tracking_code=filed.tracking_code,
        sla=AppealSlaOut.of(appeal_sla(settings.appeal_sla(), filed_at, None, utcnow())),
        track=f"/appeals/track/{filed.tracking_code}",
    )


@router.get(
    "/track/{tracking_code}",
    tags=[PUBLIC],
    response_model=AppealTrackOut,
    summary="Follow an appeal by its tracking code",
    dependencies=[rate_limit("appeal-tracking", "tracking_rate")],
    responses=errors(APPEAL_CODE_NOT_FOUND, RATE_LIMITED),
)
async def track(
    tracking_code: Annotated[str, Path(pattern=APPEAL_CODE, examples=["BD-7K3M-9QXP"])],
    session: Reads,
    settings: Settings,
) -> AppealTrackOut:
    code = commitments(settings).ticket(tracking_code)
    found = await appeal_queries.tracked(session, tracking_code, code, settings.appeal_sla())
    if found is None:
        raise DomainError(APPEAL_CODE_NOT_FOUND, "no appeal has this tracking code")
    return found


@router.get(
    "/stats",
    tags=[PUBLIC],
    response_model=AppealStats,
    summary="Appeals per RW: filed, upheld, rejected, pending, past the SLA (small cells <5)",
)
async def appeal_stats(session: Reads, settings: Settings) -> AppealStats:
    return await appeal_queries.appeal_stats(session, settings.appeal_sla())


@router.get(
    "",
    tags=[STAFF],
    response_model=Page[AppealSummary],
    summary="Appeals with their SLA state (no household, no code)",
)
async def list_appeals(
    session: Reads,
    settings: Settings,
    principal: Reader,
    status: Status | None = None,
    reason: AppealReason | None = None,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    sla: AppealSlaState | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AppealSummary]:
    rows = await appeal_queries.appeal_list(
        session,
        settings.appeal_sla(),
        after=decode_cursor(cursor),
        limit=limit,
        sla_state=sla,
        status=status,
        reason=reason,
        rw=rw,
    )
    return page(rows, limit)
