"""The unit of work (shared/uow.py) on SQLite and PostgreSQL: what a command writes commits
together or not at all; If-Match, retries, constraints and correlation ids."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Column, MetaData, String, Table, UniqueConstraint, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared import eventstore
from shared.db import events, make_engine, migrate, outbox, sessionmaker
from shared.domain import DomainError
from shared.errors import declare
from shared.events import Envelope, EventPayload
from shared.events.registry import HouseholdUpdated
from shared.eventstore import ConcurrencyConflict
from shared.uow import Caller, Decider, Unique, UnitOfWork, retried

TOO_MANY = declare(422, "test_too_many_bumps", "a test aggregate bumped past its limit")
LABEL_TAKEN = declare(409, "test_label_taken", "a test label is taken")

metadata = MetaData()
labels = Table(
    "test_labels",
    metadata,
    Column("label", String(40), nullable=False),
    UniqueConstraint("label", name="uq_test_labels_label"),
)
projected = Table("test_projected", metadata, Column("label", String(40), nullable=False))


@dataclass(frozen=True)
class Bump:
    label: str
    limit: int = 10


def decide(state: int, command: Bump) -> list[EventPayload]:
    if state >= command.limit:
        raise DomainError(TOO_MANY, f"already {state} bumps")
    return [HouseholdUpdated(changed=(command.label,))]


def evolve(state: int, event: EventPayload) -> int:
    return state + 1


counter: Decider[int, Bump] = Decider("household", 0, decide, evolve)


async def project(session: AsyncSession, new: Sequence[Envelope]) -> None:
    for e in new:
        await session.execute(insert(projected).values(label=e.payload["changed"][0]))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine, [])
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@dataclass
class Commits:
    count: int = 0

    def __call__(self) -> None:
        self.count += 1


def unit(engine: AsyncEngine, commits: Commits | None = None, **caller: object) -> UnitOfWork:
    return UnitOfWork(
        sessionmaker(engine),
        project,
        Caller(**{"actor": "tester", "role": "registry_operator", **caller}),  # type: ignore[arg-type]
        constraints={"uq_test_labels_label": Unique(LABEL_TAKEN, "label taken", field="label")},
        metadata=[metadata],
        on_commit=commits,
    )


async def rows(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def bump(uow: UnitOfWork, aggregate_id: UUID, label: str, **options: object) -> Envelope:
    """A handler: a side write, then the command (its event and projection)."""
    async with uow:
        await uow.session.execute(insert(labels).values(label=label))
        outcome = await uow.execute(counter, aggregate_id, Bump(label), **options)  # type: ignore[arg-type]
    return outcome.events[0]


async def test_events_outbox_projection_and_side_writes_commit_together(
    engine: AsyncEngine,
) -> None:
    commits = Commits()
    uow = unit(engine, commits)
    event = await bump(uow, uuid4(), "first", must_exist=False)
    assert (event.actor, event.actor_role, event.aggregate_version) == (
        "tester",
        "registry_operator",
        1,
    )
    for table in (events, outbox, labels, projected):
        assert await rows(engine, table) == 1
    assert commits.count == 1  # the outbox relay is woken once the transaction commits


async def test_a_refusal_after_a_side_write_leaves_nothing_behind(engine: AsyncEngine) -> None:
    commits = Commits()
    aggregate = uuid4()
    await bump(unit(engine), aggregate, "kept", must_exist=False)
    uow = unit(engine, commits)
    with pytest.raises(DomainError) as err:
        async with uow:
            await uow.session.execute(insert(labels).values(label="rolled back"))
            await uow.execute(counter, aggregate, Bump("too many", limit=1))
    assert err.value.code == TOO_MANY and err.value.status == 422
    for table in (events, outbox, labels, projected):
        assert await rows(engine, table) == 1  # only the first command's
    assert commits.count == 0


async def test_a_missing_aggregate_is_its_types_not_found(engine: AsyncEngine) -> None:
    with pytest.raises(DomainError) as err:
        await bump(unit(engine), uuid4(), "nobody")
    assert (err.value.code, err.value.status) == ("household_not_found", 404)
    assert await rows(engine, labels) == 0


async def test_a_named_constraint_becomes_its_declared_error(engine: AsyncEngine) -> None:
    await bump(unit(engine), uuid4(), "taken", must_exist=False)
    with pytest.raises(DomainError) as err:
        await bump(unit(engine), uuid4(), "taken", must_exist=False)
    assert (err.value.code, err.value.field, err.value.status) == ("test_label_taken", "label", 409)
    assert await rows(engine, events) == 1


async def test_a_stale_if_match_is_refused_and_not_retried(engine: AsyncEngine) -> None:
    aggregate = uuid4()
    await bump(unit(engine), aggregate, "one", must_exist=False)
    calls = 0

    @retried
    async def handler(uow: UnitOfWork) -> Envelope:
        nonlocal calls
        calls += 1
        return await bump(uow, aggregate, "stale", expected_version=0)

    with pytest.raises(ConcurrencyConflict) as err:
        await handler(unit(engine))
    assert err.value.stale and err.value.code == "version_stale" and calls == 1
    assert err.value.status == 412
    assert (await bump(unit(engine), aggregate, "fresh", expected_version=1)).aggregate_version == 2


async def test_a_concurrent_append_is_decided_again_on_the_new_state() -> None:
    calls = 0

    @retried
    async def handler() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConcurrencyConflict(uuid4(), 1, 2)
        return "decided"

    assert await handler() == "decided" and calls == 3


async def test_concurrent_commands_on_one_aggregate_all_apply_once(engine: AsyncEngine) -> None:
    aggregate = uuid4()
    await bump(unit(engine), aggregate, "start", must_exist=False)
    bumps = [retried(bump)(unit(engine), aggregate, f"b{i}") for i in range(8)]
    done = await asyncio.gather(*bumps)
    assert sorted(e.aggregate_version for e in done) == list(range(2, 10))
    async with engine.connect() as conn:
        history = await eventstore.load(conn, aggregate)
    assert [e.aggregate_version for e in history] == list(range(1, 10))


async def test_one_request_is_one_correlation_and_each_event_names_its_cause(
    engine: AsyncEngine,
) -> None:
    first, second = uuid4(), uuid4()
    await bump(unit(engine), first, "earlier", must_exist=False)
    uow = unit(engine)
    async with uow:
        a = (await uow.execute(counter, first, Bump("a"))).events[0]
        b = (await uow.execute(counter, second, Bump("b"), must_exist=False)).events[0]
    async with engine.connect() as conn:
        earlier = (await eventstore.load(conn, first))[0]
    assert a.correlation_id == b.correlation_id == a.event_id  # the request's first event
    assert a.causation_id == earlier.event_id and b.causation_id is None
    given = uuid4()
    uow = unit(engine, correlation_id=given)
    async with uow:
        c = (await uow.execute(counter, second, Bump("c"))).events[0]
    assert c.correlation_id == given
