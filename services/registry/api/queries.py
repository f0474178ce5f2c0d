"""The registry's read-model SQL behind its GET routes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import projections
from services.registry.api.schemas import HouseholdOut, HouseholdSummary, MemberOut, ResurveyOut
from services.registry.domain.nik import masked
from services.registry.private import deactivation_notes, household_pii, members
from services.registry.projections import households

FLAGS = ("elderly", "disabled", "children")


def _vulnerability(row: Any) -> list[str]:
    return [flag for flag in FLAGS if row[flag]]


async def household(session: AsyncSession, household_id: UUID) -> HouseholdOut | None:
    h, p = households.c, household_pii.c
    row = (
        (
            await session.execute(
                select(households, p.kk_number, p.address, p.phone, p.dtks_ref)
                .join(household_pii, p.household_id == h.household_id)
                .where(h.household_id == household_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    people = [
        MemberOut.model_validate(person, from_attributes=True)
        for person in await session.execute(
            select(members)
            .where(members.c.household_id == household_id)
            .order_by(members.c.position)
        )
    ]
    note = await session.scalar(
        select(deactivation_notes.c.note).where(deactivation_notes.c.household_id == household_id)
    )
    head = next(m.nik for m in people if m.relationship == "head")
    return HouseholdOut.model_validate(
        {
            **row,
            "vulnerability": _vulnerability(row),
            "members": people,
            "head_nik_masked": masked(head),
            "deactivation_note": note,
        }
    )


async def household_list(
    session: AsyncSession, *, after: int, limit: int, **filters: Any
) -> list[tuple[int, HouseholdSummary]]:
    """Rows after a paging position, with the filters given (None = any); returns
    (position, summary) pairs, `limit + 1` at most."""
    h = households.c
    conditions = [h.seq > after]
    for name in ("rw", "rt", "status", "desil", "eligible"):
        if filters.get(name) is not None:
            conditions.append(h[name] == filters[name])
    if filters.get("vulnerability") is not None:
        conditions.append(h[filters["vulnerability"]].is_(True))
    head = members.alias("head")
    query = (
        select(
            households,
            head.c.nik.label("head_nik"),
            head.c.full_name.label("head_name"),
        )
        .join(head, and_(head.c.household_id == h.household_id, head.c.relationship == "head"))
        .where(and_(*conditions))
        .order_by(h.seq)
        .limit(limit + 1)
    )
    rows = (await session.execute(query)).mappings()
    return [
        (
            row["seq"],
            HouseholdSummary.model_validate(
                {
                    **row,
                    "head_nik_masked": masked(row["head_nik"]),
                    "vulnerability": _vulnerability(row),
                }
            ),
        )
        for row in rows
    ]


async def resurveys(
    session: AsyncSession, *, completed: bool, rw: str | None, limit: int
) -> list[ResurveyOut]:
    """Re-surveys asked for by appeals, open ones (or completed ones) oldest first, with the
    household's RT and its head's name to find it."""
    r, h = projections.resurveys.c, households.c
    head = members.alias("head")
    query = (
        select(projections.resurveys, h.rt, head.c.full_name.label("head_name"))
        .join(households, h.household_id == r.household_id)
        .join(head, and_(head.c.household_id == r.household_id, head.c.relationship == "head"))
        .where(r.completed_at.is_not(None) if completed else r.completed_at.is_(None))
        .order_by(r.requested_at, r.appeal_id)
        .limit(limit)
    )
    if rw is not None:
        query = query.where(r.rw == rw)
    return [ResurveyOut.model_validate(row) for row in (await session.execute(query)).mappings()]
