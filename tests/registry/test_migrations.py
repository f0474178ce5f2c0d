"""A registry database from before version 2 events upgrades in place: the head's masked
NIK leaves the households read model, the rows stay, deactivation notes get their table;
households registered before appeals get their KK commitment (r0004)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    Uuid,
    column,
    insert,
    inspect,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.registry.api.schemas import HouseholdIn
from services.registry.demo import household
from services.registry.handlers import member_facts
from services.registry.private import deactivation_notes
from services.registry.projections import households, metadata, project
from services.registry.service import SERVICE
from shared.db import events, make_engine, migrate
from shared.events import Envelope
from shared.events.registry import HouseholdRegistered
from shared.pii import commitments
from shared.settings import CommonSettings
from shared.uow import Projector

# The households read model as revision r0001 made it (the columns a row needs).
OLD_HOUSEHOLDS = table(
    "households",
    column("household_id", Uuid),
    *(column(name, String) for name in ("status", "rt", "rw", "head_nik_masked")),
    *(column(name, Integer) for name in ("member_count", "monthly_income_idr", "version")),
    *(column(name, Boolean) for name in ("dtks_listed", "elderly", "disabled", "children")),
    *(column(name, DateTime(timezone=True)) for name in ("registered_at", "updated_at")),
)


async def columns(engine: object, name: str) -> set[str]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        found = await conn.run_sync(lambda c: inspect(c).get_columns(name))
    return {c["name"] for c in found}


async def test_an_older_database_drops_the_masked_nik_and_keeps_its_rows(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    hid, now = uuid4(), datetime.now(UTC)
    try:
        await migrate(engine, [SERVICE.migrations], target="r0001")
        async with engine.begin() as conn:
            await conn.execute(
                insert(OLD_HOUSEHOLDS).values(
                    household_id=hid,
                    status="active",
                    rt="005",
                    rw="03",
                    head_nik_masked="3174••••••••0001",
                    member_count=3,
                    monthly_income_idr=1_800_000,
                    version=3,
                    dtks_listed=False,
                    elderly=True,
                    disabled=True,
                    children=True,
                    registered_at=now,
                    updated_at=now,
                )
            )
        await migrate(engine, [SERVICE.migrations])
        assert await columns(engine, "households") == set(households.c.keys())
        assert await columns(engine, "deactivation_notes") == set(deactivation_notes.c.keys())
        async with engine.connect() as conn:
            row = (await conn.execute(households.select())).one()
        assert (row.household_id, row.rw, row.member_count, row.version) == (hid, "03", 3, 3)
    finally:
        await engine.dispose()


async def test_households_registered_before_appeals_get_their_kk_commitment(
    database_url: str,
) -> None:
    """r0004 fills `kk_commitment` from each household's registration event, so an appeal
    naming its KK matches a household registered before appeals existed."""

    keys = commitments(CommonSettings())
    form = HouseholdIn.model_validate(household(random.Random(4), "03"))
    registered = Envelope.wrap(
        HouseholdRegistered(
            rt=form.rt,
            rw=form.rw,
            kk_commitment=keys.kk(form.kk_number),
            members=tuple(member_facts(keys, m, uuid4()) for m in form.members),
            monthly_income_idr=form.monthly_income_idr,
        ),
        aggregate_id=uuid4(),
        aggregate_version=1,
        actor="operator.siti",
    )
    engine = make_engine(database_url)
    try:
        await migrate(engine, [SERVICE.migrations], target="r0003")
        async with engine.begin() as conn:
            await conn.execute(
                insert(events).values(
                    event_id=registered.event_id,
                    type=registered.type,
                    aggregate_type=registered.aggregate_type,
                    aggregate_id=registered.aggregate_id,
                    aggregate_version=1,
                    occurred_at=registered.occurred_at,
                    body=registered.canonical().decode(),
                )
            )
            # The read model as r0003 had it (no kk_commitment column yet).
            old = table(
                "households",
                *(column(c.name, c.type) for c in households.c if c.name != "kk_commitment"),
            )
            row = await _projected_row(registered, project)
            await conn.execute(insert(old).values(**row))
        await migrate(engine, [SERVICE.migrations])
        async with engine.connect() as conn:
            kk = await conn.scalar(
                households.select().with_only_columns(households.c.kk_commitment)
            )
        assert kk == keys.kk(form.kk_number)
    finally:
        await engine.dispose()


async def _projected_row(envelope: Envelope, project: Projector) -> dict[str, object]:
    """The households row the projection writes for a registration, but its new column."""

    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with AsyncSession(engine) as session, session.begin():
            await project(session, [envelope])
            row = (await session.execute(households.select())).mappings().one()
    finally:
        await engine.dispose()
    return {k: v for k, v in row.items() if k not in ("kk_commitment", "seq")}
