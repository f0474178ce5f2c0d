"""The registry's private store: names, NIK, KK, addresses, phones and staff notes, which
never leave this service (docs/architecture.md#personal-data). An event carries at most a keyed
commitment (a NIK,
a KK) or a salted one (a note, whose salt is kept here beside it). Written by the handlers
in the command's transaction; never rebuilt from events, which do not hold it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.projections import households, metadata
from shared.bulk import insert_rows, one_of
from shared.pii import SaltedCommitment

household_pii = Table(
    "household_pii",
    metadata,
    Column("household_id", Uuid, primary_key=True),
    # Indexed: an import finds the household a row belongs to by its KK or DTKS id.
    Column("kk_number", String(16), nullable=False, index=True),
    Column("address", String(300), nullable=False),
    Column("phone", String(20)),
    Column("dtks_ref", String(40), index=True),
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


class Person(Protocol):
    """A member as the operator entered them (api/schemas.py MemberIn)."""

    @property
    def full_name(self) -> str: ...
    @property
    def nik(self) -> str: ...
    @property
    def birth_date(self) -> date: ...
    @property
    def sex(self) -> str: ...
    @property
    def relationship(self) -> str: ...
    @property
    def disabled(self) -> bool: ...


async def keep_household(
    session: AsyncSession,
    household_id: UUID,
    *,
    kk_number: str,
    address: str,
    phone: str | None,
    dtks_ref: str | None,
) -> None:
    await session.execute(
        insert(household_pii).values(
            household_id=household_id,
            kk_number=kk_number,
            address=address,
            phone=phone,
            dtks_ref=dtks_ref,
        )
    )


async def keep_members(
    session: AsyncSession,
    household_id: UUID,
    people: Sequence[tuple[UUID, Person]],
    *,
    first: int | None = None,
) -> None:
    """Members in the order given, after those the household already has (`first`, the
    count, when the caller knows it: 0 for a household just registered)."""
    if first is None:
        first = int(
            await session.scalar(
                select(func.count())
                .select_from(members)
                .where(members.c.household_id == household_id)
            )
            or 0
        )
    await session.execute(
        insert(members),
        [
            {
                "member_id": member_id,
                "household_id": household_id,
                "full_name": p.full_name,
                "nik": p.nik,
                "birth_date": p.birth_date,
                "sex": p.sex,
                "relationship": p.relationship,
                "disabled": p.disabled,
                "position": first + i,
            }
            for i, (member_id, p) in enumerate(people)
        ],
    )


async def change_household(session: AsyncSession, household_id: UUID, **changes: Any) -> None:
    """Address, phone or DTKS reference, as given (only the keys present)."""
    if changes:
        await session.execute(
            update(household_pii)
            .where(household_pii.c.household_id == household_id)
            .values(**changes)
        )


async def keep_deactivation_note(
    session: AsyncSession, household_id: UUID, note: str, committed: SaltedCommitment
) -> None:
    await session.execute(
        insert(deactivation_notes).values(household_id=household_id, note=note, salt=committed.salt)
    )


# --- imports (importer.py) -------------------------------------------------------------
async def keep_many(
    session: AsyncSession,
    households_rows: Sequence[dict[str, Any]],
    member_rows: Sequence[dict[str, Any]],
) -> None:
    """A batch's personal data in two statements: `household_pii` rows, then `members`
    rows (each with its `position`)."""
    await insert_rows(session, household_pii, households_rows)
    await insert_rows(session, members, member_rows)


async def active_by_reference(
    session: AsyncSession, kk_numbers: Sequence[str], dtks_refs: Sequence[str]
) -> list[dict[str, Any]]:
    """The active households with one of these KK numbers or DTKS ids: their personal data
    and the facts an import compares a row with."""
    # Index lookups only, joined here: a join left to PostgreSQL's generic plan scanned
    # every household per batch until the table was analysed (118 ms at 10,000 households).
    pii = await session.execute(
        union(
            select(household_pii).where(
                await one_of(session, household_pii.c.kk_number, kk_numbers)
            ),
            select(household_pii).where(await one_of(session, household_pii.c.dtks_ref, dtks_refs)),
        )
    )
    held = {row.household_id: dict(row._mapping) for row in pii}
    if not held:
        return []
    facts = await session.execute(
        select(
            households.c.household_id,
            households.c.rt,
            households.c.rw,
            households.c.desil,
            households.c.dtks_listed,
            households.c.monthly_income_idr,
        )
        .where(await one_of(session, households.c.household_id, list(held)))
        .where(households.c.status == "active")
    )
    return [{**held[row.household_id], **row._mapping} for row in facts]


async def niks_of(session: AsyncSession, household_ids: Sequence[UUID]) -> dict[UUID, list[str]]:
    """The members' NIKs of these households, in their order."""
    found: dict[UUID, list[str]] = {h: [] for h in household_ids}
    rows = await session.execute(
        select(members.c.household_id, members.c.nik)
        .where(await one_of(session, members.c.household_id, household_ids))
        .order_by(members.c.household_id, members.c.position)
    )
    for household_id, nik in rows:
        found[household_id].append(nik)
    return found
