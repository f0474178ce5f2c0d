"""Distribution consumers: what the registry says about households, and nothing else.

A household can be allocated aid only while this projection shows it active and eligible;
the allocation records the registry event it rested on (`decided_by_event_id`).
Events of one household apply in order of their version: a redelivered older one is
skipped, and an eligibility decision carries the whole picture (RT/RW, head, members).
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.distribution.projections import households
from shared.consumers import Subscription
from shared.events import Envelope, EventPayload
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
)


class NotYetKnown(RuntimeError):
    """An update before its registration: retried later (the consumer redelivers it)."""


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
            head = next(m for m in event.members if m.relationship == "head")
            await session.execute(
                insert(households).values(
                    household_id=hid,
                    active=True,
                    eligible=None,
                    rt=event.rt,
                    rw=event.rw,
                    head_nik_masked=head.nik_masked,
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
                head_nik_masked=event.head_nik_masked,
                member_commitments=list(event.member_commitments) or row.member_commitments,
                decided_by_event_id=envelope.event_id,
            )
        case HouseholdDeactivated():
            changes["active"] = False
    await session.execute(
        update(households).where(households.c.household_id == hid).values(**changes)
    )


CONSUMERS = [
    Subscription("distribution-eligibility", "bansos.registry.>", on_registry_event),
]
