"""Erasure (role `admin`): delete what a household's or an aggregate's leaves commit to.
The leaves, the tree and every proof stay as they were (handlers.erase says how)."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit import handlers
from services.audit.api.deps import TOKEN_ERRORS, AdminWork, Settings
from services.audit.api.schemas import ErasureIn, ErasureOut
from services.audit.errors import ERASURE_DONE, NO_MATCHING_LEAVES, ONE_TARGET_REQUIRED
from shared.errors import errors
from shared.pii import commitments

router = APIRouter(prefix="/ledger", tags=["erasures"])


@router.post(
    "/erasures",
    status_code=201,
    response_model=ErasureOut,
    summary="Erase the sealed contents of a household's or an aggregate's leaves",
    responses=errors(*TOKEN_ERRORS, ONE_TARGET_REQUIRED, NO_MATCHING_LEAVES, ERASURE_DONE),
)
async def erase(form: ErasureIn, uow: AdminWork, settings: Settings) -> ErasureOut:
    erased = await handlers.erase(uow, form, commitments(settings))
    return ErasureOut(
        erasure_id=erased.erasure_id, leaves=len(erased.indices), indices=erased.indices
    )
