"""Bulk writes and set lookups (shared/bulk.py) on SQLite and PostgreSQL: a batch stored by
the driver's path reads back exactly as one stored by SQLAlchemy's insert, a taken key is
SQLAlchemy's IntegrityError with the constraint's name either way, and `one_of` finds
exactly the values asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bulk import COPY_FROM, insert_rows, one_of
from shared.db import events, make_engine, metadata, migrate, outbox, sessionmaker
from shared.uow import constraint_name


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine, [])
    yield engine
    await engine.dispose()


def outbox_rows(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    return [
        {
            "event_id": uuid4(),
            "subject": f"bansos.registry.household_registered.{i}",
            "body": bytes([i % 256]) * (i + 1),
            "headers": {"Nats-Msg-Id": str(i), "traceparent": f"00-{i:032x}-{i:016x}-01"},
            "created_at": start + timedelta(seconds=i),
        }
        for i in range(n)
    ]


def stored(row: Any) -> tuple[Any, ...]:
    return (row.event_id, row.subject, row.body, row.headers, row.created_at, row.sent_at)


@pytest.mark.parametrize("n", [COPY_FROM - 1, COPY_FROM * 3])  # the plain insert, the bulk path
async def test_rows_read_back_as_written(engine: AsyncEngine, n: int) -> None:
    rows = outbox_rows(n)
    sessions = sessionmaker(engine)
    async with sessions.begin() as session:
        await insert_rows(session, outbox, rows)
    async with sessions() as session:
        found = [stored(r) for r in await session.execute(select(outbox).order_by(outbox.c.id))]
    assert found == [
        (r["event_id"], r["subject"], r["body"], r["headers"], r["created_at"], None) for r in rows
    ]


async def test_a_taken_key_is_an_integrity_error_naming_the_constraint(
    engine: AsyncEngine,
) -> None:
    aggregate = uuid4()

    def event(version: int) -> dict[str, Any]:
        return {
            "event_id": uuid4(),
            "type": "registry.household_updated",
            "aggregate_type": "household",
            "aggregate_id": aggregate,
            "aggregate_version": version,
            "occurred_at": datetime.now(UTC),
            "body": "{}",
        }

    sessions = sessionmaker(engine)
    batch = [event(v) for v in range(1, COPY_FROM * 2)]
    async with sessions.begin() as session:
        await insert_rows(session, events, batch)
    with pytest.raises(IntegrityError) as refused:
        async with sessions.begin() as session:
            await insert_rows(session, events, [event(v) for v in range(COPY_FROM, COPY_FROM * 3)])
    assert constraint_name(refused.value, [metadata]) == "uq_events_aggregate_version"
    async with sessions() as session:  # nothing of the refused batch was kept
        kept = (await session.execute(select(events.c.aggregate_version))).scalars().all()
    assert sorted(kept) == list(range(1, COPY_FROM * 2))


async def test_one_of_finds_exactly_the_values_asked_for(engine: AsyncEngine) -> None:
    rows = outbox_rows(COPY_FROM * 2)
    sessions = sessionmaker(engine)
    async with sessions.begin() as session:
        await insert_rows(session, outbox, rows)
        wanted = [r["subject"] for r in rows[::3]] + ["bansos.nothing"]
        found = await session.execute(
            select(outbox.c.subject).where(await one_of(session, outbox.c.subject, wanted))
        )
        assert sorted(found.scalars()) == sorted(wanted[:-1])
        nothing = await session.execute(
            select(outbox.c.subject).where(await one_of(session, outbox.c.subject, []))
        )
        assert nothing.scalars().all() == []
