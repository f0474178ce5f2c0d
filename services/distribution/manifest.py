"""What officers hand over: a round's manifest, and the allocation of the person in front
of them, found by the NIK on their KTP.

The manifest names no one (events carry no masked NIK, so neither does this service): an
officer at the posko finds a recipient's allocation by typing the NIK from the KTP, which
the service turns into its keyed commitment and matches against the households' member
commitments. The NIK travels in a POST body, never in a URL that proxies, traces and
browser histories would keep.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, and_, cast, select

from services.distribution.api import READERS
from services.distribution.projections import allocations, rounds
from shared.api import decode_cursor, page, runtime
from shared.auth import Principal, Role, require
from shared.domain import NotFound
from shared.households import households
from shared.pii import commitments

router = APIRouter(tags=["rounds"])
Reader = Annotated[Principal, require(*READERS)]
# Who may ask "has this NIK's household aid in this round?": those who hand aid over.
Finder = Annotated[Principal, require(Role.distribution_officer, Role.programme_manager)]


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nik: str = Field(pattern=r"^\d{16}$", description="typed from the person's KTP")


def _items() -> Any:
    a = allocations.c
    return select(
        a.seq,
        a.allocation_id,
        a.household_id,
        a.rt,
        a.rw,
        a.programme,
        a.amount_idr,
        a.package,
        a.status,
        a.undelivered_reason,
        a.version,
    ).order_by(a.seq)


@router.get("/rounds/{round_id}/manifest", summary="What officers hand over")
async def manifest(
    round_id: UUID,
    request: Request,
    principal: Reader,
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    status: Literal["allocated", "received", "undelivered"] | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    a = allocations.c
    conditions = [a.round_id == round_id, a.seq > decode_cursor(cursor)]
    if rw is not None:
        conditions.append(a.rw == rw)
    if status is not None:
        conditions.append(a.status == status)
    query = _items().where(and_(*conditions)).limit(limit + 1)
    async with runtime(request).reads() as session:
        rows = [dict(r._mapping) for r in await session.execute(query)]
    result = page(rows, limit, "seq")
    for r in result["items"]:
        r.pop("seq")
    return result


@router.post(
    "/rounds/{round_id}/manifest/lookup",
    summary="The allocation of the person in front of the officer, by the NIK on their KTP",
)
async def lookup(
    round_id: UUID, body: LookupIn, request: Request, principal: Finder
) -> dict[str, Any]:
    """Allocations in this round of the households of which the NIK is a member: usually
    one, none if the household was not allocated (or the registry does not know the NIK),
    and more only if the person moved between households that were both allocated."""
    wanted = commitments(request.app.state.settings).nik(body.nik)
    # member_commitments is a JSON list of hex strings: the quoted commitment matches one
    # element exactly, alike on SQLite and PostgreSQL.
    members = cast(households.c.member_commitments, String)
    query = (
        _items()
        .join(households, households.c.household_id == allocations.c.household_id)
        .where(allocations.c.round_id == round_id, members.contains(f'"{wanted}"'))
    )
    async with runtime(request).reads() as session:
        if await session.scalar(select(rounds.c.seq).where(rounds.c.round_id == round_id)) is None:
            raise NotFound("round_not_found", f"no round {round_id}", field="round_id")
        rows = [dict(r._mapping) for r in await session.execute(query)]
    for r in rows:
        r.pop("seq")
    return {"items": rows}
