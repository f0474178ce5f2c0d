"""The households projection (services/registry/published.py) applied a batch at a time
(as the projection consumer hands it a fetch) ends where the same events applied one at a
time end: redelivered older versions, repeated registrations, members added, updates,
decisions and deactivations, in any batch sizes; and an event before its household's
registration refuses the whole batch (the consumer then applies it one by one)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.distribution.service import SERVICE
from services.registry import published
from shared.db import make_engine, migrate, sessionmaker
from shared.events import Envelope, EventPayload
from shared.events.registry import (
    EligibilityDecided,
    HouseholdDeactivated,
    HouseholdRegistered,
    HouseholdUpdated,
    MemberAdded,
    MemberFacts,
    SurveyRecorded,
)

Item = tuple[Envelope, EventPayload]


@pytest.fixture
async def engines(database_url: str, tmp_path: Any) -> AsyncIterator[tuple[AsyncEngine, ...]]:
    """Two databases of the same kind: one fed one event at a time, one fed batches."""
    other = (
        f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
        if database_url.startswith("sqlite")
        else None
    )
    first = make_engine(database_url)
    await migrate(first, [SERVICE.migrations])
    if other is None:  # PostgreSQL: the batches go to a second schema-equal database
        yield (first, first)
    else:
        second = make_engine(other)
        await migrate(second, [SERVICE.migrations])
        yield (first, second)
        await second.dispose()
    await first.dispose()


def member(rng: random.Random) -> MemberFacts:
    return MemberFacts(
        member_id=uuid4(),
        nik_commitment=f"{rng.getrandbits(256):064x}",
        sex=rng.choice("MF"),
        birth_year=rng.randint(1940, 2020),
        relationship="child",
        disabled=False,
    )


def history(rng: random.Random, hid: UUID) -> list[Item]:
    """A household's events in version order, as the registry publishes them."""
    payloads: list[EventPayload] = [
        HouseholdRegistered(
            rt=f"{rng.randint(1, 12):03d}",
            rw=f"{rng.randint(1, 10):02d}",
            kk_commitment=f"{rng.getrandbits(256):064x}",
            members=(member(rng),),
            monthly_income_idr=rng.randint(0, 5) * 500_000,
        )
    ]
    for _ in range(rng.randint(0, 6)):
        kind = rng.randrange(5)
        if kind == 0:
            payloads.append(MemberAdded(member=member(rng)))
        elif kind == 1:
            payloads.append(HouseholdUpdated(rt=f"{rng.randint(1, 12):03d}", changed=("rt",)))
        elif kind == 2:
            payloads.append(
                EligibilityDecided(
                    eligible=rng.random() < 0.5,
                    reasons=("desil_1_to_4",),
                    rt=f"{rng.randint(1, 12):03d}",
                    rw=f"{rng.randint(1, 10):02d}",
                    member_commitments=(f"{rng.getrandbits(256):064x}",) * rng.randint(0, 2),
                    policy_version="t",
                )
            )
        elif kind == 3:
            payloads.append(
                SurveyRecorded(
                    survey_id=uuid4(),
                    surveyed_on="2026-11-01",
                    answers={},
                    pmt_score=30,
                    formula_version="t",
                )
            )
        else:
            payloads.append(HouseholdDeactivated(reason="moved"))
    return [
        (Envelope.wrap(p, aggregate_id=hid, aggregate_version=v, actor="t"), p)
        for v, p in enumerate(payloads, 1)
    ]


def stream(rng: random.Random, households: int) -> list[Item]:
    """Households' histories interleaved (each in order), with some events delivered
    again later (an older version after a newer one, a registration twice)."""
    queues = [history(rng, uuid4()) for _ in range(households)]
    out: list[Item] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        out.append(queue.pop(0))
        if rng.random() < 0.15:
            out.append(rng.choice(out))  # a redelivery of something already seen
    return out


async def table(engine: AsyncEngine, ids: set[UUID]) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(published.households)
            .where(published.households.c.household_id.in_(ids))
            .order_by(published.households.c.household_id)
        )
        return [dict(row._mapping) for row in rows]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_batches_of_any_size_end_where_one_at_a_time_ends(
    engines: tuple[AsyncEngine, AsyncEngine], seed: int
) -> None:
    rng = random.Random(seed)
    events = stream(rng, 12)
    one, batched = engines
    if one is batched:  # one PostgreSQL database: two copies of the stream, new ids
        again = random.Random(seed)
        copies = stream(again, 12)
    else:
        copies = events
    for envelope, event in events:
        async with sessionmaker(one)() as session, session.begin():
            await published.on_registry_event(session, envelope, event)
    start = 0
    while start < len(copies):
        size = rng.choice([1, 2, 5, 17, 200])
        async with sessionmaker(batched)() as session, session.begin():
            await published.on_registry_events(session, copies[start : start + size])
        start += size

    def without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            (
                {k: v for k, v in r.items() if k not in {"household_id", "decided_by_event_id"}}
                | {"decided": r["decided_by_event_id"] is not None}
                for r in rows
            ),
            key=repr,
        )

    first = await table(one, {e.aggregate_id for e, _ in events})
    second = await table(batched, {e.aggregate_id for e, _ in copies})
    assert len(first) == len(second) == 12
    assert without_ids(first) == without_ids(second)
    if copies is events:  # the same events: the same rows, ids and all
        assert first == second


async def test_an_update_before_its_registration_refuses_the_batch(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    rng = random.Random(5)
    engine = engines[0]
    known, unknown = history(rng, uuid4())[:1], uuid4()
    early = HouseholdUpdated(rt="004", changed=("rt",))
    batch = [
        *known,
        (Envelope.wrap(early, aggregate_id=unknown, aggregate_version=2, actor="t"), early),
    ]
    with pytest.raises(published.NotYetKnown):
        async with sessionmaker(engine)() as session, session.begin():
            await published.on_registry_events(session, batch)
    assert await table(engine, {known[0][0].aggregate_id, unknown}) == []
