"""Event store: append with optimistic concurrency, load an aggregate, read by position.

Appending also writes the outbox row in the caller's transaction
(docs/architecture.md#the-write-path), so an
event is stored and queued for the bus, or neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

from opentelemetry import propagate
from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.bulk import insert_rows, one_of
from shared.db import events, outbox
from shared.domain import DomainError
from shared.errors import VERSION_CONFLICT, VERSION_STALE
from shared.events import Envelope, utcnow

Executor = AsyncSession | AsyncConnection


class ConcurrencyConflict(DomainError):
    """The aggregate is not at the version the writer decided on: `stale` when the caller
    said which version it read (If-Match), else a concurrent writer appended first."""

    def __init__(
        self, aggregate_id: UUID, expected: int, actual: int | None = None, *, stale: bool = False
    ) -> None:
        detail = f" (it is at version {actual})" if actual is not None else ""
        super().__init__(
            VERSION_STALE if stale else VERSION_CONFLICT,
            f"aggregate {aggregate_id} changed since version {expected}{detail}; "
            "reload it and try again",
        )
        self.stale = stale


async def lock(db: Executor, aggregate_id: UUID) -> None:
    """Writers of one aggregate take turns (PostgreSQL; SQLite writers already do).

    The unique (aggregate_id, aggregate_version) keeps appends correct either way; the
    transaction-scoped advisory lock only spares a busy aggregate (a course everyone
    enrols in) rounds of conflicts and retries. Released at commit or rollback.
    """
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(aggregate_id.bytes[:8], "big", signed=True)
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def load(db: Executor, aggregate_id: UUID) -> list[Envelope]:
    rows = await db.execute(
        select(events.c.body)
        .where(events.c.aggregate_id == aggregate_id)
        .order_by(events.c.aggregate_version)
    )
    return [Envelope.model_validate_json(body) for (body,) in rows]


async def load_many(
    db: Executor, aggregate_ids: Sequence[UUID], chunk: int = 1000
) -> dict[UUID, list[Envelope]]:
    """Several aggregates' histories in a few queries (bounded IN lists)."""
    out: dict[UUID, list[Envelope]] = {}
    for start in range(0, len(aggregate_ids), chunk):
        wanted = await one_of(db, events.c.aggregate_id, aggregate_ids[start : start + chunk])
        rows = await db.execute(
            select(events.c.aggregate_id, events.c.body)
            .where(wanted)
            .order_by(events.c.aggregate_id, events.c.aggregate_version)
        )
        for aggregate_id, body in rows:
            out.setdefault(aggregate_id, []).append(Envelope.model_validate_json(body))
    return out


async def current_version(db: Executor, aggregate_id: UUID) -> int:
    version = await db.scalar(
        select(func.max(events.c.aggregate_version)).where(events.c.aggregate_id == aggregate_id)
    )
    return int(version or 0)


async def append(db: Executor, new_events: Sequence[Envelope]) -> None:
    """Insert events and their outbox rows; a taken (aggregate_id, version) -> 409.

    The caller's transaction decides; on conflict nothing of it may be committed.
    """
    if not new_events:
        return
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the outbox relay restores this trace context
    now = utcnow()
    bodies = [e.canonical() for e in new_events]  # RFC 8785 once, for store and bus alike
    try:
        await insert_rows(
            db,
            events,
            [
                {
                    "event_id": e.event_id,
                    "type": e.type,
                    "aggregate_type": e.aggregate_type,
                    "aggregate_id": e.aggregate_id,
                    "aggregate_version": e.aggregate_version,
                    "occurred_at": e.occurred_at,
                    "body": body.decode(),
                }
                for e, body in zip(new_events, bodies, strict=True)
            ],
        )
    except IntegrityError as exc:
        first = new_events[0]
        raise ConcurrencyConflict(first.aggregate_id, first.aggregate_version - 1) from exc
    await insert_rows(
        db,
        outbox,
        [
            {
                "event_id": e.event_id,
                "subject": e.subject,
                "body": body,
                "headers": {"Nats-Msg-Id": str(e.event_id), **carrier},
                "created_at": now,
            }
            for e, body in zip(new_events, bodies, strict=True)
        ],
    )


async def read_all(db: Executor, after: int = 0, limit: int = 1000) -> list[tuple[int, Envelope]]:
    """Events in global order after a position (for rebuilding projections)."""
    rows = await db.execute(
        select(events.c.position, events.c.body)
        .where(events.c.position > after)
        .order_by(events.c.position)
        .limit(limit)
    )
    return [(pos, Envelope.model_validate_json(body)) for pos, body in rows]


async def replay(
    session: AsyncSession,
    project: Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]],
    clear: Sequence[Table],
    batch: int = 1000,
) -> int:
    """Rebuild read models: empty `clear`, then project every stored event in order, a
    page at a time. Returns how many events were replayed."""
    for table in clear:
        await session.execute(delete(table))
    position, count = 0, 0
    while page := await read_all(session, after=position, limit=batch):
        await project(session, [envelope for _, envelope in page])
        position = page[-1][0]
        count += len(page)
    return count
