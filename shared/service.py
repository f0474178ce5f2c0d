"""The one command handler every service uses: load, decide, append, project — one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from opentelemetry import trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import eventstore
from shared.domain import Conflict, NotFound, fold
from shared.events import Envelope, EventPayload

S = TypeVar("S")
C = TypeVar("C")

tracer = trace.get_tracer("bansos.service")


@dataclass(frozen=True)
class Decider(Generic[S, C]):
    """A pure aggregate: `decide(state, command) -> payloads`, `evolve(state, payload) -> state`."""

    aggregate_type: str
    initial: S
    decide: Callable[[S, C], Sequence[EventPayload]]
    evolve: Callable[[S, EventPayload], S]

    def replay(self, history: Sequence[Envelope]) -> S:
        return fold(self.evolve, self.initial, (e.typed() for e in history))


@dataclass(frozen=True)
class Caller:
    """Who asks, in which role, and the request's correlation id (every event records
    them; the public ledger shows the role, never the person)."""

    actor: str
    correlation_id: UUID | None = None
    role: str | None = None


@dataclass(frozen=True)
class Outcome(Generic[S]):
    state: S
    version: int
    events: list[Envelope]


Projector = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]
Notify = Callable[[], None]
# A command that rests on facts of this service's read models is built in the command's
# transaction, so the facts cannot change between reading and deciding.
Build = Callable[[AsyncSession], Awaitable[C]]


class CommandHandler:
    """Runs commands for one service against its own database."""

    RETRIES = 5

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        project: Projector,
        *,
        on_commit: Notify | None = None,
        map_integrity_error: Callable[[IntegrityError], Exception | None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._project = project
        self._on_commit = on_commit
        self._map_integrity_error = map_integrity_error

    async def execute(
        self,
        decider: Decider[S, C],
        aggregate_id: UUID,
        command: C | Build[C],
        caller: Caller,
        *,
        expected_version: int | None = None,
        must_exist: bool = True,
        also: Projector | None = None,
        guard: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> Outcome[S]:
        """`expected_version` (from If-Match) guards against lost updates: a stale one is 409.

        `command` is the command, or a coroutine function building it inside the transaction.

        `also` writes what is not an event (e.g. the registry's personal-data store) in the
        same transaction, so it commits with the events or not at all. `guard` checks facts
        of this service's read models first (e.g. that a NIK is not taken), in that
        transaction too.
        """
        # Without If-Match the caller asked for "the current state", so a concurrent append
        # is retried on the new state (a busy course's enrolments, say) instead of a 409.
        attempts = 1 if expected_version is not None else self.RETRIES
        with tracer.start_as_current_span(
            f"{decider.aggregate_type}.{getattr(command, '__name__', type(command).__name__)}",
            attributes={"bansos.aggregate_id": str(aggregate_id), "bansos.actor": caller.actor},
        ):
            for attempt in range(1, attempts + 1):
                try:
                    outcome = await self._attempt(
                        decider,
                        aggregate_id,
                        command,
                        caller,
                        expected_version,
                        must_exist,
                        also,
                        guard,
                    )
                    break
                except eventstore.ConcurrencyConflict:
                    if attempt == attempts:
                        raise
        if outcome.events and self._on_commit is not None:
            self._on_commit()
        return outcome

    async def _attempt(
        self,
        decider: Decider[S, C],
        aggregate_id: UUID,
        command: C | Build[C],
        caller: Caller,
        expected_version: int | None,
        must_exist: bool,
        also: Projector | None,
        guard: Callable[[AsyncSession], Awaitable[None]] | None,
    ) -> Outcome[S]:
        try:
            async with self._sessions() as session, session.begin():
                if guard is not None:
                    await guard(session)
                if callable(command):
                    command = await command(session)
                outcome = await self._run(
                    session, decider, aggregate_id, command, caller, expected_version, must_exist
                )
                if also is not None and outcome.events:
                    await also(session, outcome.events)
            return outcome
        except IntegrityError as exc:
            raise self._conflict(exc) from exc

    def _conflict(self, exc: IntegrityError) -> Exception:
        """A read model's unique key refused a write: the service may name the rule (a NIK
        taken, a household allocated); anything else is a plain concurrent change."""
        mapped = self._map_integrity_error(exc) if self._map_integrity_error else None
        return mapped or Conflict(
            "conflict", "a concurrent change conflicted; reload and try again"
        )

    async def execute_many(
        self,
        decider: Decider[S, C],
        build: Callable[[AsyncSession], Awaitable[Sequence[tuple[UUID, C]]]],
        caller: Caller,
    ) -> list[Outcome[S]]:
        """Many aggregates, one transaction: all their events are stored, or none.

        For bulk commands (allocate a whole round). `build` reads, in the transaction, which
        aggregates get which command; their histories load in a few queries and their events
        go in together, so the cost per aggregate is a fraction of a single command's.
        """
        with tracer.start_as_current_span(
            f"{decider.aggregate_type}.bulk", attributes={"bansos.actor": caller.actor}
        ) as span:
            try:
                async with self._sessions() as session, session.begin():
                    commands = await build(session)
                    histories = await eventstore.load_many(session, [i for i, _ in commands])
                    outcomes = [
                        self._decide(decider, i, c, caller, histories.get(i, []), None)
                        for i, c in commands
                    ]
                    new = [e for o in outcomes for e in o.events]
                    await eventstore.append(session, new)
                    await self._project(session, new)
            except IntegrityError as exc:
                raise self._conflict(exc) from exc
            span.set_attribute("bansos.aggregates", len(outcomes))
        if new and self._on_commit is not None:
            self._on_commit()
        return outcomes

    async def _run(
        self,
        session: AsyncSession,
        decider: Decider[S, C],
        aggregate_id: UUID,
        command: C,
        caller: Caller,
        expected_version: int | None,
        must_exist: bool,
    ) -> Outcome[S]:
        await eventstore.lock(session, aggregate_id)
        history = await eventstore.load(session, aggregate_id)
        if must_exist and not history:
            raise NotFound(
                f"{decider.aggregate_type}_not_found", f"no {decider.aggregate_type} {aggregate_id}"
            )
        outcome = self._decide(decider, aggregate_id, command, caller, history, expected_version)
        await eventstore.append(session, outcome.events)
        await self._project(session, outcome.events)
        return outcome

    @staticmethod
    def _decide(
        decider: Decider[S, C],
        aggregate_id: UUID,
        command: C,
        caller: Caller,
        history: Sequence[Envelope],
        expected_version: int | None,
    ) -> Outcome[S]:
        version = len(history)
        if expected_version is not None and expected_version != version:
            raise eventstore.ConcurrencyConflict(aggregate_id, expected_version, version)
        state = decider.replay(history)
        payloads = decider.decide(state, command)
        correlation = caller.correlation_id
        new = [
            Envelope.wrap(
                p,
                aggregate_id=aggregate_id,
                aggregate_version=version + i,
                actor=caller.actor,
                actor_role=caller.role,
                correlation_id=correlation,
                causation_id=history[-1].event_id if history else None,
            )
            for i, p in enumerate(payloads, start=1)
        ]
        if new and correlation is None:
            # The first event of an uncorrelated request starts the correlation chain.
            first = new[0].event_id
            new = [e.model_copy(update={"correlation_id": first}) for e in new]
        for payload in payloads:
            state = decider.evolve(state, payload)
        return Outcome(state=state, version=version + len(new), events=new)
