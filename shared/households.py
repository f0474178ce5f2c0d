"""What a service knows of the registry's households: its own projection of registry
events (DESIGN §2: no service reads another's tables or calls it at request time).

Distribution and training keep the same table (in their own databases) through the same
durable-consumer handler: active or not, eligible or not, RT/RW, the
members' NIK commitments, and the registry event that decided eligibility.
Events of a household apply in version order: a redelivered older one is skipped, and an
update that arrives before its registration is retried (the consumer redelivers it).
An eligibility decision carries the whole picture, so it also repairs anything skipped.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, Uuid, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.api import runtime
from shared.auth import Principal, Role, require
from shared.consumers import Subscription
from shared.domain import NotFound
from shared.events import Envelope, EventPayload
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
)

metadata = MetaData()

households = Table(
    "eligibility",
    metadata,
    Column("household_id", Uuid, primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("eligible", Boolean),
    Column("rt", String(3), nullable=False),
    Column("rw", String(2), nullable=False, index=True),
    Column("member_commitments", JSON, nullable=False),
    Column("decided_by_event_id", Uuid),
    Column("registry_version", Integer, nullable=False),
)


class NotYetKnown(RuntimeError):
    """An update before its registration: retried later."""


async def on_registry_event(session: AsyncSession, envelope: Envelope, event: EventPayload) -> None:
    hid = envelope.aggregate_id
    row = (
        await session.execute(
            select(households.c.registry_version, households.c.member_commitments).where(
                households.c.household_id == hid
            )
        )
    ).first()
    if isinstance(event, HouseholdRegistered):
        if row is None:
            await session.execute(
                insert(households).values(
                    household_id=hid,
                    active=True,
                    eligible=None,
                    rt=event.rt,
                    rw=event.rw,
                    member_commitments=[m.nik_commitment for m in event.members],
                    registry_version=envelope.aggregate_version,
                )
            )
        return
    if row is None:
        raise NotYetKnown(f"{envelope.type} for household {hid} before its registration")
    if envelope.aggregate_version <= row.registry_version:
        return
    changes: dict[str, object] = {"registry_version": envelope.aggregate_version}
    match event:
        case MemberAdded():
            changes["member_commitments"] = [*row.member_commitments, event.member.nik_commitment]
        case HouseholdUpdated():
            changes.update({k: getattr(event, k) for k in ("rt", "rw") if k in event.changed})
        case EligibilityDecided():
            changes.update(
                eligible=event.eligible,
                rt=event.rt,
                rw=event.rw,
                member_commitments=list(event.member_commitments) or row.member_commitments,
                decided_by_event_id=envelope.event_id,
            )
        case HouseholdDeactivated():
            changes["active"] = False
    await session.execute(
        sql_update(households).where(households.c.household_id == hid).values(**changes)
    )


def subscription(service: str) -> Subscription:
    """The durable consumer `<service>-households` on every registry event."""
    return Subscription(f"{service}-households", "bansos.registry.>", on_registry_event)


async def find(session: AsyncSession, household_id: UUID) -> Any:
    return (
        await session.execute(select(households).where(households.c.household_id == household_id))
    ).first()


def router(*roles: Role) -> APIRouter:
    """`GET /eligibility/{household_id}`: what this service knows of a household (useful
    when a command about it is refused)."""
    routes = APIRouter(tags=["households"])
    reader = require(*roles)  # a default, not Annotated: a local name in an annotation
    # would not resolve under `from __future__ import annotations`

    @routes.get(
        "/eligibility/{household_id}",
        summary="A household as this service knows it from the registry's events",
    )
    async def get_eligibility(
        household_id: UUID, request: Request, principal: Principal = reader
    ) -> dict[str, Any]:
        async with runtime(request).reads() as session:
            row = await find(session, household_id)
        if row is None:
            raise NotFound(
                "household_unknown",
                f"the registry has not announced household {household_id} (yet)",
                field="household_id",
            )
        out = dict(row._mapping)
        out["member_count"] = len(out.pop("member_commitments"))
        return out

    return routes
