"""The ledger's entries (no token): public views and commitments, proofs, search, stats.

Everything an oversight body needs to check the operator without trusting it, and no more:
an entry shows the leaf's public view and its commitment, never what the commitment seals.
All hashes are standard base64. Bad parameters get 400 (or 404 past the tree), never 500.
Each route reads: parse, authorise, query, reply.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query

from services.audit import ledger
from services.audit.api import queries
from services.audit.api.deps import TOKEN_ERRORS, Anyone, TheLedger, require_auditor
from services.audit.api.params import (
    NUMBER_ERRORS,
    IndexText,
    NumberText,
    day,
    day_text,
    number,
    page_size,
)
from services.audit.api.schemas import (
    ConsistencyOut,
    EntriesOut,
    InclusionProofOut,
    SearchOut,
    StatsOut,
)
from services.audit.errors import (
    BEYOND_TREE,
    FIRST_AFTER_SECOND,
    INDEX_BEYOND_TREE,
    NO_CHECKPOINT,
    NOT_A_DAY,
    PARAMETER_REQUIRED,
)
from shared.deps import Reads
from shared.domain import DomainError
from shared.errors import errors

router = APIRouter(prefix="/ledger", tags=["ledger"])


@router.get(
    "/entries",
    response_model=EntriesOut,
    summary="Entries in index order: public views, commitments, leaf bytes",
    responses=errors(*NUMBER_ERRORS),
)
async def entries(session: Reads, start: NumberText = None, limit: NumberText = None) -> EntriesOut:
    return await queries.entries(session, number(start, "start", default=0), page_size(limit))


@router.get(
    "/entries/{index}/proof",
    response_model=InclusionProofOut,
    summary="RFC 9162 inclusion proof, leaf to root",
    responses=errors(*NUMBER_ERRORS, BEYOND_TREE, INDEX_BEYOND_TREE, NO_CHECKPOINT),
)
async def inclusion_proof(
    index: IndexText, session: Reads, tree_size: NumberText = None
) -> InclusionProofOut:
    position = number(index, "index")
    size = await ledger.committed_size(session)
    default = (await queries.latest(session)).tree_size
    at = number(tree_size, "tree_size", default=default, minimum=1)
    if at > size:
        raise DomainError(
            BEYOND_TREE, f"tree_size {at} is beyond the tree ({size})", field="tree_size"
        )
    if position >= at:
        raise DomainError(
            INDEX_BEYOND_TREE, f"index {position} is not in a tree of size {at}", field="index"
        )
    return await queries.inclusion_proof(session, position, at)


@router.get(
    "/consistency",
    response_model=ConsistencyOut,
    summary="RFC 9162 consistency proof between two tree sizes",
    responses=errors(
        PARAMETER_REQUIRED, *NUMBER_ERRORS, FIRST_AFTER_SECOND, BEYOND_TREE, NO_CHECKPOINT
    ),
)
async def consistency(
    session: Reads, first: NumberText = None, second: NumberText = None
) -> ConsistencyOut:
    m = number(first, "first", minimum=1)
    size = await ledger.committed_size(session)
    n = number(second, "second", default=(await queries.latest(session)).tree_size, minimum=1)
    if m > n:
        raise DomainError(FIRST_AFTER_SECOND, f"first ({m}) must be <= second ({n})", field="first")
    if n > size:
        raise DomainError(BEYOND_TREE, f"second {n} is beyond the tree ({size})", field="second")
    return await queries.consistency_proof(session, m, n)


@router.get(
    "/search",
    response_model=SearchOut,
    summary="Entries by type and day (public); by aggregate or actor (auditor token)",
    responses=errors(*NUMBER_ERRORS, NOT_A_DAY, *TOKEN_ERRORS),
)
async def search(
    session: Reads,
    principal: Anyone,
    type: str | None = Query(default=None, max_length=80),
    since: str | None = day_text("first day, YYYY-MM-DD (Jakarta)"),
    until: str | None = day_text("last day, YYYY-MM-DD (Jakarta)"),
    aggregate_id: UUID | None = Query(default=None, description="auditors only"),
    actor: str | None = Query(default=None, max_length=120, description="auditors only"),
    cursor: NumberText = None,
    limit: NumberText = None,
) -> SearchOut:
    if aggregate_id is not None or actor is not None:
        # Which events concern one household, or one officer, is not public.
        require_auditor(principal, "searching by aggregate_id or actor")
    return await queries.search(
        session,
        after=number(cursor, "cursor", default=0) - 1 if cursor else -1,
        limit=page_size(limit),
        type=type,
        since=day(since, "since"),
        until=day(until, "until"),
        aggregate_id=aggregate_id,
        actor=actor,
    )


@router.get(
    "/stats",
    response_model=StatsOut,
    summary="Tree size, stream cursor, last checkpoint, flagged leaves",
)
async def stats(session: Reads, running: TheLedger) -> StatsOut:
    return await queries.stats(session, running)
