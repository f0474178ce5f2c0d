"""What residents and facilitators wrote, and who reporters are: kept here, never published
(docs/architecture.md#personal-data).

`texts` holds descriptions, notes, reasons, resolutions and comments, each by the event
whose commitment covers it, and `contacts` a named reporter's name, phone and e-mail. Each
text and each contact is committed to with a fresh salt (`Commitments.salted`), kept
beside it, so the same words or phone number in two complaints give unrelated commitments
and the service can still open each one (`Commitments.opens`). The handlers write them in
the command's transaction; a rebuild of the projections leaves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID, uuid4

from sqlalchemy import Column, LargeBinary, MetaData, String, Table, Text, Uuid, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope
from shared.pii import SALT_BYTES, Commitments

TextKind = Literal["description", "note", "reason", "resolution", "comment", "answer"]

metadata = MetaData()

texts = Table(
    "texts",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("aggregate_id", Uuid, nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("body", Text, nullable=False),
    # None: a feedback author's name (no event commits to it), or a text from before salts.
    Column("salt", LargeBinary(SALT_BYTES)),
)

contacts = Table(
    "contacts",
    metadata,
    Column("complaint_id", Uuid, primary_key=True),
    Column("name", String(120)),
    Column("phone", String(20)),
    Column("email", String(254)),
    # Of the contact commitment, over the phone number or else the e-mail address.
    Column("salt", LargeBinary(SALT_BYTES)),
)


@dataclass(frozen=True)
class Written:
    """Words as written, with their commitment and its salt."""

    kind: TextKind
    body: str
    commitment: str
    salt: bytes = field(repr=False)


def written(keys: Commitments, kind: TextKind, body: str) -> Written:
    sealed = keys.salted("text", body)
    return Written(kind, body, sealed.commitment, sealed.salt)


def optional(keys: Commitments, kind: TextKind, body: str) -> Written | None:
    """None for no words: the event then carries no commitment."""
    return written(keys, kind, body) if body else None


@dataclass(frozen=True)
class Contact:
    name: str | None
    phone: str | None
    email: str | None
    commitment: str
    salt: bytes = field(repr=False)


def contact(keys: Commitments, name: str | None, phone: str | None, email: str | None) -> Contact:
    """A reporter's way back: the phone number, else the e-mail address, is committed to."""
    reach = phone or email
    if reach is None:
        raise ValueError("a contact needs a phone number or an e-mail address")
    sealed = keys.salted("contact", reach)
    return Contact(name, phone, email, sealed.commitment, sealed.salt)


async def keep_text(session: AsyncSession, event: Envelope, text: Written | None) -> None:
    """The words the event commits to, keyed by the event (at most one text per event)."""
    if text is None:
        return
    await session.execute(
        insert(texts).values(
            event_id=event.event_id,
            aggregate_id=event.aggregate_id,
            kind=text.kind,
            body=text.body,
            salt=text.salt,
        )
    )


async def keep_contact(session: AsyncSession, complaint_id: UUID, reporter: Contact | None) -> None:
    if reporter is None:
        return
    await session.execute(
        insert(contacts).values(
            complaint_id=complaint_id,
            name=reporter.name,
            phone=reporter.phone,
            email=reporter.email,
            salt=reporter.salt,
        )
    )


async def keep_author(session: AsyncSession, feedback_id: UUID, name: str) -> None:
    """A feedback giver's name: no event commits to it, so it has no salt."""
    await session.execute(
        insert(texts).values(event_id=uuid4(), aggregate_id=feedback_id, kind="author", body=name)
    )
