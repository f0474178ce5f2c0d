"""The registry's read models, projected from its own events in the command's transaction
and rebuildable from the event store: `households` (the list operators filter) and
`active_niks` (one active household per NIK), and `resurveys` (the operators' work list
of re-surveys that appeals asked for). Personal data is in private.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.errors import NIK_ALREADY_REGISTERED
from shared import eventstore
from shared.bulk import insert_rows, one_of
from shared.db import BigId, UTCDateTime
from shared.events import Envelope, EventPayload
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
    ResurveyCompleted,
    ResurveyRequested,
    SurveyRecorded,
)
from shared.uow import Unique

metadata = MetaData()

households = Table(
    "households",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("household_id", Uuid, nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("rt", String(3), nullable=False),
    Column("rw", String(2), nullable=False, index=True),
    # The KK's keyed commitment (as the registration event carries it): an appeal may name
    # a household by its KK number, committed to by the community with the same key.
    Column("kk_commitment", String(64), index=True),
    Column("member_count", Integer, nullable=False),
    Column("monthly_income_idr", BigId, nullable=False),
    Column("desil", Integer),
    Column("dtks_listed", Boolean, nullable=False),
    Column("elderly", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("children", Boolean, nullable=False),
    Column("pmt_score", Integer),
    Column("eligible", Boolean),
    Column("eligibility_reasons", JSON),
    Column("deactivation_reason", String(16)),
    Column("version", Integer, nullable=False),
    Column("registered_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# One active household per NIK. The household decider refuses a NIK another active
# household holds (it reads this table's facts in its transaction); the primary key also
# refuses two concurrent registrations of one NIK, which the decider cannot see.
active_niks = Table(
    "active_niks",
    metadata,
    Column("nik_commitment", String(64), primary_key=True),
    Column("household_id", Uuid, nullable=False, index=True),
)
# Re-surveys asked for by appeals (consumers.py): open until the decision after the new
# survey (or a deactivation) completes them.
resurveys = Table(
    "resurveys",
    metadata,
    Column("appeal_id", Uuid, primary_key=True),
    Column("household_id", Uuid, nullable=False, index=True),
    Column("rw", String(2), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("surveyed_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("verdict", String(16)),
)
CONSTRAINTS = {
    "active_niks_pkey": Unique(
        NIK_ALREADY_REGISTERED,
        "a NIK of this request was registered by a concurrent request",
        field="members",
    )
}


def _flags(vulnerability: Sequence[str]) -> dict[str, bool]:
    return {f: f in vulnerability for f in ("elderly", "disabled", "children")}


async def project(session: AsyncSession, new_events: Sequence[Envelope]) -> None:
    """In order; a run of registrations (an import's batch) as two statements, not two per
    household: they only insert rows of their own households, so order within a run does
    not matter, and a run ends at any other event."""
    run: list[tuple[Envelope, HouseholdRegistered]] = []
    for envelope in new_events:
        event = envelope.typed()
        if isinstance(event, HouseholdRegistered):
            run.append((envelope, event))
            continue
        await _registered(session, run)
        run = []
        await _apply(session, envelope, event)
    await _registered(session, run)


async def _registered(
    session: AsyncSession, run: Sequence[tuple[Envelope, HouseholdRegistered]]
) -> None:
    if not run:
        return
    await insert_rows(
        session,
        households,
        [
            {
                "household_id": envelope.aggregate_id,
                "status": "active",
                "rt": e.rt,
                "rw": e.rw,
                "kk_commitment": e.kk_commitment,
                "member_count": len(e.members),
                "monthly_income_idr": e.monthly_income_idr,
                "desil": e.desil,
                "dtks_listed": e.dtks_listed,
                "registered_at": envelope.occurred_at,
                **_flags(e.vulnerability),
                "version": envelope.aggregate_version,
                "updated_at": envelope.occurred_at,
            }
            for envelope, e in run
        ],
    )
    await insert_rows(
        session,
        active_niks,
        [
            {"nik_commitment": m.nik_commitment, "household_id": envelope.aggregate_id}
            for envelope, e in run
            for m in e.members
        ],
    )


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    await _apply(session, envelope, envelope.typed())


async def _apply(session: AsyncSession, envelope: Envelope, event: EventPayload) -> None:
    hid = envelope.aggregate_id
    row = households.c.household_id == hid
    touched = {"version": envelope.aggregate_version, "updated_at": envelope.occurred_at}
    match event:
        case HouseholdRegistered() as e:
            await _registered(session, [(envelope, e)])
        case MemberAdded() as e:
            await session.execute(
                update(households)
                .where(row)
                .values(
                    member_count=households.c.member_count + 1, **_flags(e.vulnerability), **touched
                )
            )
            await session.execute(
                insert(active_niks).values(nik_commitment=e.member.nik_commitment, household_id=hid)
            )
        case HouseholdUpdated() as e:
            changes = {k: getattr(e, k) for k in e.changed if k != "address"}
            await session.execute(update(households).where(row).values(**changes, **touched))
        case SurveyRecorded() as e:
            await session.execute(
                update(households).where(row).values(pmt_score=e.pmt_score, **touched)
            )
            r = resurveys.c
            await session.execute(
                update(resurveys)
                .where(r.household_id == hid, r.completed_at.is_(None), r.surveyed_at.is_(None))
                .values(surveyed_at=envelope.occurred_at)
            )
        case ResurveyRequested() as e:
            await session.execute(update(households).where(row).values(**touched))
            await session.execute(
                insert(resurveys).values(
                    appeal_id=e.appeal_id,
                    household_id=hid,
                    rw=e.rw,
                    reason=e.reason,
                    requested_at=envelope.occurred_at,
                )
            )
        case ResurveyCompleted() as e:
            await session.execute(update(households).where(row).values(**touched))
            await session.execute(
                update(resurveys)
                .where(resurveys.c.appeal_id == e.appeal_id)
                .values(completed_at=envelope.occurred_at, verdict=e.verdict)
            )
        case EligibilityDecided() as e:
            await session.execute(
                update(households)
                .where(row)
                .values(eligible=e.eligible, eligibility_reasons=list(e.reasons), **touched)
            )
        case HouseholdDeactivated() as e:
            await session.execute(
                update(households)
                .where(row)
                .values(status="inactive", deactivation_reason=e.reason, **touched)
            )
            await session.execute(delete(active_niks).where(active_niks.c.household_id == hid))


# --- facts the household's commands read, in their transaction ----------------------------
async def holders(session: AsyncSession, nik_commitments: Sequence[str]) -> dict[str, UUID]:
    """Which active household holds each of these NIKs (by commitment), where one does."""
    rows = await session.execute(
        select(active_niks).where(
            await one_of(session, active_niks.c.nik_commitment, nik_commitments)
        )
    )
    return {commitment: household_id for commitment, household_id in rows}


async def known(session: AsyncSession, household_id: UUID) -> bool:
    found = await session.scalar(
        select(households.c.seq).where(households.c.household_id == household_id)
    )
    return found is not None


async def household_of(
    session: AsyncSession, nik_commitment: str | None, kk_commitment: str | None
) -> UUID | None:
    """The active household an appeal names: by a member's NIK first, else by the KK."""
    if nik_commitment is not None:
        holder: UUID | None = await session.scalar(
            select(active_niks.c.household_id).where(active_niks.c.nik_commitment == nik_commitment)
        )
        if holder is not None:
            return holder
    if kk_commitment is None:
        return None
    h = households.c
    found: UUID | None = await session.scalar(
        select(h.household_id)
        .where(h.kk_commitment == kk_commitment, h.status == "active")
        .order_by(h.seq.desc())
        .limit(1)
    )
    return found


async def rebuild(session: AsyncSession) -> int:
    """Recompute the projections from the event store (the personal data stays)."""
    return await eventstore.replay(session, project, [active_niks, resurveys, households])
