"""A registry database from before version 2 events upgrades in place: the head's masked
NIK leaves the households read model, the rows stay, deactivation notes get their table."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Boolean, DateTime, Integer, String, Uuid, column, insert, inspect, table

from services.registry.private import deactivation_notes
from services.registry.projections import households
from services.registry.service import SERVICE
from shared.db import make_engine, migrate

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
