"""Staff notes (an endorsement's, an undelivered report's): free text stays in this
service (DESIGN §7). The event carries a salted commitment; the note and its salt are
kept here, keyed by that event, written in the command's transaction. Not a read model:
like the registry's personal data, it cannot be rebuilt from events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Uuid, insert, select
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


@dataclass(frozen=True)
class Note:
    """A note typed by staff and its salted commitment (none for an empty note)."""

    text: str
    committed: SaltedCommitment | None

    @classmethod
    def of(cls, commitments: Commitments, text: str) -> Note:
        return cls(text, commitments.salted("text", text) if text else None)

    @property
    def commitment(self) -> str | None:
        return self.committed.commitment if self.committed else None

    async def keep(self, session: AsyncSession, new_events: Sequence[Envelope]) -> None:
        """An `also` writer: the note, beside the event that committed to it."""
        if self.committed is None:
            return
        for envelope in new_events:
            if envelope.payload.get("note_commitment") == self.committed.commitment:
                await session.execute(
                    insert(staff_notes).values(
                        event_id=envelope.event_id,
                        aggregate_id=envelope.aggregate_id,
                        aggregate_version=envelope.aggregate_version,
                        note=self.text,
                        salt=self.committed.salt,
                    )
                )


def latest(aggregate_id: Any) -> Any:
    """The latest note on an aggregate, as a scalar subquery for a reply's select."""
    n = staff_notes.c
    return (
        select(n.note)
        .where(n.aggregate_id == aggregate_id)
        .order_by(n.aggregate_version.desc())
        .limit(1)
        .scalar_subquery()
    )
