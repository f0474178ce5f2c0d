"""Registry read models, updated in the command's transaction, plus the personal-data store.

`households` and `active_niks` are projections (rebuildable from the event store);
`household_pii`, `members` and `deactivation_notes` hold names, NIK, KK, addresses and
staff notes, which never leave this service (DESIGN §7): an event carries at most a
salted commitment to a note, whose salt is kept here beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    insert,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared import eventstore
from shared.db import BigId, UTCDateTime
from shared.events import Envelope
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
    SurveyRecorded,
)

metadata = MetaData()

households = Table(
    "households",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("household_id", Uuid, nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("rt", String(3), nullable=False),
    Column("rw", String(2), nullable=False, index=True),
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

# One active household per NIK: the primary key makes a concurrent duplicate fail.
active_niks = Table(
    "active_niks",
    metadata,
    Column("nik_commitment", String(64), primary_key=True),
    Column("household_id", Uuid, nullable=False, index=True),
)

household_pii = Table(
    "household_pii",
    metadata,
    Column("household_id", Uuid, primary_key=True),
    Column("kk_number", String(16), nullable=False),
    Column("address", String(300), nullable=False),
    Column("phone", String(20)),
    Column("dtks_ref", String(40)),
)

members = Table(
    "members",
    metadata,
    Column("member_id", Uuid, primary_key=True),
    Column(
        "household_id", Uuid, ForeignKey("household_pii.household_id"), nullable=False, index=True
    ),
    Column("full_name", String(120), nullable=False),
    Column("nik", String(16), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("relationship", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
)

# The staff note of a deactivation, and the salt of the commitment its event carries.
deactivation_notes = Table(
    "deactivation_notes",
    metadata,
    Column("household_id", Uuid, ForeignKey("household_pii.household_id"), primary_key=True),
    Column("note", String(500), nullable=False),
    Column("salt", LargeBinary(16), nullable=False),
)


def _flags(vulnerability: Sequence[str]) -> dict[str, bool]:
    return {f: f in vulnerability for f in ("elderly", "disabled", "children")}


async def project(session: AsyncSession, new_events: Sequence[Envelope]) -> None:
    for envelope in new_events:
        await apply(session, envelope)


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    hid = envelope.aggregate_id
    row = households.c.household_id == hid
    touched = {"version": envelope.aggregate_version, "updated_at": envelope.occurred_at}
    match envelope.typed():
        case HouseholdRegistered() as e:
            await session.execute(
                insert(households).values(
                    household_id=hid,
                    status="active",
                    rt=e.rt,
                    rw=e.rw,
                    member_count=len(e.members),
                    monthly_income_idr=e.monthly_income_idr,
                    desil=e.desil,
                    dtks_listed=e.dtks_listed,
                    registered_at=envelope.occurred_at,
                    **_flags(e.vulnerability),
                    **touched,
                )
            )
            await session.execute(
                insert(active_niks),
                [{"nik_commitment": m.nik_commitment, "household_id": hid} for m in e.members],
            )
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


async def rebuild(session: AsyncSession) -> int:
    """Recompute the projections from the event store (the personal data stays)."""
    return await eventstore.replay(session, project, [active_niks, households])
