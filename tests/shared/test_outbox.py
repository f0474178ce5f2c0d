"""The outbox relay against a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import pytest
from faststream.nats import NatsBroker
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import eventstore
from shared.db import make_engine, migrate, outbox, sessionmaker
from shared.events import Envelope
from shared.events.registry import HouseholdUpdated
from shared.messaging import OutboxRelay, ensure_stream, make_broker
from shared.settings import CommonSettings
from tests.helpers import NatsServer, eventually, stream_messages


@dataclass
class Rig:
    settings: CommonSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: NatsBroker
    relay: OutboxRelay


@pytest.fixture
async def rig(database_url: str, nats_server: NatsServer) -> AsyncIterator[Rig]:
    settings = CommonSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        outbox_batch_size=50,
        outbox_ack_timeout_s=2,
    )
    engine = make_engine(database_url)
    await migrate(engine, [])
    sessions = sessionmaker(engine)
    broker = make_broker(settings)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    yield Rig(settings, engine, sessions, broker, OutboxRelay(engine, sessions, broker, settings))
    await broker.stop()
    await engine.dispose()


async def append_updates(rig: Rig, transactions: int, per_transaction: int) -> list[Envelope]:
    written: list[Envelope] = []
    for _ in range(transactions):
        hid = uuid4()
        batch = [
            Envelope.wrap(
                HouseholdUpdated(rt=f"{v:03d}", changed=("rt",)),
                aggregate_id=hid,
                aggregate_version=v,
                actor="tester",
            )
            for v in range(1, per_transaction + 1)
        ]
        async with rig.sessions() as s, s.begin():
            await eventstore.append(s, batch)
        written += batch
    return written


async def drain(rig: Rig) -> int:
    total = 0
    while sent := await rig.relay.drain_once():
        total += sent
    return total


async def unsent(rig: Rig) -> int:
    async with rig.sessions() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
            or 0
        )


async def test_the_relay_publishes_in_commit_order_with_the_event_id_as_msg_id(
    rig: Rig, nats_server: NatsServer
) -> None:
    written = await append_updates(rig, transactions=30, per_transaction=4)
    assert await drain(rig) == 120
    messages = await stream_messages(nats_server.url)
    assert [m.headers["Nats-Msg-Id"] for m in messages] == [str(e.event_id) for e in written]
    assert {m.subject for m in messages} == {"bansos.registry.household_updated"}
    assert [Envelope.model_validate_json(m.data) for m in messages] == written
    assert await unsent(rig) == 0


async def test_a_crash_between_publish_and_mark_duplicates_nothing(
    rig: Rig, nats_server: NatsServer
) -> None:
    await append_updates(rig, transactions=10, per_transaction=2)
    await drain(rig)
    async with rig.sessions() as s, s.begin():  # as if the process died before marking
        await s.execute(update(outbox).values(sent_at=None))
    assert await drain(rig) == 20
    assert len(await stream_messages(nats_server.url)) == 20


async def test_events_wait_in_the_outbox_while_nats_is_down(
    rig: Rig, nats_server: NatsServer
) -> None:
    nats_server.stop()
    await eventually(lambda: not rig.broker.connection.is_connected)
    await append_updates(rig, transactions=5, per_transaction=1)
    assert await rig.relay.drain_once() == 0
    assert await unsent(rig) == 5
    nats_server.start()
    await eventually(lambda: rig.broker.connection.is_connected)
    assert await drain(rig) == 5
    assert len(await stream_messages(nats_server.url)) == 5
