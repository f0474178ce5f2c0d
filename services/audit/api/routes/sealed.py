"""Sealed openings (role `auditor`; `admin` passes): what a leaf's commitment covers.

An opening is the salt and the exact bytes a leaf's commitment covers; an auditor checks
SHA-256(salt || content) against the leaf's `sealed` and recomputes its public view with
the published rule (`bansos verify --sealed`). An erased leaf answers 410. Every opening
is logged (`bansos.audit.openings`: who, which leaves).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

from services.audit.api import queries
from services.audit.api.deps import TOKEN_ERRORS, Auditor
from services.audit.api.params import NUMBER_ERRORS, IndexText, NumberText, number, page_size
from services.audit.api.schemas import OpeningOut, OpeningsOut
from services.audit.errors import INDEX_BEYOND_TREE, LEAF_ERASED
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import errors

router = APIRouter(prefix="/ledger", tags=["auditor"])
log = logging.getLogger("bansos.audit.openings")


@router.get(
    "/entries/{index}/sealed",
    response_model=OpeningOut,
    summary="Open one leaf: its salt and sealed content",
    responses=errors(*TOKEN_ERRORS, *NUMBER_ERRORS, INDEX_BEYOND_TREE, LEAF_ERASED),
)
async def opening(index: IndexText, session: Reads, principal: Auditor) -> OpeningOut:
    position = number(index, "index")
    size, row = await queries.sealed_row(session, position)
    if row is None:
        raise DomainError(
            INDEX_BEYOND_TREE, f"index {position} is not in the tree ({size})", field="index"
        )
    log.info("%s (%s) opened leaf %d", principal.sub, principal.role.value, position)
    if row.erased_at is not None:
        raise DomainError(
            LEAF_ERASED,
            f"leaf {position} was erased on {row.erased_at:%Y-%m-%d} by erasure "
            f"{row.erasure_id}: its commitment can no longer be opened",
            field="index",
        )
    return queries.opening(row)


@router.get(
    "/sealed",
    response_model=OpeningsOut,
    summary="Open leaves in index order; erased ones say so",
    responses=errors(*TOKEN_ERRORS, *NUMBER_ERRORS),
)
async def openings(
    session: Reads, principal: Auditor, start: NumberText = None, limit: NumberText = None
) -> OpeningsOut:
    first = number(start, "start", default=0)
    opened = await queries.openings(session, first, page_size(limit))
    log.info(
        "%s (%s) opened leaves from %d, %d",
        principal.sub,
        principal.role.value,
        first,
        len(opened.entries),
    )
    return opened
