"""NATS JetStream: the broker, the BANSOS stream, and the outbox relay
(docs/architecture.md#events–4)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bulk import one_of
from shared.db import is_sqlite, outbox, take_advisory_lock
from shared.events import utcnow
from shared.settings import CommonSettings

log = logging.getLogger("bansos.messaging")
tracer = trace.get_tracer("bansos.outbox")

SUBJECTS = ["bansos.>"]
DAY_S = 86_400


def make_broker(settings: CommonSettings) -> NatsBroker:
    return NatsBroker(
        settings.nats_url.split(","),  # a cluster is a comma-separated list of URLs
        name=settings.service_name,
        max_reconnect_attempts=-1,  # an outage is waited out, never fatal
        reconnect_time_wait=1,
        connect_timeout=2,
        middlewares=(NatsTelemetryMiddleware(tracer_provider=trace.get_tracer_provider()),),
        # The level of FastStream's per-message lines (Received / Processed): debug only.
        log_level=logging.DEBUG,
    )


def connected(broker: NatsBroker) -> Client | None:
    """The broker's NATS client while it is connected; None before the first connect or
    during an outage."""
    nc = broker._connection
    return nc if nc is not None and nc.is_connected else None


def stream_config(settings: CommonSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream_name,
        subjects=SUBJECTS,
        storage=StorageType.FILE,
        duplicate_window=settings.stream_duplicate_window_s,
        max_age=float(settings.stream_max_age_days * DAY_S),
        num_replicas=settings.stream_replicas,
    )


async def ensure_stream(js: JetStreamContext, settings: CommonSettings) -> None:
    """Create the BANSOS stream, or bring an existing one's settings up to date.

    Without `manage_stream` only checks that it exists (raises NotFoundError until then).
    """
    wanted = stream_config(settings)
    try:
        current = (await js.stream_info(settings.stream_name)).config
    except NotFoundError:
        if not settings.manage_stream:
            raise
        with contextlib.suppress(Exception):  # another service may win the race
            await js.add_stream(wanted)
            return
        current = (await js.stream_info(settings.stream_name)).config
    if not settings.manage_stream:
        return
    fields = ("subjects", "duplicate_window", "max_age", "num_replicas")
    if any(getattr(current, f) != getattr(wanted, f) for f in fields):
        await js.update_stream(wanted)


class OutboxRelay:
    """Publishes outbox rows in id order; marks them sent only after JetStream acked.

    One relay per database publishes (on PostgreSQL, a session advisory lock elects it),
    so the stream sees each service's events in the order they were committed. A row
    published twice after a crash is dropped by JetStream through `Nats-Msg-Id`.
    """

    LOCK_KEY = 0x6261_6E73  # "bans"

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        broker: NatsBroker,
        settings: CommonSettings,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._broker = broker
        self._settings = settings
        self._wake = asyncio.Event()
        self.published = 0

    def notify(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                if is_sqlite(self._settings.database_url):
                    await self._loop()
                else:
                    async with self._engine.connect() as lock_conn:
                        await take_advisory_lock(lock_conn, self.LOCK_KEY, poll_s=2.0)
                        await self._loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS or the database away: wait and go on
                log.warning("outbox relay paused: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _loop(self) -> None:
        while True:
            sent = await self.drain_once()
            if sent == 0:
                self._wake.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
                # races its timeout, and this loop would then never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._wake.wait()

    async def drain_once(self) -> int:
        nc = connected(self._broker)
        if nc is None:
            return 0
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(outbox.c.id, outbox.c.subject, outbox.c.body, outbox.c.headers)
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self._settings.outbox_batch_size)
                )
            ).all()
        if not rows:
            return 0
        await self._publish(nc.jetstream(), rows)
        async with self._sessions() as session, session.begin():
            sent = await one_of(session, outbox.c.id, [r.id for r in rows])
            await session.execute(update(outbox).where(sent).values(sent_at=utcnow()))
        self.published += len(rows)
        return len(rows)

    async def _publish(self, js: JetStreamContext, rows: Sequence[Any]) -> None:
        futures = []
        stream = self._settings.stream_name
        # One span per run of rows of one subject and one trace (a bulk import's batch
        # is thousands of them): a span costs more than the publish it describes.
        for (subject, _), run in itertools.groupby(rows, key=_trace_of):
            group = list(run)
            parent = propagate.extract(group[0].headers)
            with tracer.start_as_current_span(
                f"{subject} publish", context=parent, kind=trace.SpanKind.PRODUCER
            ) as span:
                if len(group) > 1:
                    span.set_attribute("messaging.batch.message_count", len(group))
                for row in group:
                    headers = dict(row.headers)
                    propagate.inject(headers)  # the consumer's span becomes our child
                    futures.append(
                        await js.publish_async(
                            row.subject, row.body, stream=stream, headers=headers
                        )
                    )
        async with asyncio.timeout(self._settings.outbox_ack_timeout_s):
            await asyncio.gather(*futures)


def _trace_of(row: Any) -> tuple[str, str | None]:
    headers = row.headers
    return row.subject, headers.get("traceparent") if isinstance(headers, dict) else None
