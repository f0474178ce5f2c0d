"""Erasure (role `admin`): delete what a household's or an aggregate's leaves commit to.

One transaction: the audit.leaves_erased event and its outbox row, the deletion of the
salts and contents, and the request's record (its reference, with the salt of the
commitment the event carries). The leaves, the tree and every proof stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import private
from services.audit.erasure import Erase, Target, erasures
from services.audit.tables import erasures as erasure_records
from shared.api import caller, runtime
from shared.auth import Principal, Role, require
from shared.domain import DomainError
from shared.events import Envelope
from shared.events.audit import LegalBasis
from shared.pii import commitments

router = APIRouter(prefix="/ledger", tags=["erasures"])
Admin = Annotated[Principal, require(Role.admin)]


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    legal_basis: LegalBasis
    reference: str = Field(
        min_length=1, max_length=200, description="the request's reference, e.g. a letter number"
    )
    household_id: UUID | None = None
    aggregate_id: UUID | None = None

    def target(self) -> tuple[Target, UUID]:
        if (self.household_id is None) == (self.aggregate_id is None):
            raise DomainError(
                "one_target_required",
                "give exactly one of household_id and aggregate_id",
                field="household_id",
            )
        if self.household_id is not None:
            return "household", self.household_id
        assert self.aggregate_id is not None
        return "aggregate", self.aggregate_id


@router.post(
    "/erasures",
    status_code=201,
    summary="Erase the sealed contents of a household's or an aggregate's leaves",
)
async def erase(body: ErasureIn, request: Request, principal: Admin) -> dict[str, Any]:
    target, target_id = body.target()
    erasure_id = uuid4()
    reference = commitments(request.app.state.settings).salted("text", body.reference)
    indices: list[int] = []

    async def command(session: AsyncSession) -> Erase:
        indices[:] = await private.matching(session, target, target_id)
        return Erase(body.legal_basis, reference.commitment, target, tuple(indices))

    async def delete_and_record(session: AsyncSession, events: Sequence[Envelope]) -> None:
        now = events[0].occurred_at
        await private.erase(session, indices, erasure_id, now)
        await session.execute(
            insert(erasure_records).values(
                erasure_id=erasure_id,
                legal_basis=body.legal_basis,
                target=target,
                reference=body.reference,
                reference_salt=reference.salt,
                leaves=len(indices),
                requested_by=principal.sub,
                requested_at=now,
            )
        )

    await runtime(request).commands.execute(
        erasures,
        erasure_id,
        command,
        caller(principal),
        must_exist=False,
        also=delete_and_record,
    )
    return {"erasure_id": erasure_id, "leaves": len(indices), "indices": indices}
