"""Alembic migrations from an empty database, and an older database upgraded in place."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from sqlalchemy import inspect, select, text

from shared import eventstore
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope
from shared.events.registry import HouseholdDeactivated

REGISTRY = Path(__file__).parents[2] / "services" / "registry" / "migrations"
KERNEL_TABLES = {"events", "outbox", "inbox", "dead_letters"}
REGISTRY_TABLES = {"households", "active_niks", "household_pii", "members"}


async def tables(engine: object) -> set[str]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_an_empty_database_gets_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine, [REGISTRY])
        await migrate(engine, [REGISTRY])  # every start runs it: a second run is a no-op
        assert await tables(engine) >= KERNEL_TABLES | REGISTRY_TABLES
        async with engine.connect() as conn:
            heads = set(
                (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
            )
        # One head: the registry's newest migration (each follows the one before, down to
        # the kernel's k0001).
        newest = max(f.stem.split("_", 1)[0] for f in REGISTRY.glob("r[0-9]*.py"))
        assert heads == {newest}
    finally:
        await engine.dispose()


async def test_an_older_database_upgrades_in_place_keeping_its_events(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine, [], target="k0001")  # a database from before the registry
        assert not REGISTRY_TABLES & await tables(engine)
        sessions = sessionmaker(engine)
        event = Envelope.wrap(
            HouseholdDeactivated(reason="moved"),
            aggregate_id=uuid4(),
            aggregate_version=1,
            actor="tester",
        )
        async with sessions() as s, s.begin():
            await eventstore.append(s, [event])
        await migrate(engine, [REGISTRY])
        assert await tables(engine) >= REGISTRY_TABLES
        async with sessions() as s:
            assert await eventstore.load(s, event.aggregate_id) == [event]
            assert await s.scalar(select(text("count(*)")).select_from(text("outbox"))) == 1
    finally:
        await engine.dispose()
