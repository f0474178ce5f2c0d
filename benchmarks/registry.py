"""Registry benchmark: registrations/s over HTTP (one worker, SQLite and PostgreSQL),
outbox relay events/s, and a raw nats-py publish_async baseline on the same server.

Run from the repository root: .venv/bin/python -m benchmarks.registry [--households N] [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import nats

from benchmarks.common import nats_server, postgres_database, service, sqlite_url
from benchmarks.http_load import Load, post_each, trivial_service
from services.registry import demo
from shared import eventstore
from shared.auth import Role, issue_token
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope
from shared.events.registry import HouseholdUpdated
from shared.messaging import OutboxRelay, ensure_stream, make_broker
from shared.settings import CommonSettings


def bodies(households: int) -> list[dict[str, object]]:
    """Demo households with no NIK or No. KK twice (a repeat would be a 409)."""
    rng = random.Random(7)
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    while len(out) < households:
        body = demo.household(rng, f"{1 + len(out) % 10:02d}")
        keys = {body["kk_number"], *(m["nik"] for m in body["members"])}
        if keys.isdisjoint(seen):
            seen |= keys
            out.append(body)
    return out


def registrations(url: str, households: int, concurrency: int) -> Load:
    token = issue_token(CommonSettings(), "bench", Role.registry_operator)
    load = post_each(url, "/households", bodies(households), token, connections=concurrency)
    if load.created < households * 0.99:
        raise SystemExit(f"too many failed registrations: {households - load.created}")
    return load


def report(label: str, load: Load) -> None:
    print(
        f"  {label:43}: {load.per_second:8.0f} /s"
        f"  ({load.created} in {load.seconds:.1f} s, {load.refused} refused)"
    )


def sample_events(n: int) -> list[Envelope]:
    return [
        Envelope.wrap(
            HouseholdUpdated(
                rt=f"{i % 999 + 1:03d}", monthly_income_idr=i, changed=("monthly_income_idr", "rt")
            ),
            aggregate_id=uuid4(),
            aggregate_version=1,
            actor="bench",
        )
        for i in range(n)
    ]


async def relay_events_per_second(database_url: str, nats_url: str, n: int) -> float:
    settings = CommonSettings(database_url=database_url, nats_url=nats_url)
    engine = make_engine(database_url)
    await migrate(engine, [])
    sessions = sessionmaker(engine)
    events = sample_events(n)
    for i in range(0, n, 1000):
        async with sessions() as s, s.begin():
            await eventstore.append(s, events[i : i + 1000])
    broker = make_broker(settings)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream(), settings)
    relay = OutboxRelay(engine, sessions, broker, settings)
    started = time.perf_counter()
    sent = 0
    while batch := await relay.drain_once():
        sent += batch
    elapsed = time.perf_counter() - started
    await broker.stop()
    await engine.dispose()
    assert sent == n, (sent, n)
    return n / elapsed


async def raw_publish_async_per_second(nats_url: str, n: int) -> float:
    bodies = [e.canonical() for e in sample_events(n)]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, CommonSettings(nats_url=nats_url))
    started = time.perf_counter()
    futures = [
        await js.publish_async(
            "bansos.registry.household_updated", body, headers={"Nats-Msg-Id": str(uuid4())}
        )
        for body in bodies
    ]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await nc.close()
    return n / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--workers", default="1,2", help="HTTP workers to measure on PostgreSQL, e.g. 1,2"
    )
    args = parser.parse_args()
    os.environ.setdefault("BANSOS_MODE", "development")  # built-in secrets, as `bansos up`
    print(f"registry benchmark: {args.households} registrations, {args.events} relayed events")
    with tempfile.TemporaryDirectory() as tmp:
        with trivial_service() as url:
            report(
                "baseline: trivial FastAPI POST, wrk",
                registrations(url, args.households, args.concurrency),
            )
        runs = [("sqlite", 1)] if "sqlite" in args.backends else []
        if "postgres" in args.backends:
            runs += [("postgres", int(w)) for w in args.workers.split(",")]
        for backend, workers in runs:
            with nats_server() as nats_url:
                if backend == "sqlite":
                    url = sqlite_url(Path(tmp), "registry")
                    with service("registry", url, nats_url) as http:
                        load = registrations(http.url, args.households, args.concurrency)
                else:
                    async with postgres_database() as url:
                        with service("registry", url, nats_url, workers) as http:
                            load = registrations(http.url, args.households, args.concurrency)
            report(f"registrations over HTTP, {backend}, {workers} worker(s)", load)
        if args.events == 0:
            return
        with nats_server() as nats_url:
            raw = await raw_publish_async_per_second(nats_url, args.events)
            print(f"  raw nats-py publish_async baseline         : {raw:8.0f} msg/s")
            relay_sqlite = await relay_events_per_second(
                sqlite_url(Path(tmp), "relay"), nats_url, args.events
            )
            print(
                f"  outbox relay, sqlite                       : {relay_sqlite:8.0f} ev/s"
                f"  ({relay_sqlite / raw:.0%} of raw)"
            )
            async with postgres_database() as url:
                relay_pg = await relay_events_per_second(url, nats_url, args.events)
            print(
                f"  outbox relay, postgres                     : {relay_pg:8.0f} ev/s"
                f"  ({relay_pg / raw:.0%} of raw)"
            )


if __name__ == "__main__":
    asyncio.run(main())
