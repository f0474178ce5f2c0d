"""A durable pull consumer's messages, asked for ahead of need (shared/consumers.py).

nats-py's `fetch` waits for each message of a batch with a task, a timer and a uuid of
its own: at a few thousand messages a second that was a sixth of a projection's time.
Here the server is sent pull requests (`$JS.API.CONSUMER.MSG.NEXT`, up to two of a
batch each, outstanding), its deliveries land in a callback that queues them, and a
batch is what has arrived: a quiet stream answers the next message as soon as it is
published (a waiting request delivers it), a busy one fills batches while the previous
batch is applied.

The server ends a request with a status message (408 when it expires, 409 when the
consumer is gone, is being moved, or the request was refused), on the inbox and without
a reply subject: stream messages always have one (`$JS.ACK.…`), so a publisher's own
`Status` header cannot pass for one. A request whose end never comes (the connection
dropped, the server restarted) is forgotten once its expiry is past, or at a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription


@dataclass(slots=True)
class _Request:
    expires_at: float  # by the loop's clock, a little after the server's expiry
    left: int  # messages asked for and not yet delivered


class Pull:
    def __init__(
        self, nc: Client, stream: str, durable: str, batch: int, expires: float = 5.0
    ) -> None:
        self._nc = nc
        self._subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = nc.new_inbox()
        self._batch = batch
        self._expires = expires
        self._ready: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._requests: deque[_Request] = deque()  # oldest first, as the server serves them
        self._reconnects = nc.stats["reconnects"]
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(self._inbox, cb=self._received)

    async def close(self) -> None:
        """Unsubscribe; what arrived and was not taken is nak'd, to come back at once."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        while self._ready:
            with contextlib.suppress(Exception):
                await self._ready.popleft().nak()

    async def next_batch(self, stopping: asyncio.Event, wait: float = 5.0) -> list[Msg]:
        """Up to a batch of the messages that have arrived, waiting for the first one
        for at most `wait` seconds, until `stopping` is set, or until a request ends
        or is due to be forgotten (then: none, and the caller asks again)."""
        await self._ask()
        if not self._ready:
            self._arrived.clear()
            if self._requests:  # not past the oldest request's end, had the 408 been lost
                now = asyncio.get_running_loop().time()
                wait = max(0.0, min(wait, self._requests[0].expires_at - now))
            arrived = asyncio.ensure_future(self._arrived.wait())
            stop = asyncio.ensure_future(stopping.wait())
            try:
                first = asyncio.FIRST_COMPLETED
                await asyncio.wait({arrived, stop}, timeout=wait, return_when=first)
            finally:
                arrived.cancel()
                stop.cancel()
            if stopping.is_set():
                return []
        ready = self._ready
        msgs = [ready.popleft() for _ in range(min(self._batch, len(ready)))]
        await self._ask()
        return msgs

    async def _ask(self) -> None:
        """Keep two batches asked for or waiting: the server delivers no more than
        the consumer's max_ack_pending unacknowledged anyway."""
        now = asyncio.get_running_loop().time()
        reconnects = self._nc.stats["reconnects"]
        if reconnects != self._reconnects:
            self._reconnects = reconnects
            self._requests.clear()  # the server may have forgotten them
        while self._requests and self._requests[0].expires_at < now:
            self._requests.popleft()  # expired, and its end not seen
        asked = sum(r.left for r in self._requests)
        while len(self._ready) + asked + self._batch <= 2 * self._batch:
            request = {"batch": self._batch, "expires": int(self._expires * 1e9)}
            await self._nc.publish(self._subject, json.dumps(request).encode(), self._inbox)
            # Forgotten a little after the server's expiry, so that its 408 counts first.
            self._requests.append(_Request(now + self._expires + 1.0, self._batch))
            asked += self._batch

    async def _received(self, msg: Msg) -> None:
        requests = self._requests
        if msg.reply:  # a stream message, with its ack subject
            self._ready.append(msg)
            self._arrived.set()
            if requests:
                requests[0].left -= 1
                if requests[0].left <= 0:
                    requests.popleft()
            return
        headers = msg.headers or {}
        if headers.get("Status") == "100":
            return  # a heartbeat: none is asked for
        # Any other status ends the oldest request (408 expired, 409 and the rest: ended):
        # the waiting batch wakes up empty-handed, so that another is asked for at once.
        if requests:
            requests.popleft()
        self._arrived.set()
