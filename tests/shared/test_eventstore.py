"""Event store on SQLite and PostgreSQL: order, optimistic concurrency, outbox atomicity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import eventstore
from shared.db import events, make_engine, migrate, outbox, sessionmaker
from shared.events import Envelope
from shared.events.registry import HouseholdDeactivated, HouseholdUpdated

REGISTRY_MIGRATIONS = Path(__file__).parents[2] / "services" / "registry" / "migrations"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine, [])
    yield engine
    await engine.dispose()


def updated(aggregate_id: UUID, version: int, rt: str = "001") -> Envelope:
    return Envelope.wrap(
        HouseholdUpdated(rt=rt, changed=("rt",)),
        aggregate_id=aggregate_id,
        aggregate_version=version,
        actor="tester",
    )


async def count(sessions: async_sessionmaker[AsyncSession], table: object) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def test_events_load_in_version_order_with_their_outbox_rows(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)
    hid = uuid4()
    async with sessions() as s, s.begin():
        await eventstore.append(s, [updated(hid, 1), updated(hid, 2, "002")])
    async with sessions() as s, s.begin():
        await eventstore.append(s, [updated(hid, 3, "003")])
        await eventstore.append(s, [updated(uuid4(), 1)])
    async with sessions() as s:
        loaded = await eventstore.load(s, hid)
        assert [e.aggregate_version for e in loaded] == [1, 2, 3]
        assert [e.payload["rt"] for e in loaded] == ["001", "002", "003"]
        assert await eventstore.current_version(s, hid) == 3
        everything = await eventstore.read_all(s)
        assert [pos for pos, _ in everything] == sorted(pos for pos, _ in everything)
        rows = (
            await s.execute(
                select(outbox.c.event_id, outbox.c.subject, outbox.c.headers).order_by(outbox.c.id)
            )
        ).all()
    assert [r.event_id for r in rows] == [e.event_id for _, e in everything]
    assert all(r.headers["Nats-Msg-Id"] == str(r.event_id) for r in rows)
    assert rows[0].subject == "bansos.registry.household_updated"


async def test_a_taken_version_is_a_conflict_and_nothing_is_written(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)
    hid = uuid4()
    async with sessions() as s, s.begin():
        await eventstore.append(s, [updated(hid, 1)])
    with pytest.raises(eventstore.ConcurrencyConflict):
        async with sessions() as s, s.begin():
            await eventstore.append(s, [updated(uuid4(), 1)])  # would succeed alone
            await eventstore.append(s, [updated(hid, 2), updated(hid, 1)])
    assert await count(sessions, events) == 1
    assert await count(sessions, outbox) == 1


async def test_concurrent_writers_of_one_version_exactly_one_wins(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)
    hid = uuid4()
    async with sessions() as s, s.begin():
        await eventstore.append(s, [updated(hid, 1)])
    gate = asyncio.Event()

    async def writer(rt: str) -> str:
        await gate.wait()
        try:
            async with sessions() as s, s.begin():
                await eventstore.append(s, [updated(hid, 2, rt)])
                await asyncio.sleep(0.05)  # hold the transaction open so the two overlap
            return "ok"
        except eventstore.ConcurrencyConflict:
            return "conflict"

    tasks = [asyncio.create_task(writer(f"00{i}")) for i in range(2, 6)]
    gate.set()
    results = await asyncio.gather(*tasks)
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    assert await count(sessions, events) == 2
    assert await count(sessions, outbox) == 2


async def test_a_rolled_back_transaction_leaves_no_event_and_no_outbox_row(
    engine: AsyncEngine,
) -> None:
    sessions = sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as s, s.begin():
            await eventstore.append(
                s,
                [
                    Envelope.wrap(
                        HouseholdDeactivated(reason="moved"),
                        aggregate_id=uuid4(),
                        aggregate_version=1,
                        actor="tester",
                    )
                ],
            )
            raise RuntimeError("the projection failed")
    assert await count(sessions, events) == 0
    assert await count(sessions, outbox) == 0
