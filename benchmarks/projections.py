"""Projection benchmark: how fast distribution's and training's household projections
(`<service>-households`, services/registry/published.py) apply the registry's events from
JetStream on PostgreSQL, beside raw nats-py reads of the same stream.

N synthetic households (services/registry/demo.py's generator, members' NIKs committed as
the registry commits them) give three events each — registered, eligibility decided, and
for one in five an update — published to a private nats-server. Each service's projection
consumer then runs in this process, as its runtime runs it (`ProjectionConsumer.run`, a
durable pull consumer, the runtime's batch size, inbox, the startup heap frozen), into a
fresh PostgreSQL database migrated as the service migrates it, and is timed until every
household shows its last version.

Run from the repository root: .venv/bin/python -m benchmarks.projections [--households N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import random
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import nats
from sqlalchemy import func, select

from benchmarks.audit import raw_ordered_consume, raw_pull_consume
from benchmarks.common import nats_server, postgres_database
from services.registry import demo, published
from shared.consumers import ProjectionConsumer
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope
from shared.events.registry import (
    EligibilityDecided,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberFacts,
)
from shared.messaging import ensure_stream, make_broker
from shared.pii import Commitments, commitments
from shared.runtime import freeze_startup_heap
from shared.settings import CommonSettings
from shared.spec import ServiceSpec

RWS = [f"{n:02d}" for n in range(1, 11)]


@functools.cache
def _commitments() -> Commitments:
    return commitments(CommonSettings())  # settings are read once, not per household


def household_events(rng: random.Random, i: int) -> list[Envelope]:
    """One demo household's registry events, as the registry would publish them."""
    body = demo.household(rng, RWS[i % len(RWS)])
    c = _commitments()
    members = tuple(
        MemberFacts(
            member_id=uuid4(),
            nik_commitment=c.nik(m["nik"]),
            sex=m["sex"],
            birth_year=int(m["birth_date"][:4]),
            relationship=m["relationship"],
            disabled=m["disabled"],
        )
        for m in body["members"]
    )
    hid = uuid4()
    registered = HouseholdRegistered(
        rt=body["rt"],
        rw=body["rw"],
        kk_commitment=c.kk(body["kk_number"]),
        members=members,
        monthly_income_idr=body["monthly_income_idr"],
        desil=body["desil"],
        dtks_listed=body["dtks_ref"] is not None,
    )
    payloads: list[HouseholdRegistered | HouseholdUpdated | EligibilityDecided] = [registered]
    rt = body["rt"]
    if i % 5 == 0:
        rt = f"{int(rt) % 12 + 1:03d}"
        payloads.append(HouseholdUpdated(rt=rt, changed=("rt",)))
    payloads.append(
        EligibilityDecided(
            eligible=i % 3 != 0,
            reasons=("desil_1_to_4",),
            desil=body["desil"],
            rt=rt,
            rw=body["rw"],
            member_commitments=tuple(m.nik_commitment for m in members),
            policy_version="bench",
        )
    )
    return [
        Envelope.wrap(p, aggregate_id=hid, aggregate_version=v, actor="bench")
        for v, p in enumerate(payloads, 1)
    ]


async def publish(url: str, envelopes: list[Envelope]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_stream(js, CommonSettings(nats_url=url))
    for start in range(0, len(envelopes), 5000):
        futures = [
            await js.publish_async(
                e.subject, e.canonical(), headers={"Nats-Msg-Id": str(e.event_id)}
            )
            for e in envelopes[start : start + 5000]
        ]
        await asyncio.gather(*futures)
    await nc.close()


def service_spec(name: str) -> ServiceSpec:
    if name == "distribution":
        from services.distribution.service import SERVICE as distribution

        return distribution
    from services.training.service import SERVICE as training

    return training


async def projection_rate(
    url: str, database_url: str, name: str, households: int, events: int, batch: int | None
) -> tuple[float, float]:
    """Events/s of `<name>-households` from the stream's start; and the seconds it took."""
    spec = service_spec(name)
    [subscription] = [s for s in spec.consumers if s.name == f"{name}-households"]
    engine = make_engine(database_url)
    await migrate(engine, [spec.migrations])
    settings = CommonSettings(nats_url=url, database_url=database_url)
    broker = make_broker(settings)
    await broker.connect()
    # (Run against a commit from before batch handlers, for the "before" figure, too.)
    batched = getattr(subscription, "handle_batch", None)
    consumer = ProjectionConsumer(
        subscription.name,
        sessionmaker(engine),
        subscription.handle,
        **({"handle_batch": batched} if batched else {}),
    )
    table = published.households
    done = (
        select(func.count())
        .select_from(table)
        .where(table.c.eligible.is_not(None))  # every household's last event is its decision
    )
    freeze_startup_heap()  # as the service does once started (shared/runtime.py)
    started = time.perf_counter()
    run = consumer.run(
        broker, settings, subscription.subject, **({"batch_size": batch} if batch else {})
    )
    task = asyncio.create_task(run)
    async with engine.connect() as conn:
        while (await conn.scalar(done) or 0) < households:  # noqa: ASYNC110 - the measurement
            await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    consumer.stop()
    await asyncio.gather(task, return_exceptions=True)
    await broker.stop()
    await engine.dispose()
    return events / elapsed, elapsed


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
        show_all = bool(os.environ.get("PROFILE_ALL"))
        print(profiler.output_text(unicode=False, color=False, show_all=show_all)[:20000])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--services", default="distribution,training")
    parser.add_argument("--batch", type=int, help="fetch batch size (the runtime's if unset)")
    parser.add_argument("--profile", help="write a pyinstrument HTML of the first projection")
    args = parser.parse_args()
    rng = random.Random(14)
    envelopes = [e for i in range(args.households) for e in household_events(rng, i)]
    with nats_server() as url:
        await publish(url, envelopes)
        n = len(envelopes)
        pull = await raw_pull_consume(url, n)
        ordered = await raw_ordered_consume(url, n)
        print(f"{n} registry events of {args.households} households on the stream")
        print(f"raw nats-py pull consume (fetch 1000, ack each): {pull:8.0f} msg/s")
        print(f"raw nats-py ordered push consumer, no-op cb    : {ordered:8.0f} msg/s")
        profile = args.profile
        for name in args.services.split(","):
            async with postgres_database() as database_url:
                with profiled(profile):
                    rate, took = await projection_rate(
                        url, database_url, name, args.households, n, args.batch
                    )
            profile = None
            print(
                f"{name}-households projection, postgres: {rate:8.0f} ev/s "
                f"({took:.1f} s; {rate / pull:.0%} of pull + ack)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS (consumers in-process): {peak:6.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
