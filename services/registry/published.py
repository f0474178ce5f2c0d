"""What the registry publishes for other services to keep: the households projection of its
events. Distribution and training each keep this table in their own database
(docs/architecture.md#the-services: no
service reads another's tables or calls it at request time) through the same durable
consumer: active or not, eligible or not, RT/RW, the members' NIK commitments, and the
registry event that decided eligibility. It depends only on the registry's published event
schemas (shared/events/registry.py), as any consumer of them would.
Events of a household apply in version order: a redelivered older one is skipped, and an
update that arrives before its registration is retried (the consumer redelivers it).
An eligibility decision carries the whole picture, so it also repairs anything skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require
from shared.consumers import Subscription
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import HOUSEHOLD_NOT_FOUND, errors
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
    await on_registry_events(session, [(envelope, event)])


async def on_registry_events(
    session: AsyncSession, items: Sequence[tuple[Envelope, EventPayload]]
) -> None:
    """A batch of registry events, in order, as if applied one by one: one read of the
    households they touch (locked: the batch writes what it read), then one upsert of the
    new and changed households' final rows."""
    ids = list({envelope.aggregate_id for envelope, _ in items})
    known: dict[UUID, dict[str, Any]] = {
        row.household_id: dict(row._mapping)
        for row in await session.execute(
            select(households).where(households.c.household_id.in_(ids)).with_for_update()
        )
    }
    changed: set[UUID] = set()
    for envelope, event in items:
        hid = envelope.aggregate_id
        row = known.get(hid)
        if isinstance(event, HouseholdRegistered):
            if row is None:
                known[hid] = {
                    "household_id": hid,
                    "active": True,
                    "eligible": None,
                    "rt": event.rt,
                    "rw": event.rw,
                    "member_commitments": [m.nik_commitment for m in event.members],
                    "decided_by_event_id": None,
                    "registry_version": envelope.aggregate_version,
                }
                changed.add(hid)
            continue
        if row is None:
            raise NotYetKnown(f"{envelope.type} for household {hid} before its registration")
        if envelope.aggregate_version <= row["registry_version"]:
            continue
        row.update(_changes(envelope, event, row["member_commitments"]))
        changed.add(hid)
    rows = [known[hid] for hid in ids if hid in changed]
    if rows:
        # One statement for new and changed rows alike (a round trip fewer than an
        # insert and an update): what the conflict finds is a row read and locked above.
        await session.execute(_UPSERT[session.get_bind().dialect.name], rows)


def _upsert(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (household_id) DO UPDATE every other column."""
    stmt = dialect.insert(households)
    return stmt.on_conflict_do_update(
        index_elements=[households.c.household_id],
        set_={c.name: stmt.excluded[c.name] for c in households.c if not c.primary_key},
    )


_UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def _changes(envelope: Envelope, event: EventPayload, members: list[str]) -> dict[str, Any]:
    """What a (newer) event other than a registration changes in a household's row."""
    changes: dict[str, Any] = {"registry_version": envelope.aggregate_version}
    match event:
        case MemberAdded():
            changes["member_commitments"] = [*members, event.member.nik_commitment]
        case HouseholdUpdated():
            changes.update({k: getattr(event, k) for k in ("rt", "rw") if k in event.changed})
        case EligibilityDecided():
            changes.update(
                eligible=event.eligible,
                rt=event.rt,
                rw=event.rw,
                member_commitments=list(event.member_commitments) or members,
                decided_by_event_id=envelope.event_id,
            )
        case HouseholdDeactivated():
            changes["active"] = False
    return changes


def subscription(service: str) -> Subscription:
    """The durable consumer `<service>-households` on every registry event."""
    return Subscription(
        f"{service}-households",
        "bansos.registry.>",
        on_registry_event,
        handle_batch=on_registry_events,
    )


async def find(session: AsyncSession, household_id: UUID) -> Any:
    return (
        await session.execute(select(households).where(households.c.household_id == household_id))
    ).first()


class HouseholdView(BaseModel):
    """A household as a service knows it from the registry's events."""

    household_id: UUID
    active: bool
    eligible: bool | None
    rt: str
    rw: str
    member_count: int
    decided_by_event_id: UUID | None
    registry_version: int


def router(*roles: Role) -> APIRouter:
    """`GET /eligibility/{household_id}`: what this service knows of a household (useful
    when a command about it is refused)."""
    routes = APIRouter(tags=["households"])
    reader = require(*roles)  # a default, not Annotated: a local name in an annotation
    # would not resolve under `from __future__ import annotations`

    @routes.get(
        "/eligibility/{household_id}",
        response_model=HouseholdView,
        summary="A household as this service knows it from the registry's events",
        responses=errors(HOUSEHOLD_NOT_FOUND),
    )
    async def get_eligibility(
        household_id: UUID, session: Reads, principal: Principal = reader
    ) -> HouseholdView:
        row = await find(session, household_id)
        if row is None:
            raise DomainError(
                HOUSEHOLD_NOT_FOUND,
                f"the registry has not announced household {household_id} (yet)",
                field="household_id",
            )
        known = dict(row._mapping)
        known["member_count"] = len(known.pop("member_commitments"))
        return HouseholdView.model_validate(known)

    return routes
