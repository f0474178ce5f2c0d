"""Every service's migrations build exactly the tables its code declares: Alembic compares
the migrated database with the kernel's and the service's table metadata (SQLite and
PostgreSQL). A column added to a table but not to a migration (or the reverse) fails here."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from shared.db import make_engine, migrate
from shared.db import metadata as kernel
from shared.spec import discover

SPECS = discover()


def drift(connection: Connection, wanted: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            # Alembic's own bookkeeping is not a table of the code's.
            "include_name": lambda name, kind, _: (
                not (kind == "table" and name == "alembic_version")
            ),
        },
    )
    return list(compare_metadata(context, wanted))


@pytest.mark.parametrize("name", list(SPECS))
async def test_migrations_build_what_the_code_declares(name: str, database_url: str) -> None:
    spec = SPECS[name]
    wanted = MetaData()
    for source in (kernel, *spec.metadata):
        for table in source.tables.values():
            table.to_metadata(wanted)
    engine = make_engine(database_url)
    try:
        await migrate(engine, [spec.migrations])
        async with engine.connect() as conn:
            differences = await conn.run_sync(drift, wanted)
    finally:
        await engine.dispose()
    assert differences == []
