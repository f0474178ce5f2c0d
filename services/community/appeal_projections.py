"""The appeals read model, projected from the community's appeal events in the command's
(or the consumer's) transaction and rebuilt with the other projections. An appeal is found
by its tracking code's commitment; the code itself is shown once and kept nowhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.community.errors import APPEAL_CODE_COLLISION
from shared.db import BigId, UTCDateTime, versioned_update
from shared.events import Envelope
from shared.events.community_appeals import (
    AppealDecided,
    AppealFiled,
    AppealResurveyScheduled,
    AppealUnmatched,
)
from shared.uow import Unique

metadata = MetaData()

appeals = Table(
    "appeals",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("appeal_id", Uuid, nullable=False, unique=True),
    Column("code_commitment", String(64), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("rw", String(2), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("outcome", String(12)),
    Column("filed_at", UTCDateTime(), nullable=False),
    Column("scheduled_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("version", Integer, nullable=False),
    # Named, so that a tracking code drawn twice is told apart from other conflicts.
    UniqueConstraint("code_commitment", name="uq_appeals_code_commitment"),
)
CONSTRAINTS = {
    "uq_appeals_code_commitment": Unique(
        APPEAL_CODE_COLLISION, "a tracking code was drawn twice; try again"
    )
}


def _appeal(envelope: Envelope, **values: Any) -> Any:
    return versioned_update(appeals.c.appeal_id, envelope, **values)


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    at = envelope.occurred_at
    match envelope.typed():
        case AppealFiled() as e:
            await session.execute(
                insert(appeals).values(
                    appeal_id=envelope.aggregate_id,
                    code_commitment=e.code_commitment,
                    reason=e.reason,
                    rw=e.rw,
                    status="acknowledged",
                    filed_at=at,
                    version=envelope.aggregate_version,
                )
            )
        case AppealResurveyScheduled():
            await session.execute(_appeal(envelope, status="resurvey_scheduled", scheduled_at=at))
        case AppealDecided() as e:
            await session.execute(
                _appeal(envelope, status="decided", outcome=e.outcome, closed_at=at)
            )
        case AppealUnmatched():
            await session.execute(_appeal(envelope, status="unmatched", closed_at=at))
