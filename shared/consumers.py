"""Durable pull consumers for projections (docs/architecture.md#the-read-path), on the broker's
NATS connection.

A batch is applied in one transaction with an inbox row per event, so redelivery is
harmless. A message that cannot be decoded is parked in `dead_letters` and acknowledged:
it never blocks the stream. When a batch fails, its messages are applied one by one; one
that fails alone becomes a *suspect*: redelivered, it is applied on its own, never again
inside a batch whose healthy messages it would roll back, and it is parked once it has
failed `max_deliver` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import propagate, trace
from sqlalchemy import insert, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import dead_letters, inbox
from shared.events import Envelope, EventPayload, UndecodableEvent, decode, utcnow
from shared.messaging import connected
from shared.settings import CommonSettings

log = logging.getLogger("bansos.consumers")
tracer = trace.get_tracer("bansos.consumers")

Handler = Callable[[AsyncSession, Envelope, EventPayload], Awaitable[None]]
# The stream sequence of the message a handler is given, for one that must place its event
# in the audit ledger (whose leaf of it has an index below it: services/audit/consumers.py).
stream_seq: ContextVar[int | None] = ContextVar("stream_seq", default=None)


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
        self._suspects: set[int] = set()  # stream sequences that failed on their own
        # nats-py's requests wait with asyncio.wait_for, which on Python 3.11 can swallow a
        # cancellation (say, one that lands while the durable consumer is being looked
        # up): a stop is therefore also signalled, and every wait also watches for it.
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def process(self, messages: Sequence[Msg]) -> list[Msg]:
        """Apply a batch; returns the messages to redeliver later (the rest may be acked).
        Known suspects are kept out of the batch and applied alone."""
        healthy = [m for m in messages if _stream_seq(m) not in self._suspects]
        alone = [m for m in messages if _stream_seq(m) in self._suspects]
        if healthy:
            try:
                async with self._sessions() as session, session.begin():
                    await self._apply(session, healthy)
            except Exception as exc:
                if _unavailable(exc):
                    raise  # the database is away: everything comes back later
                log.warning(
                    "%s: a batch of %d failed (%s); one by one", self.name, len(healthy), exc
                )
                alone = healthy + alone
        return [msg for msg in alone if not await self._apply_alone(msg)]

    async def _apply_alone(self, msg: Msg) -> bool:
        seq = _stream_seq(msg)
        try:
            async with self._sessions() as session, session.begin():
                await self._apply(session, [msg])
        except Exception as exc:
            if _unavailable(exc):
                raise
            if seq is not None:
                self._suspects.add(seq)
            deliveries = _deliveries(msg)
            log.warning(
                "%s: %s (stream seq %s) failed, delivery %d of %d: %s",
                self.name,
                msg.subject,
                seq,
                deliveries,
                self._max_deliver,
                exc,
            )
            if deliveries < self._max_deliver:
                return False
            async with self._sessions() as session, session.begin():
                await self._park(session, msg, f"handler failed {self._max_deliver} times: {exc}")
        self._suspects.discard(seq)
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
                placed = stream_seq.set(_stream_seq(msg))
                try:
                    await self._handle(session, envelope, payload)
                finally:
                    stream_seq.reset(placed)
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

    async def run(
        self, broker: NatsBroker, settings: CommonSettings, subject: str, batch_size: int = 200
    ) -> None:
        """Consume until cancelled. The durable consumer remembers where it was, so an
        outage or an error is waited out and consumption resumes from there."""
        delay = 0.2
        while not self._stopping.is_set():
            try:
                await self._consume(broker, settings, subject, batch_size)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping.is_set():
                    return
                log.warning("%s: consumer restarts in %.1f s: %s", self.name, delay, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, 5.0)

    async def _consume(
        self, broker: NatsBroker, settings: CommonSettings, subject: str, batch_size: int
    ) -> None:
        nc = connected(broker)
        if nc is None:
            raise ConnectionError("NATS not connected")
        sub = await nc.jetstream().pull_subscribe(
            subject,
            durable=self.name,
            stream=settings.stream_name,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30.0,
                max_ack_pending=batch_size * 4,
            ),
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                # fetch() returns as soon as messages are there (up to a batch): a long
                # timeout costs no latency, and leaves nats-py no room to give up half-way
                # through a fetch (a short one did, holding messages until their redelivery
                # 30 s later). It runs as its own task, raced against the stop signal.
                fetching = asyncio.ensure_future(sub.fetch(batch_size, timeout=5.0))
                try:
                    await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if not fetching.done():
                        fetching.cancel()  # unacked messages it may get come back later
                if self._stopping.is_set():
                    return
                try:
                    msgs = fetching.result()
                except (TimeoutError, NatsTimeout):
                    continue  # a quiet stream
                try:
                    retry = await self.process(msgs)
                except Exception:  # the database is away: everything comes back later
                    log.exception("%s: batch not applied; redelivered shortly", self.name)
                    retry = msgs
                again = {id(m) for m in retry}
                for msg in msgs:
                    if id(msg) in again:
                        await msg.nak(delay=1.0)
                    else:
                        await msg.ack()
        finally:
            stopping.cancel()
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


def _stream_seq(msg: Msg) -> int | None:
    try:
        return int(msg.metadata.sequence.stream)
    except Exception:
        return None


def _unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (not a message's fault): retry all of them later."""
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)


def _deliveries(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1
