"""The appeals' read-model SQL behind their GET routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.community.api.appeal_schemas import (
    AppealSlaOut,
    AppealStats,
    AppealStepOut,
    AppealSummary,
    AppealTrackOut,
    RwAppeals,
)
from services.community.appeal_projections import appeals
from services.community.domain.appeal import AppealSlaPolicy, AppealSlaState, appeal_sla
from shared import eventstore
from shared.clock import day_of
from shared.events import utcnow
from shared.events.public import suppressed

STEPS = {
    "community.appeal_filed": "acknowledged",
    "community.appeal_resurvey_scheduled": "resurvey_scheduled",
    "community.appeal_decided": "decided",
    "community.appeal_unmatched": "unmatched",
}


def _sla(policy: AppealSlaPolicy, row: Any, now: datetime) -> AppealSlaOut:
    return AppealSlaOut.of(appeal_sla(policy, row.filed_at, row.closed_at, now))


async def _steps(session: AsyncSession, appeal_id: UUID) -> list[AppealStepOut]:
    steps = []
    for e in await eventstore.load(session, appeal_id):
        outcome = e.payload.get("outcome") if e.type == "community.appeal_decided" else None
        steps.append(AppealStepOut(step=STEPS[e.type], on=day_of(e.occurred_at), outcome=outcome))
    return steps


async def tracked(
    session: AsyncSession, code: str, code_commitment: str, policy: AppealSlaPolicy
) -> AppealTrackOut | None:
    """The appeal whose tracking code commits to `code_commitment`, as the public sees it."""
    row = (
        await session.execute(select(appeals).where(appeals.c.code_commitment == code_commitment))
    ).first()
    if row is None:
        return None
    return AppealTrackOut(
        tracking_code=code,
        reason=row.reason,
        rw=row.rw,
        status=row.status,
        outcome=row.outcome,
        filed_on=day_of(row.filed_at),
        sla=_sla(policy, row, utcnow()),
        steps=await _steps(session, row.appeal_id),
    )


async def appeal_list(
    session: AsyncSession,
    policy: AppealSlaPolicy,
    *,
    after: int,
    limit: int,
    sla_state: AppealSlaState | None = None,
    **filters: Any,
) -> list[tuple[int, AppealSummary]]:
    """Rows after a paging position with the column filters given (None = any), in the SLA
    state asked; (position, summary) pairs, `limit + 1` at most."""
    c = appeals.c
    conditions = [c.seq > after]
    conditions += [c[name] == value for name, value in filters.items() if value is not None]
    query = select(appeals).where(and_(*conditions)).order_by(c.seq)
    now = utcnow()
    found: list[tuple[int, AppealSummary]] = []
    async for row in await session.stream(query):
        columns = {k: v for k, v in row._mapping.items() if k not in ("version", "code_commitment")}
        summary = AppealSummary.model_validate({**columns, "sla": _sla(policy, row, now)})
        if sla_state is None or summary.sla.state == sla_state:
            found.append((row.seq, summary))
            if len(found) > limit:
                break
    return found


def _shown(rw: str, counts: dict[str, int]) -> RwAppeals:
    return RwAppeals(rw=rw, **{k: suppressed(v) for k, v in counts.items()})


async def appeal_stats(session: AsyncSession, policy: AppealSlaPolicy) -> AppealStats:
    """Per RW: filed, upheld, rejected, unmatched, pending and past the SLA. Counts under
    five are "<5": with fewer, a neighbour could tell whose appeal it was."""
    now = utcnow()
    keys = ("filed", "upheld", "rejected", "unmatched", "pending", "past_sla")
    per_rw: dict[str, dict[str, int]] = {}
    total = dict.fromkeys(keys, 0)
    async for row in await session.stream(select(appeals)):
        counts = per_rw.setdefault(row.rw, dict.fromkeys(keys, 0))
        hits = ["filed"]
        if row.status == "decided":
            hits.append(row.outcome)
        elif row.status == "unmatched":
            hits.append("unmatched")
        else:
            hits.append("pending")
        if _sla(policy, row, now).state == "breached":
            hits.append("past_sla")
        for key in hits:
            counts[key] += 1
            total[key] += 1
    return AppealStats(
        per_rw=[_shown(rw, per_rw[rw]) for rw in sorted(per_rw)], total=_shown("all", total)
    )
