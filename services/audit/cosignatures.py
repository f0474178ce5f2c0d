"""Witness cosignatures (C2SP tlog-cosignature v1.0.0): checked against the checkpoint
they cosign and the configured witness keys, kept one per (tree size, witness), and
appended to the checkpoint note as further signature lines (so the note stays a valid
C2SP signed note: verifiers ignore the signatures of keys they do not know)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.audit.errors import BAD_COSIGNATURE, UNKNOWN_WITNESS
from services.audit.ledger import SignedCheckpoint
from services.audit.settings import Witness
from services.audit.tables import checkpoints, cosignatures
from shared.checkpoint import (
    SIGNATURE_PREFIX,
    CheckpointError,
    note_body,
    verify_cosignature,
)
from shared.domain import DomainError

Executor = AsyncSession | AsyncConnection
COSIGNATURE_BYTES = 4 + 8 + 64  # key ID, timestamp, Ed25519 signature


@dataclass(frozen=True)
class Cosignature:
    witness: str
    timestamp: int
    line: str  # "— <name> <base64>", no newline


def check(line: str, checkpoint_note: str, witnesses: tuple[Witness, ...]) -> Cosignature:
    """A posted cosignature line, checked: 403 if not by a configured witness (name and
    key ID), 422 if it does not verify over the checkpoint's body."""
    if "\n" in line or not line.startswith(SIGNATURE_PREFIX) or line.count(" ") != 2:
        raise DomainError(
            BAD_COSIGNATURE,
            "a cosignature is one signature line: '— <witness name> <base64>'",
            field="cosignature",
        )
    name, encoded = line.removeprefix(SIGNATURE_PREFIX).split(" ")
    witness = next((w for w in witnesses if w.name == name), None)
    if witness is None:
        raise DomainError(
            UNKNOWN_WITNESS, f"{name!r} is not a configured witness", field="cosignature"
        )
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DomainError(
            BAD_COSIGNATURE, "the cosignature is not base64", field="cosignature"
        ) from exc
    if len(blob) != COSIGNATURE_BYTES:
        raise DomainError(
            BAD_COSIGNATURE,
            f"a cosignature is {COSIGNATURE_BYTES} bytes: key ID, timestamp, signature",
            field="cosignature",
        )
    if blob[:4].hex() != witness.key_id:
        raise DomainError(
            UNKNOWN_WITNESS,
            f"the cosignature's key ID is not that of witness {name!r}'s configured key",
            field="cosignature",
        )
    try:
        timestamp = verify_cosignature(line, note_body(checkpoint_note), name, witness.public_key)
    except CheckpointError as exc:
        raise DomainError(BAD_COSIGNATURE, str(exc), field="cosignature") from exc
    return Cosignature(name, timestamp, line)


def cosigned_note(note: str, held: list[Cosignature]) -> str:
    """The log's note with the witnesses' lines after its own signature line."""
    return note + "".join(c.line + "\n" for c in held)


# --- storage --------------------------------------------------------------------------------
async def checkpoint_at(db: Executor, tree_size: int) -> SignedCheckpoint | None:
    row = (
        await db.execute(select(checkpoints).where(checkpoints.c.tree_size == tree_size))
    ).first()
    return SignedCheckpoint(*row) if row else None


async def store(
    db: Executor, tree_size: int, witness: Witness, cosignature: Cosignature, now: datetime
) -> None:
    """Keep one cosignature per (tree size, witness): a repeat replaces the earlier one."""
    await db.execute(
        delete(cosignatures).where(
            cosignatures.c.tree_size == tree_size, cosignatures.c.witness == witness.name
        )
    )
    await db.execute(
        insert(cosignatures).values(
            tree_size=tree_size,
            witness=witness.name,
            key_id=witness.key_id,
            timestamp=cosignature.timestamp,
            line=cosignature.line,
            received_at=now,
        )
    )


async def held(db: Executor, tree_size: int) -> list[Cosignature]:
    rows = await db.execute(
        select(cosignatures.c.witness, cosignatures.c.timestamp, cosignatures.c.line)
        .where(cosignatures.c.tree_size == tree_size)
        .order_by(cosignatures.c.witness)
    )
    return [Cosignature(*row) for row in rows]


async def latest_cosigned(
    db: Executor, quorum: int, witnesses: tuple[Witness, ...]
) -> SignedCheckpoint | None:
    """The latest checkpoint holding at least `quorum` cosignatures by configured keys."""
    if not witnesses:
        return None
    by_configured_key = or_(
        *(
            and_(cosignatures.c.witness == w.name, cosignatures.c.key_id == w.key_id)
            for w in witnesses
        )
    )
    size = await db.scalar(
        select(cosignatures.c.tree_size)
        .where(by_configured_key)
        .group_by(cosignatures.c.tree_size)
        .having(func.count() >= quorum)
        .order_by(cosignatures.c.tree_size.desc())
        .limit(1)
    )
    return None if size is None else await checkpoint_at(db, int(size))
