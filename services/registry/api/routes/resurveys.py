"""Re-surveys that appeals asked for: the operators' work list. An operator visits the
household, records the new survey and decides eligibility again with the household
routes; that decision completes the re-survey and answers the appeal.

Each route reads: parse, authorise, query, reply."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.registry.api import queries
from services.registry.api.deps import Operator
from services.registry.api.schemas import ResurveyOut
from shared.deps import Reads

router = APIRouter(prefix="/households", tags=["households"])


@router.get(
    "/resurveys",
    response_model=list[ResurveyOut],
    summary="Re-surveys appeals asked for: open ones (the work list), or completed ones",
)
async def list_resurveys(
    session: Reads,
    principal: Operator,
    state: Literal["open", "completed"] = "open",
    rw: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ResurveyOut]:
    return await queries.resurveys(session, completed=state == "completed", rw=rw, limit=limit)
