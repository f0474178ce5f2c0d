"""The unit of work: one command's facts, events and writes in one transaction.

A handler (services/<name>/handlers.py) reads as the command does:

    async with uow:
        await queries.refuse_taken_niks(uow.session, facts)       # facts of read models
        outcome = await uow.create(households, household_id, command)
        await personal_data.keep(uow.session, household_id, form)  # what is not an event
    return outcome

`create` decides the command that makes an aggregate under a freshly minted id; `execute`
locks and loads an existing one (or, `must_exist=False`, one whose id is derived, such as
a budget's from its programme and period). Either runs its pure decider, appends the
events with their outbox rows and projects them into the service's read models — all in
the block's transaction, so they commit together with the handler's other writes or not
at all (docs/architecture.md#the-write-path). Leaving the
block commits and wakes the outbox relay; an exception rolls everything back. A unique
constraint of the service's tables that refuses a write becomes the error the service
declared for that constraint (by name, never by matching the database's text).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import wraps
from types import TracebackType
from typing import Generic, ParamSpec, Self, TypeVar
from uuid import UUID

from opentelemetry import trace
from sqlalchemy import MetaData, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import eventstore
from shared.domain import DomainError, fold
from shared.errors import CONFLICT
from shared.events import Envelope, EventPayload
from shared.eventstore import ConcurrencyConflict

S = TypeVar("S")
C = TypeVar("C")
T = TypeVar("T")
P = ParamSpec("P")

tracer = trace.get_tracer("bansos.uow")
Projector = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]


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
    role: str | None = None
    correlation_id: UUID | None = None


@dataclass(frozen=True)
class Outcome(Generic[S]):
    state: S
    version: int
    events: list[Envelope]


@dataclass(frozen=True)
class Unique:
    """What a named unique constraint of a service's tables means when it refuses a write."""

    code: str
    message: str
    field: str | None = None


class UnitOfWork:
    """One command's transaction, for one caller. Reusable: each `async with` is a new
    transaction (so a handler may be run again, see `retried`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        project: Projector,
        caller: Caller,
        *,
        constraints: Mapping[str, Unique] | None = None,
        metadata: Sequence[MetaData] = (),
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._project = project
        self.caller = caller
        self._constraints = dict(constraints or {})
        self._metadata = list(metadata)
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._appended = 0
        self._correlation: UUID | None = None

    @classmethod
    def joining(cls, session: AsyncSession, project: Projector, caller: Caller) -> UnitOfWork:
        """Commands decided inside a transaction another holds: a consumer's batch, whose
        inbox rows must commit with the events the batch decides (or neither does). Used
        without `async with`: the holder commits or rolls back; the outbox relay finds the
        rows on its next poll."""
        uow = cls(async_sessionmaker(), project, caller)  # never opens a session of its own
        uow._session = session
        uow._correlation = caller.correlation_id
        return uow

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with uow:`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in a transaction")
        self._session = self._sessions()
        await self._session.begin()
        self._appended = 0
        self._correlation = self.caller.correlation_id
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        try:
            if error is None:
                await session.commit()
            else:
                await session.rollback()
        except IntegrityError as exc:  # a constraint checked at commit
            await session.rollback()
            raise self._refusal(exc) from exc
        finally:
            await session.close()
        if isinstance(error, IntegrityError):
            raise self._refusal(error) from error
        if error is None and self._appended and self._on_commit is not None:
            self._on_commit()

    async def execute(
        self,
        decider: Decider[S, C],
        aggregate_id: UUID,
        command: C,
        *,
        expected_version: int | None = None,
        must_exist: bool = True,
    ) -> Outcome[S]:
        """Decide `command` on the aggregate's history and store what it decided.

        `expected_version` (from If-Match) guards against lost updates: a stale one is
        `version_stale` (412). `must_exist=False` for a command that creates the aggregate under
        an id derived from its facts (`create` for a freshly minted one);
        otherwise an aggregate without history is `<aggregate_type>_not_found` (the one
        place existence is checked)."""
        with self._span(decider, aggregate_id, command):
            session = self.session
            await eventstore.lock(session, aggregate_id)
            history = await eventstore.load(session, aggregate_id)
            if must_exist and not history:
                raise DomainError(
                    f"{decider.aggregate_type}_not_found",
                    f"no {decider.aggregate_type} {aggregate_id}",
                    field=f"{decider.aggregate_type}_id",
                )
            outcome = self._decide(decider, aggregate_id, command, history, expected_version)
            await self._store(outcome.events)
            return outcome

    async def create(self, decider: Decider[S, C], aggregate_id: UUID, command: C) -> Outcome[S]:
        """Decide the command that creates an aggregate under an id just minted for it
        (uuid4): it has no history to load and no other writer to wait for, which spares
        a busy create two of its statements. An id that did exist still fails, at the
        append's unique (aggregate_id, aggregate_version)."""
        with self._span(decider, aggregate_id, command):
            outcome = self._decide(decider, aggregate_id, command, [], None)
            await self._store(outcome.events)
            return outcome

    def _span(
        self, decider: Decider[S, C], aggregate_id: UUID, command: C
    ) -> AbstractContextManager[trace.Span]:
        return tracer.start_as_current_span(
            f"{decider.aggregate_type}.{type(command).__name__}",
            attributes={
                "bansos.aggregate_id": str(aggregate_id),
                "bansos.actor": self.caller.actor,
            },
        )

    async def execute_many(
        self, decider: Decider[S, C], commands: Sequence[tuple[UUID, C]]
    ) -> list[Outcome[S]]:
        """Many aggregates in this transaction (a bulk allocation): their histories load in
        a few queries and their events go in together, all stored or none."""
        with tracer.start_as_current_span(
            f"{decider.aggregate_type}.bulk", attributes={"bansos.actor": self.caller.actor}
        ) as span:
            histories = await eventstore.load_many(self.session, [i for i, _ in commands])
            outcomes = [
                self._decide(decider, i, c, histories.get(i, []), None) for i, c in commands
            ]
            await self._store([e for o in outcomes for e in o.events])
            span.set_attribute("bansos.aggregates", len(outcomes))
        return outcomes

    async def _store(self, new: Sequence[Envelope]) -> None:
        await eventstore.append(self.session, new)
        await self._project(self.session, new)
        self._appended += len(new)

    def _decide(
        self,
        decider: Decider[S, C],
        aggregate_id: UUID,
        command: C,
        history: Sequence[Envelope],
        expected_version: int | None,
    ) -> Outcome[S]:
        version = len(history)
        if expected_version is not None and expected_version != version:
            raise ConcurrencyConflict(aggregate_id, expected_version, version, stale=True)
        state = decider.replay(history)
        payloads = decider.decide(state, command)
        new = [
            Envelope.wrap(
                p,
                aggregate_id=aggregate_id,
                aggregate_version=version + i,
                actor=self.caller.actor,
                actor_role=self.caller.role,
                correlation_id=self._correlation,
                causation_id=history[-1].event_id if history else None,
            )
            for i, p in enumerate(payloads, start=1)
        ]
        if new and self._correlation is None:
            # The first event of an uncorrelated request starts the correlation chain that
            # every later event of the request (this unit of work) joins.
            self._correlation = new[0].event_id
            new = [e.model_copy(update={"correlation_id": self._correlation}) for e in new]
        for payload in payloads:
            state = decider.evolve(state, payload)
        return Outcome(state=state, version=version + len(new), events=new)

    def _refusal(self, exc: IntegrityError) -> DomainError:
        """A named unique constraint the service declared, as its error; else a conflict."""
        name = constraint_name(exc, self._metadata)
        refusal = self._constraints.get(name) if name else None
        if refusal is not None:
            return DomainError(refusal.code, refusal.message, field=refusal.field)
        return DomainError(CONFLICT, "a concurrent change conflicted; reload and try again")


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


def constraint_name(exc: IntegrityError, metadata: Sequence[MetaData]) -> str | None:
    """The name of the constraint that refused a write. PostgreSQL reports it; SQLite only
    names the table and columns, which the service's table metadata resolves to the same
    name (an unnamed one by PostgreSQL's rule: `<table>_pkey`, `<table>_<columns>_key`)."""
    cause = getattr(exc.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None) or getattr(exc.orig, "constraint_name", None)
    if name:
        return str(name)
    found = _SQLITE_UNIQUE.search(str(exc.orig))
    if not found:
        return None
    columns = [c.strip().split(".", 1) for c in found.group(1).split(",")]
    table_name = columns[0][0]
    wanted = [c for _, c in columns]
    for meta in metadata:
        table = meta.tables.get(table_name)
        if table is None:
            continue
        for constraint in table.constraints:
            if not isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint):
                continue
            if [c.name for c in constraint.columns] != wanted:
                continue
            if isinstance(constraint.name, str):
                return constraint.name
            if isinstance(constraint, PrimaryKeyConstraint):
                return f"{table_name}_pkey"
            return f"{table_name}_{'_'.join(wanted)}_key"
    return None


RETRIES = 5


def retried(handler: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run a handler again when a concurrent writer appended to its aggregate first.

    A command without If-Match asked for "the current state": it is decided again on the
    new state (a busy course's enrolments, a bulk allocation beside a single one). With
    If-Match a stale version is the caller's to resolve, never retried."""

    @wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, RETRIES + 1):
            try:
                return await handler(*args, **kwargs)
            except ConcurrencyConflict as conflict:
                if conflict.stale or attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")

    return run
