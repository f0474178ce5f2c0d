"""Durable pull consumers: inbox de-duplication and dead letters, against real NATS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any
from uuid import uuid4

import nats
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.consumers import ProjectionConsumer
from shared.db import dead_letters, inbox, make_engine, migrate, sessionmaker
from shared.events import Envelope, EventPayload
from shared.events.registry import HouseholdUpdated
from shared.messaging import ensure_stream, make_broker
from shared.settings import CommonSettings
from tests.helpers import NatsServer, eventually

metadata = MetaData()
applied = Table(
    "applied",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("times", Integer, nullable=False),
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine, [])
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


def event(label: str = "") -> Envelope:
    return Envelope.wrap(
        HouseholdUpdated(changed=(label,)),
        aggregate_id=uuid4(),
        aggregate_version=1,
        actor="tester",
    )


async def count_applied(session: AsyncSession, envelope: Envelope, _: EventPayload) -> None:
    if envelope.payload["changed"] == ["poison"]:
        raise RuntimeError("this handler cannot cope with poison")
    key = str(envelope.event_id)
    done = await session.execute(
        update(applied).where(applied.c.event_id == key).values(times=applied.c.times + 1)
    )
    if done.rowcount == 0:
        await session.execute(insert(applied).values(event_id=key, times=1))


async def publish(url: str, items: list[tuple[bytes, str]]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for body, msg_id in items:
        await js.publish(
            "bansos.registry.household_deactivated",
            body,
            stream="BANSOS",
            headers={"Nats-Msg-Id": msg_id},
        )
    await nc.close()


async def test_redelivered_events_apply_once_and_garbage_is_parked(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    settings = CommonSettings(nats_url=nats_server.url)
    sessions = sessionmaker(engine)
    broker = make_broker(settings)
    consumer = ProjectionConsumer("test-projection", sessions, count_applied, max_deliver=2)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    first, poison, last = event("first"), event("poison"), event("last")
    # The same event published twice under two message ids: the stream keeps both.
    await publish(
        nats_server.url,
        [
            (first.canonical(), "a"),
            (first.canonical(), "b"),
            (b"\x00not an envelope", "c"),
            (poison.canonical(), "d"),
            (last.canonical(), "e"),
        ],
    )
    running = asyncio.create_task(consumer.run(broker, settings, "bansos.registry.>", 10))
    try:

        async def settled() -> bool:
            async with sessions() as s:
                parked = await s.scalar(select(func.count()).select_from(dead_letters))
                done = await s.scalar(
                    select(applied.c.times).where(applied.c.event_id == str(last.event_id))
                )
                return parked == 2 and done == 1

        await eventually(settled, within=30)
        async with sessions() as s:
            times = dict((await s.execute(select(applied.c.event_id, applied.c.times))).all())
            parked = (
                await s.execute(
                    select(dead_letters.c.stream_seq, dead_letters.c.reason).order_by(
                        dead_letters.c.stream_seq
                    )
                )
            ).all()
            inbox_rows = await s.scalar(select(func.count()).select_from(inbox))
        assert times == {str(first.event_id): 1, str(last.event_id): 1}
        assert [seq for seq, _ in parked] == [3, 4]
        assert parked[0].reason.startswith("undecodable")
        assert "handler failed 2 times" in parked[1].reason
        assert inbox_rows == 2
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await broker.stop()


async def test_consumption_resumes_after_a_nats_restart(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    settings = CommonSettings(nats_url=nats_server.url)
    sessions = sessionmaker(engine)
    broker = make_broker(settings)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    consumer = ProjectionConsumer("restart-projection", sessions, count_applied)
    running = asyncio.create_task(consumer.run(broker, settings, "bansos.registry.>"))
    before, after = (
        [event(f"before {i}") for i in range(5)],
        [event(f"after {i}") for i in range(5)],
    )

    async def applied_count() -> int:
        async with sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(applied)) or 0)

    try:
        await publish(nats_server.url, [(e.canonical(), str(e.event_id)) for e in before])
        await eventually(lambda: _equals(applied_count(), 5), within=20)
        nats_server.stop()
        nats_server.start()  # same port and store: the durable consumer survives
        await publish(nats_server.url, [(e.canonical(), str(e.event_id)) for e in after])
        await eventually(lambda: _equals(applied_count(), 10), within=30)
        async with sessions() as s:
            times = {t for (t,) in await s.execute(select(applied.c.times))}
        assert times == {1}  # nothing applied twice across the restart
    finally:
        consumer.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await broker.stop()


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def test_a_poison_message_is_isolated_and_healthy_ones_are_not_replayed(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    settings = CommonSettings(nats_url=nats_server.url)
    sessions = sessionmaker(engine)
    broker = make_broker(settings)
    calls: dict[str, int] = {}

    async def counting(session: AsyncSession, envelope: Envelope, payload: EventPayload) -> None:
        calls[str(envelope.event_id)] = calls.get(str(envelope.event_id), 0) + 1
        await count_applied(session, envelope, payload)

    consumer = ProjectionConsumer("test-isolation", sessions, counting, max_deliver=3)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    poison = event("poison")
    healthy = [event(f"healthy {i}") for i in range(40)]
    await publish(
        nats_server.url,
        [(poison.canonical(), "p")]
        + [(e.canonical(), f"h{i}") for i, e in enumerate(healthy[:10])],
    )
    running = asyncio.create_task(consumer.run(broker, settings, "bansos.registry.>", 10))
    try:
        # More traffic arrives while the poison is redelivered, so its deliveries land in
        # batches with healthy messages.
        for wave in range(1, 4):

            async def tried(times: int = wave + 1) -> bool:
                return calls.get(str(poison.event_id), 0) >= times

            await eventually(tried, within=30)
            batch = healthy[wave * 10 : (wave + 1) * 10]
            await publish(
                nats_server.url, [(e.canonical(), f"h{wave}-{e.event_id}") for e in batch]
            )

        async def parked() -> bool:
            async with sessions() as s:
                parked = await s.scalar(select(func.count()).select_from(dead_letters))
                done = await s.scalar(select(func.count()).select_from(applied))
                return parked == 1 and done == len(healthy)

        await eventually(parked, within=30)
        async with sessions() as s:
            times = dict((await s.execute(select(applied.c.event_id, applied.c.times))).all())
        assert times == {str(e.event_id): 1 for e in healthy}  # each applied exactly once
        # Only the poison's first batch was tried before it was known: its 9 healthy
        # neighbours ran twice (the batch rolled back); none ran again on a redelivery.
        replayed = [e for e in healthy if calls[str(e.event_id)] > 1]
        assert len(replayed) <= 9
        assert all(calls[str(e.event_id)] == 2 for e in replayed)
        # In its first batch, then alone on each of its 3 deliveries; then parked.
        assert calls[str(poison.event_id)] == 1 + 3
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await broker.stop()


async def test_a_batch_handler_gets_whole_batches_and_keeps_the_same_guarantees(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    """With `handle_batch`, a fetch's new events go to the handler at once, in stream
    order; a duplicate is still applied once, and a batch that fails is applied one by
    one, so the poison is parked and the rest applied."""
    settings = CommonSettings(nats_url=nats_server.url)
    sessions = sessionmaker(engine)
    broker = make_broker(settings)
    sizes: list[int] = []

    async def count_batch(session: AsyncSession, items: Sequence[tuple[Envelope, Any]]) -> None:
        sizes.append(len(items))
        for envelope, payload in items:
            await count_applied(session, envelope, payload)

    consumer = ProjectionConsumer(
        "test-batches", sessions, count_applied, max_deliver=2, handle_batch=count_batch
    )
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    healthy = [event(f"e{i}") for i in range(6)]
    poison = event("poison")
    items = [(e.canonical(), f"m{i}") for i, e in enumerate(healthy[:3])]
    items += [(healthy[0].canonical(), "again"), (poison.canonical(), "p")]
    items += [(e.canonical(), f"n{i}") for i, e in enumerate(healthy[3:])]
    await publish(nats_server.url, items)
    running = asyncio.create_task(consumer.run(broker, settings, "bansos.registry.>", 50))
    try:

        async def settled() -> bool:
            async with sessions() as s:
                parked = await s.scalar(select(func.count()).select_from(dead_letters))
                done = await s.scalar(select(func.count()).select_from(applied))
                return parked == 1 and done == 6

        await eventually(settled, within=30)
        async with sessions() as s:
            times = dict((await s.execute(select(applied.c.event_id, applied.c.times))).all())
        assert times == {str(e.event_id): 1 for e in healthy}
        assert max(sizes) > 1  # whole batches reached the handler
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await broker.stop()


async def test_a_quiet_stream_answers_promptly_after_the_pull_requests_expire(
    engine: AsyncEngine, nats_server: NatsServer
) -> None:
    """Pull requests expire after 5 s (shared/pull.py): the next ones are asked for as
    the server ends them, so an event published just after is applied at once, not at
    the next expiry."""
    settings = CommonSettings(nats_url=nats_server.url)
    sessions = sessionmaker(engine)
    broker = make_broker(settings)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    consumer = ProjectionConsumer("quiet-projection", sessions, count_applied)
    running = asyncio.create_task(consumer.run(broker, settings, "bansos.registry.>"))

    async def applied_count() -> int:
        async with sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(applied)) or 0)

    try:
        await asyncio.sleep(5.5)  # the requests of the start have expired, unanswered
        late = event("late")
        await publish(nats_server.url, [(late.canonical(), str(late.event_id))])
        await eventually(lambda: _equals(applied_count(), 1), within=2.5)
    finally:
        consumer.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await broker.stop()
