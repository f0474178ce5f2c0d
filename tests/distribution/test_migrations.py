"""A distribution database from before version 2 events upgrades in place: the head's
masked NIK leaves the allocations and the households view, the rows stay."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import JSON, Boolean, Integer, String, Uuid, column, insert, inspect, select, table

from services.distribution.private import staff_notes
from services.distribution.projections import allocations
from services.distribution.service import SERVICE
from services.registry.published import households
from shared.db import make_engine, migrate

MIGRATIONS = SERVICE.migrations

# The two tables as revision d0001 made them (only what the rows below need).
OLD_ELIGIBILITY = table(
    "eligibility",
    column("household_id", Uuid),
    column("active", Boolean),
    column("eligible", Boolean),
    column("rt", String),
    column("rw", String),
    column("head_nik_masked", String),
    column("member_commitments", JSON),
    column("registry_version", Integer),
)
OLD_ALLOCATIONS = table(
    "allocations",
    *(column(name, Uuid) for name in ("allocation_id", "round_id", "household_id")),
    *(column(name, String) for name in ("programme", "rt", "rw", "head_nik_masked", "status")),
    column("amount_idr", Integer),
    column("package", JSON),
    column("based_on_event_id", Uuid),
    column("version", Integer),
)


async def columns(engine: object, table: str) -> set[str]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        found = await conn.run_sync(lambda c: inspect(c).get_columns(table))
    return {c["name"] for c in found}


async def test_an_older_database_drops_the_masked_nik_and_keeps_its_rows(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    allocation, household = uuid4(), uuid4()
    try:
        await migrate(engine, [MIGRATIONS], target="d0001")
        assert "head_nik_masked" in await columns(engine, "allocations")
        async with engine.begin() as conn:
            await conn.execute(
                insert(OLD_ELIGIBILITY).values(
                    household_id=household,
                    active=True,
                    eligible=True,
                    rt="005",
                    rw="03",
                    head_nik_masked="3174••••••••0001",
                    member_commitments=["ab"],
                    registry_version=2,
                )
            )
            await conn.execute(
                insert(OLD_ALLOCATIONS).values(
                    allocation_id=allocation,
                    round_id=uuid4(),
                    household_id=household,
                    programme="BLT",
                    rt="005",
                    rw="03",
                    head_nik_masked="3174••••••••0001",
                    amount_idr=600_000,
                    package=[],
                    status="allocated",
                    based_on_event_id=uuid4(),
                    version=1,
                )
            )

        await migrate(engine, [MIGRATIONS])
        for table in ("allocations", "eligibility"):
            assert "head_nik_masked" not in await columns(engine, table)
        assert await columns(engine, "staff_notes") == set(staff_notes.c.keys())
        async with engine.connect() as conn:
            kept = (await conn.execute(select(allocations))).one()
            known = (await conn.execute(select(households))).one()
        assert (kept.allocation_id, kept.household_id, kept.amount_idr) == (
            allocation,
            household,
            600_000,
        )
        assert (known.household_id, known.member_commitments) == (household, ["ab"])
    finally:
        await engine.dispose()
