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
from uuid import UUID

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace
from sqlalchemy import Uuid, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import dead_letters, inbox
from shared.events import Envelope, EventPayload, UndecodableEvent, decode, utcnow
from shared.messaging import connected
from shared.pull import Pull
from shared.settings import CommonSettings

log = logging.getLogger("bansos.consumers")
tracer = trace.get_tracer("bansos.consumers")

Handler = Callable[[AsyncSession, Envelope, EventPayload], Awaitable[None]]
# A batch's new events at once, in stream order, with the same effect as `Handler` on each
# in turn: a projection that reads and writes its rows per batch instead of per event.
BatchHandler = Callable[[AsyncSession, Sequence[tuple[Envelope, EventPayload]]], Awaitable[None]]
# The stream sequence of the message a (per-event) handler is given, for one that must
# place its event in the audit ledger (whose leaf of it has an index below it:
# services/audit/consumers.py).
current_stream_seq: ContextVar[int | None] = ContextVar("current_stream_seq", default=None)


@dataclass(frozen=True)
class Subscription:
    """What a service declares in its consumers.py; the runtime builds the consumer."""

    name: str  # the durable consumer's name, e.g. `distribution-eligibility`
    subject: str  # e.g. `bansos.registry.>`
    handle: Handler
    handle_batch: BatchHandler | None = None  # used instead of `handle` when given


class ProjectionConsumer:
    def __init__(
        self,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        handle: Handler,
        *,
        max_deliver: int = 5,
        handle_batch: BatchHandler | None = None,
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._handle = handle
        self._handle_batch = handle_batch
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
        """One inbox insert per batch, then the handler for the events it inserted."""
        decoded: list[tuple[Msg, Envelope, EventPayload]] = []
        for msg in messages:
            try:
                decoded.append((msg, *decode(msg.data)))
            except UndecodableEvent as exc:
                await self._park(session, msg, f"undecodable: {exc}")
        once: dict[UUID, tuple[Msg, Envelope, EventPayload]] = {}
        for item in decoded:
            once.setdefault(item[1].event_id, item)  # a batch may hold an event twice
        # The inbox rows first, skipping those already there: what is inserted is what is
        # new (in the transaction: a failure below takes them back). A lookup by a list of
        # a whole batch's ids went wrong at scale: PostgreSQL's cached generic plan for
        # that statement, made while the inbox was small, scanned the whole inbox later.
        new = await self._insert_inbox(session, list(once)) if once else set()
        fresh = [item for event_id, item in once.items() if event_id in new]
        if not fresh:
            return
        if self._handle_batch is not None:
            # One span for the batch, linked to each message's producer span.
            links = [
                trace.Link(span.get_span_context())
                for msg, _, _ in fresh
                if (span := trace.get_current_span(propagate.extract(msg.headers or {})))
                .get_span_context()
                .is_valid
            ]
            with tracer.start_as_current_span(
                f"{fresh[0][0].subject} process",
                kind=trace.SpanKind.CONSUMER,
                links=links,
                attributes={"bansos.consumer": self.name, "bansos.batch_size": len(fresh)},
            ):
                await self._handle_batch(session, [(e, p) for _, e, p in fresh])
        else:
            for msg, envelope, payload in fresh:
                # A batch has many parents: each message gets its own span in its
                # producer's trace.
                with tracer.start_as_current_span(
                    f"{msg.subject} process",
                    context=propagate.extract(msg.headers or {}),
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "bansos.consumer": self.name,
                        "bansos.event_id": str(envelope.event_id),
                    },
                ):
                    placed = current_stream_seq.set(_stream_seq(msg))
                    try:
                        await self._handle(session, envelope, payload)
                    finally:
                        current_stream_seq.reset(placed)

    async def _insert_inbox(self, session: AsyncSession, event_ids: list[UUID]) -> set[UUID]:
        """Insert the inbox rows of these events, skipping those there: the ids inserted."""
        now = utcnow()
        if session.get_bind().dialect.name == "postgresql":
            # The ids as one array: one statement whatever the batch's size (prepared
            # once, no parameters per row for SQLAlchemy to process one by one).
            ids = {"consumer": self.name, "event_ids": event_ids, "now": now}
            return set(await session.scalars(_INBOX_UNNEST, ids))
        rows = [{"consumer": self.name, "event_id": e, "processed_at": now} for e in event_ids]
        return set(await session.scalars(_INBOX_VALUES, rows))

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
        self, broker: NatsBroker, settings: CommonSettings, subject: str, batch_size: int = 500
    ) -> None:
        """Consume until cancelled. The durable consumer remembers where it was, so an
        outage or an error is waited out and consumption resumes from there.

        Batches of up to 500: a batch costs a transaction, an inbox insert and its
        handler's statements whatever its size (the households projection: about 20 %
        faster than batches of 200, benchmarks/README.md). A durable consumer created
        with a smaller max_ack_pending (4 × 200 before) keeps it: its batches are
        smaller."""
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
        js = nc.jetstream()
        try:
            await js.consumer_info(settings.stream_name, self.name)
        except NotFoundError:
            await js.add_consumer(
                settings.stream_name,
                ConsumerConfig(
                    name=self.name,
                    durable_name=self.name,
                    filter_subject=subject,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=30.0,
                    max_ack_pending=batch_size * 4,
                ),
            )
        # Messages are asked for ahead (shared/pull.py): the next batch arrives while
        # this one is applied.
        pull = Pull(nc, settings.stream_name, self.name, batch_size)
        await pull.start()
        try:
            while not self._stopping.is_set():
                msgs = await pull.next_batch(self._stopping)
                if not msgs:
                    continue  # a quiet stream, or a stop
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
            await pull.close()


_INBOX_COLUMNS = ["consumer", "event_id", "processed_at"]
_INBOX_UNNEST = (
    postgresql.insert(inbox)
    .from_select(
        _INBOX_COLUMNS,
        select(
            bindparam("consumer", type_=inbox.c.consumer.type),
            func.unnest(bindparam("event_ids", type_=postgresql.ARRAY(Uuid))),
            bindparam("now", type_=inbox.c.processed_at.type),
        ),
    )
    .on_conflict_do_nothing()
    .returning(inbox.c.event_id)
)
_INBOX_VALUES = sqlite.insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)


def _stream_seq(msg: Msg) -> int | None:
    try:
        return stream_seq(msg)
    except Exception:
        return None


def stream_seq(msg: Msg) -> int:
    """A JetStream message's stream sequence, read from its reply subject as nats-py reads
    it (`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.…`, 9 tokens, or with domain
    and account hash before the stream, 11 or more). `msg.metadata` parses every token and
    builds a datetime: a few µs a message on hot paths, for one number."""
    tokens = (msg.reply or "").split(".")
    if tokens[0] == "$JS" and len(tokens) >= 9 and tokens[1] == "ACK":
        if len(tokens) == 9:
            return int(tokens[5])
        if len(tokens) >= 11:
            return int(tokens[7])
    return int(msg.metadata.sequence.stream)  # anything else: nats-py's reading, or its error


def _unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (not a message's fault): retry all of them later."""
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)


def _deliveries(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1
