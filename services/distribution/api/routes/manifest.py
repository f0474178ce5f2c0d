"""What officers hand over: a round's manifest, and the allocation of the person in front
of them, found by the NIK on their KTP.

The manifest names no one (events carry no masked NIK, so neither does this service): an
officer at the posko finds a recipient's allocation by typing the NIK from the KTP, which
the service turns into its keyed commitment and matches against the households' member
commitments. The NIK travels in a POST body, never in a URL that proxies, traces and
browser histories would keep.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.distribution.api import queries
from services.distribution.api.deps import AllocationReader, Finder, Settings
from services.distribution.api.schemas import AllocationStatus, LookupIn, LookupOut, ManifestItem
from services.distribution.errors import ROUND_NOT_FOUND
from shared.deps import Cursor, Page, Reads, decode_cursor, page
from shared.domain import DomainError
from shared.errors import CURSOR_INVALID, errors
from shared.pii import commitments

router = APIRouter(tags=["rounds"])


@router.get(
    "/rounds/{round_id}/manifest",
    response_model=Page[ManifestItem],
    summary="What officers hand over",
    responses=errors(CURSOR_INVALID),
)
async def manifest(
    round_id: UUID,
    session: Reads,
    principal: AllocationReader,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    status: AllocationStatus | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[ManifestItem]:
    rows = await queries.manifest(
        session, round_id, after=decode_cursor(cursor), limit=limit, rw=rw, status=status
    )
    return page(rows, limit)


@router.post(
    "/rounds/{round_id}/manifest/lookup",
    response_model=LookupOut,
    summary="The allocation of the person in front of the officer, by the NIK on their KTP",
    responses=errors(ROUND_NOT_FOUND),
)
async def lookup(
    round_id: UUID, form: LookupIn, session: Reads, settings: Settings, principal: Finder
) -> LookupOut:
    """Allocations in this round of the households of which the NIK is a member: usually
    one, none if the household was not allocated (or the registry does not know the NIK),
    and more only if the person moved between households that were both allocated."""
    if not await queries.round_known(session, round_id):
        raise DomainError(ROUND_NOT_FOUND, f"no round {round_id}", field="round_id")
    wanted = commitments(settings).nik(form.nik)
    return LookupOut(items=await queries.allocations_of_member(session, round_id, wanted))
