"""A migrated training database (SQLite and PostgreSQL) with units of work for its
handlers, and the households the registry would have announced to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.registry import published
from services.training.service import SERVICE
from services.training.settings import TrainingSettings
from shared.db import make_engine, migrate, sessionmaker
from shared.pii import Commitments, commitments
from shared.uow import Caller, UnitOfWork


@dataclass
class TrainingDb:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: Commitments

    def uow(self) -> UnitOfWork:
        caller = Caller(actor="coordinator.tests", role="training_coordinator")
        return UnitOfWork(
            self.sessions,
            SERVICE.project,
            caller,
            constraints=SERVICE.constraints,
            metadata=SERVICE.metadata,
        )

    async def announce(
        self, niks: Sequence[str], *, rw: str = "04", eligible: bool | None = True
    ) -> UUID:
        """A household as the registry's events leave it in training's households view."""
        household_id = uuid4()
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(published.households).values(
                    household_id=household_id,
                    active=True,
                    eligible=eligible,
                    rt="007",
                    rw=rw,
                    member_commitments=[self.keys.nik(n) for n in niks],
                    registry_version=2,
                )
            )
        return household_id

    async def rows(self, table: Table, *drop: str) -> list[dict[str, Any]]:
        """A table's rows (but the columns dropped), in a stable order."""
        async with self.sessions() as session:
            found = (await session.execute(select(table))).mappings().all()
        rows = [{k: v for k, v in r.items() if k not in drop} for r in found]
        return sorted(rows, key=lambda r: [str(v) for v in r.values()])


@pytest.fixture
async def training_db(database_url: str) -> AsyncIterator[TrainingDb]:
    engine = make_engine(database_url)
    await migrate(engine, [SERVICE.migrations])
    yield TrainingDb(engine, sessionmaker(engine), commitments(TrainingSettings()))
    await engine.dispose()
