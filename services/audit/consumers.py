"""Ingest: the whole BANSOS stream, in stream order, into the ledger; and checkpoints.

Not a projection consumer (shared/consumers.py, `SERVICE.consumers`), on purpose: those
are durable consumers that acknowledge each message, and an unacknowledged message comes
back after `ack_wait` interleaved with newer ones (nats-server #6114, #7106). A projection
only needs each event once, which its inbox gives it, and parks what it cannot decode;
the ledger needs every message once *in stream order* (a leaf's index is its place in
the tree), and a message that is not a valid event becomes a flagged leaf. So it keeps its own
cursor (the last stream sequence, stored in the same transaction as the leaves) and reads
with an ordered consumer (ephemeral, no acks) started right after that cursor, recreated
from the cursor after any failure or NATS restart. `service.setup` runs it, and the
checkpoint loop, as the runtime's background tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.audit.domain.leaf import make_leaves
from services.audit.ledger import Ledger
from services.audit.settings import AuditSettings
from shared.consumers import stream_seq
from shared.messaging import connected

log = logging.getLogger("bansos.audit")


class StaleConsumer(RuntimeError):
    """The stream has messages past the cursor but the consumer delivers none."""


class Ingestor:
    """The ledger's single writer's feed: batches of messages, hashed and appended."""

    def __init__(self, ledger: Ledger, broker: NatsBroker, settings: AuditSettings) -> None:
        self.ledger = ledger
        self.broker = broker
        self.settings = settings
        self.ingested = 0

    async def run(self) -> None:
        delay = 0.2
        while True:
            progress = self.ingested
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "ledger ingest restarts from stream seq %s: %s",
                    self.ledger.last_stream_seq + 1,
                    exc,
                )
                delay = 0.2 if self.ingested > progress else min(delay * 2, 5.0)
                await asyncio.sleep(delay)

    async def _consume(self) -> None:
        nc = connected(self.broker)
        if nc is None:
            raise ConnectionError("NATS not connected")
        js = nc.jetstream()
        # An ordered push consumer: the server streams in order under flow control, and
        # the client resets it from the last sequence it saw on any gap. Per message it
        # costs a fraction of a pull fetch, which creates a task per message.
        inbox: list[Msg] = []
        arrived = asyncio.Event()
        room = asyncio.Event()
        room.set()
        limit = 4 * self.settings.ingest_batch

        async def deliver(msg: Msg) -> None:
            inbox.append(msg)
            arrived.set()
            if len(inbox) >= limit:
                # Holding delivery back holds back flow control, and so the server.
                room.clear()
                await room.wait()

        sub = await js.subscribe(
            "bansos.>",
            stream=self.settings.stream_name,
            cb=deliver,
            ordered_consumer=True,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=self.ledger.last_stream_seq + 1,
                inactive_threshold=60.0,
            ),
        )
        # While one batch is written, the next is hashed: appends still run one after
        # another, in stream order.
        writing: asyncio.Task[int] | None = None
        try:
            while True:
                try:
                    async with asyncio.timeout(1.0):
                        await arrived.wait()
                except TimeoutError:
                    if writing is not None:
                        self.ingested += await writing
                        writing = None
                    await self._check_not_stale(js)
                    continue
                msgs = inbox[:]
                inbox.clear()
                arrived.clear()
                room.set()
                batch = make_leaves([(stream_seq(m), m.subject, m.data) for m in msgs])
                if writing is not None:
                    self.ingested += await writing
                writing = asyncio.create_task(self.ledger.append(batch))
        finally:
            if writing is not None:
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _check_not_stale(self, js: object) -> None:
        """An idle consumer is fine; one that misses existing messages (e.g. it vanished
        with a NATS restart) is recreated."""
        info = await js.stream_info(self.settings.stream_name)  # type: ignore[attr-defined]
        if info.state.last_seq > self.ledger.last_stream_seq:
            raise StaleConsumer(
                f"stream at {info.state.last_seq}, ledger at {self.ledger.last_stream_seq}"
            )


async def checkpoint_loop(ledger: Ledger, interval: float) -> None:
    """Sign a checkpoint as soon as the tree grew, at most one per `interval` seconds: an
    event is in a signed checkpoint within milliseconds of its append when the ledger is
    quiet, and within `interval` under load (rather than a fixed poll's full period)."""
    loop = asyncio.get_running_loop()
    while True:
        ledger.grown.clear()
        started = loop.time()
        try:
            await ledger.checkpoint()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("checkpoint failed: %s", exc)
        # Spaced from one signing's start to the next: the signing's own time (its
        # transaction) is not added to every event's wait.
        await asyncio.sleep(max(0.0, interval - (loop.time() - started)))
        with contextlib.suppress(TimeoutError):  # and once in a while regardless
            async with asyncio.timeout(5.0):
                await ledger.grown.wait()
