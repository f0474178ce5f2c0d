"""Staff notes (an endorsement's, an undelivered report's): free text stays in this
service (docs/architecture.md#personal-data). The event carries a salted commitment; the note and
its salt are kept
here, keyed by that event, written by the handler in the command's transaction. Not a read
model: like the registry's personal data, it cannot be rebuilt from events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope
from shared.pii import Commitments, SaltedCommitment

metadata = MetaData()

staff_notes = Table(
    "staff_notes",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("aggregate_id", Uuid, nullable=False, index=True),
    Column("aggregate_version", Integer, nullable=False),
    Column("note", String(500), nullable=False),
    Column("salt", LargeBinary(16), nullable=False),
)


def commit_to(keys: Commitments, note: str) -> SaltedCommitment | None:
    """The salted commitment an event carries for a note (none for an empty note)."""
    return keys.salted("text", note) if note else None


async def keep_note(
    session: AsyncSession, event: Envelope, note: str, committed: SaltedCommitment
) -> None:
    """The note, beside the event that committed to it."""
    await session.execute(
        insert(staff_notes).values(
            event_id=event.event_id,
            aggregate_id=event.aggregate_id,
            aggregate_version=event.aggregate_version,
            note=note,
            salt=committed.salt,
        )
    )


def latest_note(aggregate_id: Any) -> Any:
    """The latest note on an aggregate, as a scalar subquery for a reply's select."""
    n = staff_notes.c
    return (
        select(n.note)
        .where(n.aggregate_id == aggregate_id)
        .order_by(n.aggregate_version.desc())
        .limit(1)
        .scalar_subquery()
    )
