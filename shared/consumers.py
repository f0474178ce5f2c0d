"""Durable pull consumers for projections (DESIGN §5).

A batch is applied in one transaction with an inbox row per event, so redelivery is
harmless. A message that cannot be decoded is parked in `dead_letters` and acknowledged:
it never blocks the stream. A handler that fails on one message is retried on its own,
and parked once it has failed `max_deliver` times.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from faststream import AckPolicy
from faststream.nats import NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from opentelemetry import propagate, trace
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import dead_letters, inbox
from shared.events import Envelope, EventPayload, UndecodableEvent, decode, utcnow
from shared.messaging import stream_spec
from shared.settings import CommonSettings

log = logging.getLogger("bansos.consumers")
tracer = trace.get_tracer("bansos.consumers")

Handler = Callable[[AsyncSession, Envelope, EventPayload], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """What a service declares in its consumers.py; the runtime builds the consumer."""

    name: str  # the durable consumer's name, e.g. `distribution-eligibility`
    subject: str  # e.g. `bansos.registry.>`
    handle: Handler


class ProjectionConsumer:
    def __init__(
        self,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        handle: Handler,
        *,
        max_deliver: int = 5,
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._handle = handle
        self._max_deliver = max_deliver

    async def process(self, messages: Sequence[Msg]) -> list[Msg]:
        """Apply a batch; returns the messages to redeliver later (the rest may be acked)."""
        try:
            async with self._sessions() as session, session.begin():
                await self._apply(session, messages)
            return []
        except Exception:
            log.exception("%s: batch failed, retrying one by one", self.name)
        return [msg for msg in messages if not await self._apply_alone(msg)]

    async def _apply_alone(self, msg: Msg) -> bool:
        try:
            async with self._sessions() as session, session.begin():
                await self._apply(session, [msg])
            return True
        except Exception as exc:
            if _deliveries(msg) < self._max_deliver:
                return False
            async with self._sessions() as session, session.begin():
                await self._park(session, msg, f"handler failed {self._max_deliver} times: {exc}")
            return True

    async def _apply(self, session: AsyncSession, messages: Sequence[Msg]) -> None:
        """One inbox lookup and one inbox insert per batch, the handler per new event."""
        decoded: list[tuple[Msg, Envelope, EventPayload]] = []
        for msg in messages:
            try:
                decoded.append((msg, *decode(msg.data)))
            except UndecodableEvent as exc:
                await self._park(session, msg, f"undecodable: {exc}")
        seen = set(
            await session.scalars(
                select(inbox.c.event_id).where(
                    inbox.c.consumer == self.name,
                    inbox.c.event_id.in_([e.event_id for _, e, _ in decoded]),
                )
            )
        )
        done = []
        for msg, envelope, payload in decoded:
            if envelope.event_id in seen:
                continue
            seen.add(envelope.event_id)  # also once when a batch holds it twice
            # A batch has many parents: each message gets its own span in its producer's trace.
            with tracer.start_as_current_span(
                f"{msg.subject} process",
                context=propagate.extract(msg.headers or {}),
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "bansos.consumer": self.name,
                    "bansos.event_id": str(envelope.event_id),
                },
            ):
                await self._handle(session, envelope, payload)
            done.append({"consumer": self.name, "event_id": envelope.event_id})
        if done:
            now = utcnow()
            await session.execute(insert(inbox), [{**row, "processed_at": now} for row in done])

    async def _park(self, session: AsyncSession, msg: Msg, reason: str) -> None:
        seq = _stream_seq(msg)
        if seq is not None and await session.scalar(
            select(dead_letters.c.id).where(
                dead_letters.c.consumer == self.name, dead_letters.c.stream_seq == seq
            )
        ):
            return  # parked on an earlier delivery
        log.warning("%s: dead-lettering %s: %s", self.name, msg.subject, reason[:200])
        await session.execute(
            insert(dead_letters).values(
                consumer=self.name,
                stream_seq=seq,
                subject=msg.subject,
                raw=msg.data,
                reason=reason,
                received_at=utcnow(),
            )
        )

    def subscribe(
        self, broker: NatsBroker, settings: CommonSettings, subject: str, batch_size: int = 200
    ) -> Any:
        """Register the durable pull subscriber on `broker` (started with the broker)."""

        @broker.subscriber(
            subject,
            stream=stream_spec(settings),
            durable=self.name,
            # FastStream waits up to `timeout` to fill a batch: short, so that a quiet
            # stream's events are applied within about a tenth of a second.
            pull_sub=PullSub(batch_size=batch_size, timeout=0.1, batch=True),
            ack_policy=AckPolicy.MANUAL,
        )
        async def on_batch(message: NatsMessage) -> None:
            raw: list[Msg] = list(message.raw_message)  # type: ignore[call-overload]
            try:
                retry = await self.process(raw)
            except Exception:  # the database is away: everything comes back later
                retry = raw
            for msg in raw:
                if any(msg is r for r in retry):
                    await msg.nak(delay=1.0)
                else:
                    await msg.ack()

        return on_batch


def _stream_seq(msg: Msg) -> int | None:
    try:
        return int(msg.metadata.sequence.stream)
    except Exception:
        return None


def _deliveries(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1
