"""Audit benchmark: ingest events/s against two raw nats-py reads of the same stream (an
ordered push consumer with a no-op callback, the in-order limit that ingest is compared
with, and a pull fetch + ack per message); inclusion-proof latency at 1,000,000 leaves;
checkpoint lag at 1,000 events/s; and the service's peak RSS serving a 1,000,000-leaf ledger.

Run from the repository root: .venv/bin/python -m benchmarks.audit [--events N] [--leaves N]
[--lag-seconds N] [--backends sqlite,postgres] [--profile FILE.html] (0 skips a part)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from benchmarks.common import nats_server, postgres_database, service, sqlite_url
from services.audit.consumers import Ingestor
from services.audit.domain.leaf import make_leaves
from services.audit.ledger import Ledger
from services.audit.ledger import inclusion as inclusion_proof
from services.audit.settings import AuditSettings
from shared.checkpoint import Signer, load_or_create_key
from shared.db import make_engine, migrate
from shared.events import Envelope
from shared.events.registry import HouseholdUpdated
from shared.messaging import ensure_stream, make_broker
from shared.runtime import freeze_startup_heap
from shared.settings import CommonSettings

MIGRATIONS = Path(__file__).parents[1] / "services" / "audit" / "migrations"


def body(i: int) -> bytes:
    return Envelope.wrap(
        HouseholdUpdated(rt=f"{i % 999 + 1:03d}", changed=("rt",)),
        aggregate_id=uuid4(),
        aggregate_version=1,
        actor="bench",
    ).canonical()


async def publish(url: str, n: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_stream(js, CommonSettings(nats_url=url))
    for start in range(0, n, 5000):
        futures = [
            await js.publish_async("bansos.registry.household_updated", body(i))
            for i in range(start, min(n, start + 5000))
        ]
        await asyncio.gather(*futures)
    await nc.close()


async def raw_pull_consume(url: str, n: int) -> float:
    """The baseline: fetch(1000) with an ack per message (a durable consumer's way)."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        "bansos.>",
        durable=None,
        stream="BANSOS",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT),
    )
    got, started = 0, time.perf_counter()
    while got < n:
        for msg in await sub.fetch(1000, timeout=5):
            await msg.ack()
            got += 1
    elapsed = time.perf_counter() - started
    await nc.close()
    return n / elapsed


async def raw_ordered_consume(url: str, n: int) -> float:
    """The in-order baseline: an ordered push consumer (flow control, idle heartbeats, no
    acks) with a no-op callback, as ingest reads the stream."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    got = 0
    done = asyncio.Event()

    async def noop(msg: Msg) -> None:
        nonlocal got
        got += 1
        if got >= n:
            done.set()

    started = time.perf_counter()
    sub = await js.subscribe(
        "bansos.>",
        stream="BANSOS",
        cb=noop,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    await asyncio.wait_for(done.wait(), timeout=120)
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    await nc.close()
    return n / elapsed


async def ingest_rate(url: str, database_url: str, key_dir: Path, n: int) -> float:
    settings = AuditSettings(nats_url=url, database_url=database_url)
    engine = make_engine(database_url)
    await migrate(engine, [MIGRATIONS])
    ledger = Ledger(engine, Signer("bench", load_or_create_key(key_dir / "k.pem")), "bench")
    await ledger.load()
    broker = make_broker(settings)
    await broker.connect()
    ingestor = Ingestor(ledger, broker, settings)
    freeze_startup_heap()  # as the service does once started
    started = time.perf_counter()
    task = asyncio.create_task(ingestor.run())
    while ledger.size < n:  # noqa: ASYNC110 - polling the size is the measurement
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await broker.stop()
    await engine.dispose()
    return n / elapsed


async def build_ledger(database_url: str, key_dir: Path, n: int) -> Ledger:
    """A large ledger, appended through the same code path as ingest (flagged leaves of
    synthetic messages, each with its salt and content in the private store)."""
    engine = make_engine(database_url)
    await migrate(engine, [MIGRATIONS])
    ledger = Ledger(engine, Signer("bench", load_or_create_key(key_dir / "k.pem")), "bench")
    await ledger.load()
    batch = 20_000
    for start in range(ledger.size, n, batch):
        messages = [
            (seq, "bansos.bench.x", b"bench message %d" % seq)
            for seq in range(start + 1, min(n, start + batch) + 1)
        ]
        await ledger.append(make_leaves(messages))
    await ledger.checkpoint()
    return ledger


async def proof_latency(ledger: Ledger, samples: int) -> tuple[float, float]:
    rng = random.Random(1)
    times = []
    async with ledger.engine.connect() as conn:
        for _ in range(samples):
            index = rng.randrange(ledger.size)
            started = time.perf_counter()
            await inclusion_proof(conn, index, ledger.size)
            times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000


async def checkpoint_lag(
    audit_url: str, nats_url: str, rate: int, seconds: int
) -> tuple[float, float]:
    """Publish at `rate`/s; lag = first signed checkpoint covering an event - its publish.
    Returns the p50 and p99 in ms."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    published: dict[int, float] = {}
    covered: dict[int, float] = {}
    done = asyncio.Event()

    async def watch() -> None:
        async with httpx.AsyncClient(base_url=audit_url) as client:
            seen = 0
            while not (done.is_set() and seen >= max(published, default=0)):
                size = (await client.get("/ledger/checkpoint.json")).json()["tree_size"]
                now = time.perf_counter()
                for seq in range(seen + 1, size + 1):
                    covered[seq] = now
                seen = max(seen, size)
                await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    for i in range(rate * seconds):
        target = start + i / rate
        if (delay := target - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        ack = await js.publish("bansos.registry.household_updated", body(i))
        published[ack.seq] = time.perf_counter()
    done.set()
    await asyncio.wait_for(watcher, timeout=60)
    await nc.close()
    lags = sorted(covered[s] - t for s, t in published.items() if s in covered)
    return lags[len(lags) // 2] * 1000, lags[int(len(lags) * 0.99)] * 1000


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--leaves", type=int, default=1_000_000, help="0 skips the big ledger")
    parser.add_argument("--lag-seconds", type=int, default=15, help="0 skips the lag run")
    parser.add_argument("--backends", default="sqlite,postgres", help="ingest on which")
    parser.add_argument("--profile", help="write a pyinstrument HTML of PostgreSQL ingest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with nats_server() as url:
            await publish(url, args.events)
            pull = await raw_pull_consume(url, args.events)
            ordered = await raw_ordered_consume(url, args.events)
            print(f"raw nats-py pull consume (fetch 1000, ack each): {pull:8.0f} msg/s")
            print(f"raw nats-py ordered push consumer, no-op cb    : {ordered:8.0f} msg/s")
            backends = args.backends.split(",")
            if "sqlite" in backends:
                rate = await ingest_rate(url, sqlite_url(work, "ingest"), work, args.events)
                report("sqlite", args.events, rate, pull, ordered)
            if "postgres" in backends:
                async with postgres_database() as database_url:
                    with profiled(args.profile):
                        rate = await ingest_rate(url, database_url, work, args.events)
                report("postgres", args.events, rate, pull, ordered)
            print(f"benchmark process peak RSS (ingest in-process) : {own_peak_rss_mib():8.0f} MiB")
        if args.leaves:
            await big_ledger(work, args.leaves)
        if args.lag_seconds:
            for backend in args.backends.split(","):
                async with contextlib.AsyncExitStack() as stack:
                    url = stack.enter_context(nats_server())
                    database = (
                        await stack.enter_async_context(postgres_database())
                        if backend == "postgres"
                        else sqlite_url(work, "lag")
                    )
                    audit = stack.enter_context(service("audit", database, url))
                    p50, p99 = await checkpoint_lag(audit.url, url, 1000, args.lag_seconds)
                print(
                    f"checkpoint lag at 1000 events/s, {backend:<8}   : "
                    f"p50 {p50:5.0f} ms, p99 {p99:5.0f} ms"
                )


def report(backend: str, n: int, rate: float, pull: float, ordered: float) -> None:
    print(
        f"ledger ingest, {backend}, {n} events: {rate:8.0f} ev/s "
        f"({rate / ordered:.0%} of the ordered read, {rate / pull:.0%} of pull + ack)"
    )


@contextlib.contextmanager
def profiled(path: str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    from pyinstrument import Profiler  # a development tool, not a dependency

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        Path(path).write_text(profiler.output_html())
        print(
            profiler.output_text(
                unicode=False, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))
            )[:20000]
        )


def own_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def big_ledger(work: Path, n: int) -> None:
    started = time.perf_counter()
    big = sqlite_url(work, "big")
    ledger = await build_ledger(big, work, n)
    print(f"built a {ledger.size}-leaf ledger in {time.perf_counter() - started:.0f} s")
    p50, p99 = await proof_latency(ledger, 2000)
    print(
        f"inclusion proof at {ledger.size} leaves (in-process): p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    await ledger.engine.dispose()
    with nats_server() as url, service("audit", big, url) as audit:
        async with httpx.AsyncClient(base_url=audit.url) as client:
            rng = random.Random(2)
            started = time.perf_counter()
            for _ in range(500):
                await client.get(f"/ledger/entries/{rng.randrange(n)}/proof")
            per = (time.perf_counter() - started) / 500 * 1000
        print(f"inclusion proof over HTTP at {n} leaves: {per:.2f} ms mean")
        print(f"audit service peak RSS serving {n} leaves: {peak_rss_mib(audit.pid):.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
